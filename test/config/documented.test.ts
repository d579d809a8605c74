// Every environment variable the gateway reads is listed in .env.example and in the README's configuration table.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { EnvSchema } from '../../src/config/env.js'

const root = new URL('../../', import.meta.url)
const variables = Object.keys(EnvSchema.properties)

describe('configuration docs', () => {
  it('lists every variable of the env schema in .env.example', () => {
    const example = readFileSync(new URL('.env.example', root), 'utf8')
    const missing = variables.filter((name) => !new RegExp(`^#? ?${name}=`, 'm').test(example))
    expect(missing).toEqual([])
  })

  it('documents every variable of the env schema in the README', () => {
    const readme = readFileSync(new URL('README.md', root), 'utf8')
    const missing = variables.filter((name) => !readme.includes(`\`${name}\``))
    expect(missing).toEqual([])
  })
})
