// Checks that the simulator serves Fluent's schema (the project's snapshot, which test/fluent/schema.test.ts holds to the reference): same types, kinds, fields, arguments and nullability.
import { describe, expect, it } from 'vitest'
import {
  buildSchema, isEnumType, isInputObjectType, isInterfaceType, isNonNullType, isObjectType,
  isScalarType, isUnionType, parse, validate, type GraphQLArgument, type GraphQLNamedType, type GraphQLSchema
} from 'graphql'
import { fluentSchema } from '../../src/fluent/schema.js'
import { servedSchema } from '../../src/simulator/schema.js'

const simulatorSchema = servedSchema()
const simulatorTypes = Object.values(simulatorSchema.getTypeMap())
  .filter((type) => !type.name.startsWith('__'))
  .map((type) => [type.name, type] as const)

function kindOf (type: GraphQLNamedType): string {
  if (isObjectType(type)) return 'OBJECT'
  if (isInterfaceType(type)) return 'INTERFACE'
  if (isUnionType(type)) return 'UNION'
  if (isEnumType(type)) return 'ENUM'
  if (isInputObjectType(type)) return 'INPUT_OBJECT'
  if (isScalarType(type)) return 'SCALAR'
  return 'UNKNOWN'
}

function isRequired (arg: GraphQLArgument): boolean {
  return isNonNullType(arg.type) && arg.defaultValue === undefined
}

// Every difference between one simulator type and the real type of that name, as readable lines.
function differences (simulated: GraphQLNamedType, real: GraphQLSchema): string[] {
  const name = simulated.name
  const actual = real.getType(name)
  if (actual === undefined || actual === null) return [`${name}: not in Fluent's schema`]
  if (kindOf(actual) !== kindOf(simulated)) return [`${name}: ${kindOf(simulated)} here, ${kindOf(actual)} in Fluent`]
  const problems: string[] = []

  if ((isObjectType(simulated) || isInterfaceType(simulated)) && (isObjectType(actual) || isInterfaceType(actual))) {
    const realFields = actual.getFields()
    for (const field of Object.values(simulated.getFields())) {
      const realField = realFields[field.name]
      if (realField === undefined) {
        problems.push(`${name}.${field.name}: not in Fluent`)
        continue
      }
      if (String(field.type) !== String(realField.type)) {
        problems.push(`${name}.${field.name}: ${String(field.type)} here, ${String(realField.type)} in Fluent`)
      }
      for (const arg of field.args) {
        const realArg = realField.args.find((candidate) => candidate.name === arg.name)
        if (realArg === undefined) problems.push(`${name}.${field.name}(${arg.name}): not in Fluent`)
        else if (String(arg.type) !== String(realArg.type)) {
          problems.push(`${name}.${field.name}(${arg.name}): ${String(arg.type)} here, ${String(realArg.type)} in Fluent`)
        }
      }
      // Omitting a required argument would let documents through that Fluent rejects.
      for (const realArg of realField.args.filter(isRequired)) {
        if (!field.args.some((arg) => arg.name === realArg.name)) {
          problems.push(`${name}.${field.name}(${realArg.name}): required in Fluent, missing here`)
        }
      }
    }
    const realInterfaces = actual.getInterfaces().map((type) => type.name)
    for (const implemented of simulated.getInterfaces()) {
      if (!realInterfaces.includes(implemented.name)) problems.push(`${name}: Fluent's type does not implement ${implemented.name}`)
    }
  }

  // Input types must be complete: a caller may set any field Fluent accepts.
  if (isInputObjectType(simulated) && isInputObjectType(actual)) {
    const simulatedFields = simulated.getFields()
    const realFields = actual.getFields()
    for (const field of Object.values(realFields)) {
      const mine = simulatedFields[field.name]
      if (mine === undefined) problems.push(`${name}.${field.name}: in Fluent, missing here`)
      else if (String(mine.type) !== String(field.type)) {
        problems.push(`${name}.${field.name}: ${String(mine.type)} here, ${String(field.type)} in Fluent`)
      }
    }
    for (const field of Object.keys(simulatedFields)) {
      if (realFields[field] === undefined) problems.push(`${name}.${field}: not in Fluent`)
    }
  }

  if (isEnumType(simulated) && isEnumType(actual)) {
    const values = (type: typeof simulated): string[] => type.getValues().map((value) => value.name).sort()
    if (values(simulated).join() !== values(actual).join()) problems.push(`${name}: enum values differ from Fluent's`)
  }

  if (isUnionType(simulated) && isUnionType(actual)) {
    const members = actual.getTypes().map((type) => type.name)
    for (const member of simulated.getTypes()) {
      if (!members.includes(member.name)) problems.push(`${name}: ${member.name} is not a member in Fluent`)
    }
  }
  return problems
}

