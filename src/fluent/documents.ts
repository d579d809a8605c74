// Every GraphQL document the gateway's built-in routes send, in one list: routes:check and the live schema check
// validate each of them. A resource file's new document is one more line here.
import { GraphQLError, Kind, parse, validate, type GraphQLSchema } from 'graphql'
import { CREATE_CUSTOMER, CUSTOMER_BY_ID, CUSTOMER_BY_USERNAME, CUSTOMERS } from './customers.js'
import { FULFILMENT_BY_ID, FULFILMENTS } from './fulfilments.js'
import { INVENTORY_POSITIONS, SEARCH_VIRTUAL_INVENTORY } from './inventory.js'
import { LOCATION_BY_REF, LOCATIONS } from './locations.js'
import { ME } from './me.js'
import { CREATE_ORDER, ORDER_BY_REF, ORDERS } from './orders.js'
import { CREATE_STANDARD_PRODUCT, STANDARD_PRODUCT } from './products.js'

/** By the name of the constant holding it. */
export const BUILT_IN_DOCUMENTS: Readonly<Record<string, string>> = {
  ME,
  CREATE_CUSTOMER,
  CUSTOMER_BY_ID,
  CUSTOMERS,
  CUSTOMER_BY_USERNAME,
  CREATE_STANDARD_PRODUCT,
  STANDARD_PRODUCT,
  CREATE_ORDER,
  ORDER_BY_REF,
  ORDERS,
  FULFILMENT_BY_ID,
  FULFILMENTS,
  LOCATION_BY_REF,
  LOCATIONS,
  INVENTORY_POSITIONS,
  SEARCH_VIRTUAL_INVENTORY
}

/** A document the gateway may send, by the name it is sent (and counted, and refused) under. */
export interface GatewayDocument {
  /** The operationName of a built-in document; the operationId of an operator route. */
  name: string
  document: string
}

/** The operation name of a document's (first) operation; undefined when it has none or does not parse. */
export function operationNameOf (document: string): string | undefined {
  try {
    const operation = parse(document, { noLocation: true }).definitions.find((definition) => definition.kind === Kind.OPERATION_DEFINITION)
    return operation?.kind === Kind.OPERATION_DEFINITION ? operation.name?.value : undefined
  } catch {
    return undefined
  }
}

/** The built-in documents, each under its operationName (the name the client sends and refuses it by). */
export function builtInDocuments (): GatewayDocument[] {
  return Object.entries(BUILT_IN_DOCUMENTS).map(([constant, document]) => ({ name: operationNameOf(document) ?? constant, document }))
}

/** What graphql-js finds wrong with a document against a schema: syntax, unknown fields, argument types; empty when it fits. */
export function documentProblems (schema: GraphQLSchema, document: string): string[] {
  let parsed
  try {
    parsed = parse(document, { noLocation: true })
  } catch (error) {
    return [error instanceof GraphQLError ? error.message : String(error)]
  }
  return validate(schema, parsed).map((error) => error.message)
}
