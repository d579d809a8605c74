// openapi.yaml is what the gateway serves: a route schema change without `npm run openapi` fails here.
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { OPENAPI_YAML_PATH, buildDocumentedApp, renderOpenapiYaml } from '../../src/cli/openapi.js'

describe('openapi.yaml', () => {
  it('matches the document served at /openapi.json', async () => {
    const app = await buildDocumentedApp()
    try {
      const response = await app.inject({ method: 'GET', url: '/openapi.json' })
      expect(response.statusCode).toBe(200)
      const committed: unknown = parse(await readFile(OPENAPI_YAML_PATH, 'utf8'))
      expect(response.json(), 'openapi.yaml is out of date with the route schemas: run `npm run openapi` and commit it').toEqual(committed)
    } finally {
      await app.close()
    }
  })

  it('is generated the same way twice, with nothing random in it', async () => {
    const first = await renderOpenapiYaml()
    expect(await renderOpenapiYaml()).toBe(first)
    // A schema named by registration order (def-N) would be renamed by any new route: shared schemas need an $id.
    expect(first).not.toMatch(/#\/components\/schemas\/def-\d+/)
  })
})