// Documents like the ones the gateway sends; each must be valid against both schemas.
const gatewayDocuments = {
  me: '{ me { id ref username firstName lastName primaryEmail status primaryRetailer { id ref } } }',
  createCustomer: `mutation ($input: CreateCustomerInput) { createCustomer(input: $input) {
    id ref status username primaryEmail firstName lastName timezone promotionOptIn createdOn updatedOn
    attributes { name type value } retailer { id ref }
  } }`,
  customers: `query ($emails: [String], $first: Int, $after: String) {
    customers(primaryEmail: $emails, first: $first, after: $after) {
      edges { cursor node { id ref primaryEmail } } pageInfo { hasNextPage hasPreviousPage }
    }
  }`,
  customerById: 'query ($id: ID!) { customerById(id: $id) { id username retailer { id } } }',
  createStandardProduct: `mutation ($input: CreateStandardProductInput) { createStandardProduct(input: $input) {
    id ref type status gtin name summary prices { type currency value } attributes { name type value }
    catalogue { ref name } tax { country group tariff }
  } }`,
  standardProduct: '{ standardProduct(ref: "SKU-1", catalogue: { ref: "PC:MASTER:1" }) { id name catalogue { ref } } }'
}

const realSchema = fluentSchema()

describe('simulator schema against the real Fluent schema', () => {
  it('serves every type of Fluent\'s schema', () => {
    const names = (schema: GraphQLSchema): string[] => Object.keys(schema.getTypeMap()).sort()
    expect(names(simulatorSchema)).toEqual(names(realSchema))
    expect(simulatorTypes.length).toBeGreaterThan(400)
  })

  it('uses the same root operation types', () => {
    expect(simulatorSchema.getQueryType()?.name).toBe(realSchema.getQueryType()?.name)
    expect(simulatorSchema.getMutationType()?.name).toBe(realSchema.getMutationType()?.name)
  })

  it.each(simulatorTypes)('declares %s exactly as Fluent does', (_name, type) => {
    expect(differences(type, realSchema)).toEqual([])
  })

  it('spots a field whose nullability differs from Fluent', () => {
    const wrong = buildSchema('type Customer { id: ID, username: String! } type Query { me: Customer }')
    expect(differences(wrong.getType('Customer') as GraphQLNamedType, realSchema)).toEqual([
      'Customer.id: ID here, ID! in Fluent',
      'Customer.username: String! here, String in Fluent'
    ])
  })

  it('has no endCursor on PageInfo, like Fluent', () => {
    const fields = (schema: GraphQLSchema): string[] => {
      const pageInfo = schema.getType('PageInfo')
      return isObjectType(pageInfo) ? Object.keys(pageInfo.getFields()).sort() : []
    }
    expect(fields(simulatorSchema)).toEqual(fields(realSchema))
    expect(fields(simulatorSchema)).not.toContain('endCursor')
  })

  it.each(Object.entries(gatewayDocuments))('validates the gateway-style %s document in both schemas', (_name, source) => {
    const document = parse(source)
    expect(validate(simulatorSchema, document).map((error) => error.message)).toEqual([])
    expect(validate(realSchema, document).map((error) => error.message)).toEqual([])
  })
})
