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

export const CREATE_STANDARD_PRODUCT = `mutation CreateStandardProduct($input: CreateStandardProductInput) {
  createStandardProduct(input: $input) {
    id ref type status gtin name summary prices { type currency value } attributes { name type value }
    catalogue { ref } createdOn updatedOn
  }
}`

export const products = {
  async create (fluent: Caller, input: CreateStandardProductInput): Promise<FluentProduct | null> {
    const data = await fluent.data<{ createStandardProduct: FluentProduct | null }>({
      query: CREATE_STANDARD_PRODUCT, variables: { input }, operationName: 'CreateStandardProduct', kind: 'mutation'
    })
    return data.createStandardProduct
  }
}
