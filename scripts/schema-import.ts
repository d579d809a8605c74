// Writes schema/fluent.graphql, a facts-only snapshot of Fluent's GraphQL schema, from an introspection result: names and types, no prose.
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { factsOnlySdl } from '../src/fluent/schema.js'

const source = process.argv[2]
if (source === undefined) {
  console.error('usage: npm run schema:import -- <introspection.json>')
  process.exit(2)
}
const target = fileURLToPath(new URL('../schema/fluent.graphql', import.meta.url))
const sdl = factsOnlySdl(JSON.parse(readFileSync(source, 'utf8')))
writeFileSync(target, sdl)
console.log(`schema-import: wrote ${target} (${Buffer.byteLength(sdl)} bytes) from ${source}`)
