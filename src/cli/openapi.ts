// `npm run openapi`: rewrites openapi.yaml at the repo root from the route schemas, the same document /openapi.json serves.
import { writeFile } from 'node:fs/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../app.js'
import { buildConfig } from '../config/index.js'

/** Where the committed document lives: the repo root, from src/cli or dist/cli alike. */
export const OPENAPI_YAML_PATH = fileURLToPath(new URL('../../openapi.yaml', import.meta.url))

const HEADER = '# Generated from the route schemas by `npm run openapi`; do not edit (test/openapi/drift.test.ts checks it).\n'

/**
 * The app as it documents itself: no Redis, one placeholder tenant that is never called, silent logs.
 * Nothing in it is random, so two runs give the same document.
 */
export async function buildDocumentedApp (): Promise<FastifyInstance> {
  const config = buildConfig({
    env: { LOG_LEVEL: 'silent', SCHEMA_CHECK_INTERVAL_MS: '0' },
    tenants: {
      tenants: [{
        id: 'openapi',
        apiKeys: [`sha256:${'0'.repeat(64)}`],
        fluent: { baseUrl: 'http://127.0.0.1:9', clientId: 'unused', clientSecret: 'unused', username: 'unused', password: 'unused' }
      }]
    }
  })
  const app = await buildApp(config)
  await app.ready()
  return app
}

export async function renderOpenapiYaml (): Promise<string> {
  const app = await buildDocumentedApp()
  try {
    return HEADER + app.swagger({ yaml: true })
  } finally {
    await app.close()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await writeFile(OPENAPI_YAML_PATH, await renderOpenapiYaml())
  console.log(`wrote ${OPENAPI_YAML_PATH}`)
}
