// Fluent product operations: createStandardProduct, its document built once.
import type { Attribute } from '../schemas/common.js'
import type { Caller } from './view.js'

export interface FluentPrice {
  type: string
  currency: string
  value: number
}

export interface FluentProduct {
  id: string
  ref: string
  type: string
  status?: string | null
  gtin: string
  name: string
  summary?: string | null
  prices?: FluentPrice[] | null
  attributes?: Attribute[] | null
  catalogue?: { ref: string } | null
  createdOn?: string | null
  updatedOn?: string | null
}

/** CreateStandardProductInput as Fluent names it; optional keys are absent, never empty strings. */
export interface CreateStandardProductInput {
  ref: string
  catalogue: { ref: string }
  type: string
  gtin: string
  name: string
  summary?: string
  prices?: FluentPrice[]
  attributes?: Attribute[]
  categories?: Array<{ ref: string, catalogue: { ref: string } }>
}

const PRODUCT_FIELDS = `id ref type status gtin name summary prices { type currency value } attributes { name type value }
    catalogue { ref } createdOn updatedOn`

export const CREATE_STANDARD_PRODUCT = `mutation CreateStandardProduct($input: CreateStandardProductInput) {
  createStandardProduct(input: $input) {
    ${PRODUCT_FIELDS}
  }
}`

export const STANDARD_PRODUCT = `query StandardProduct($ref: String!, $catalogueRef: String!) {
  standardProduct(ref: $ref, catalogue: { ref: $catalogueRef }) {
    ${PRODUCT_FIELDS}
  }
}`

export const products = {
  async create (fluent: Caller, input: CreateStandardProductInput): Promise<FluentProduct | null> {
    const data = await fluent.data<{ createStandardProduct: FluentProduct | null }>({
      query: CREATE_STANDARD_PRODUCT, variables: { input }, operationName: 'CreateStandardProduct', kind: 'mutation'
    })
    return data.createStandardProduct
  },

  /** The standard product with this ref in this catalogue, or null. */
  async byRef (fluent: Caller, ref: string, catalogueRef: string): Promise<FluentProduct | null> {
    const data = await fluent.data<{ standardProduct: FluentProduct | null }>({
      query: STANDARD_PRODUCT, variables: { ref, catalogueRef }, operationName: 'StandardProduct', kind: 'query'
    })
    return data.standardProduct
  }
}
