// The facts-only snapshot of Fluent's schema (schema/fluent.graphql): equal to the reference introspection less its prose, and complete.
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { isObjectType, printSchema, type GraphQLField } from 'graphql'
import { describe, expect, it } from 'vitest'
import { factsOnlySdl, fluentSchema, fluentSdl } from '../../src/fluent/schema.js'

const referencePath = fileURLToPath(new URL('../../../shared/fluent-schema/schema.json', import.meta.url))
const hasReference = existsSync(referencePath)

describe('Fluent schema snapshot', () => {
  // The reference introspection is Fluent's own file, kept beside DESIGN.md and never in the repository; without it only this comparison cannot run.
  it.skipIf(!hasReference)('equals the reference introspection with descriptions and deprecation reasons stripped', () => {
    const reference = JSON.parse(readFileSync(referencePath, 'utf8')) as unknown
    expect(fluentSdl()).toBe(factsOnlySdl(reference))
  })

  it('carries no description or comment text', () => {
    expect(fluentSdl()).not.toContain('"""')
    expect(fluentSdl()).not.toMatch(/^\s*#/m)
    expect(fluentSdl()).not.toMatch(/^\s*"/m)
    expect(fluentSdl()).not.toMatch(/@deprecated\(/)
  })

  it('holds every type, root field and deprecation flag of release 23.10', () => {
    const schema = fluentSchema()
    const named = Object.keys(schema.getTypeMap()).filter((name) => !name.startsWith('__'))
    expect(named).toHaveLength(474)
    expect(Object.keys(schema.getQueryType()?.getFields() ?? {})).toHaveLength(128)
    expect(Object.keys(schema.getMutationType()?.getFields() ?? {})).toHaveLength(104)
    const deprecated = Object.values(schema.getTypeMap()).flatMap((type) =>
      isObjectType(type) ? Object.values(type.getFields() as Record<string, GraphQLField<unknown, unknown>>) : [])
      .filter((field) => field.deprecationReason != null)
    expect(deprecated.length).toBeGreaterThan(0)
    expect(schema.getType('Location')?.toString()).toBe('Location')
  })

  it('prints back to itself, so a rebuild from it loses nothing', () => {
    expect(printSchema(fluentSchema()) + '\n').toBe(fluentSdl())
  })

  it('has no endCursor on PageInfo, like Fluent', () => {
    const pageInfo = fluentSchema().getType('PageInfo')
    expect(isObjectType(pageInfo) ? Object.keys(pageInfo.getFields()).sort() : []).toEqual(['hasNextPage', 'hasPreviousPage'])
  })
})
