// The Fluent simulator's GraphQL schema: a subset of Fluent's real 23.10 schema, every type, field and argument copied exactly.

// Kept as a string (not a .graphql file) because tsc does not copy assets to dist/.
// Interfaces (Node, Referenceable, ...) and connection fields the gateway never asks for
// are left out; test/simulator/schema.test.ts checks the rest against the real schema.
export const simulatorSdl = /* GraphQL */ `
scalar DateTime

scalar Json

type Query {
  me: User
  customerById(id: ID!): Customer
  customer(ref: String!): Customer
  customers(
    ref: [String]
    status: [String]
    createdOn: DateRange
    updatedOn: DateRange
    title: [String]
    department: [String]
    country: [String]
    firstName: [String]
    lastName: [String]
    username: [String]
    primaryEmail: [String]
    primaryPhone: [String]
    timezone: [String]
    promotionOptIn: [Boolean]
    first: Int
    last: Int
    before: String
    after: String
  ): CustomerConnection
  retailerById(id: ID!): Retailer
  productCatalogue(ref: String!): ProductCatalogue
  standardProduct(ref: String!, catalogue: ProductCatalogueKey!): StandardProduct
}

type Mutation {
  createCustomer(input: CreateCustomerInput): Customer
  createStandardProduct(input: CreateStandardProductInput): StandardProduct
}

type User {
  id: ID!
  ref: String!
  username: String!
  title: String
  firstName: String
  lastName: String
  primaryEmail: String
  primaryPhone: String
  type: String!
  status: String
  attributes: [Attribute]
  department: String
  country: String
  timezone: String
  promotionOptIn: Boolean
  primaryRetailer: Retailer
  createdOn: DateTime
  updatedOn: DateTime
}

type Customer {
  id: ID!
  ref: String
  status: String
  createdOn: DateTime
  updatedOn: DateTime
  attributes: [Attribute]
  title: String
  department: String
  country: String
  firstName: String
  lastName: String
  username: String
  primaryEmail: String
  primaryPhone: String
  timezone: String
  promotionOptIn: Boolean
  retailer: Retailer
}

type CustomerConnection {
  edges: [CustomerEdge]
  pageInfo: PageInfo
}

type CustomerEdge {
  node: Customer
  cursor: String
}

type PageInfo {
  hasPreviousPage: Boolean
  hasNextPage: Boolean
}

type Attribute {
  name: String!
  type: String!
  value: Json!
}

type Retailer {
  id: ID!
  createdOn: DateTime
  updatedOn: DateTime
  status: String
  ref: String!
  summary: String
  websiteUrl: String
  websiteUrlName: String
  primaryEmail: String
  supportContactName: String
  supportEmail: String
  supportPhone: String
  tradingName: String
}

type ProductCatalogue {
  id: ID!
  createdOn: DateTime
  updatedOn: DateTime
  ref: String!
  type: String!
  workflowRef: String!
  workflowVersion: Int!
  status: String
  attributes: [Attribute]
  name: String!
  description: String
  retailerRefs: [String]
}

type StandardProduct {
  id: ID!
  createdOn: DateTime
  updatedOn: DateTime
  ref: String!
  type: String!
  workflowRef: String!
  workflowVersion: Int!
  status: String
  attributes: [Attribute]
  gtin: String!
  name: String!
  summary: String
  prices: [Price]
  tax: TaxType
  catalogue: ProductCatalogue!
}

type Price {
  type: String!
  currency: String!
  value: Float!
}

type TaxType {
  country: String!
  group: String!
  tariff: String
}

input DateRange {
  from: DateTime
  to: DateTime
}

input AttributeInput {
  name: String!
  type: String!
  value: Json!
}

input RetailerId {
  id: ID!
}

input ProductCatalogueKey {
  ref: String!
}

input CategoryKey {
  ref: String!
  catalogue: ProductCatalogueKey!
}

input VariantProductKey {
  ref: String
  catalogue: ProductCatalogueKey!
}

input PriceInput {
  type: String!
  currency: String!
  value: Float!
}

input TaxTypeInput {
  country: String!
  group: String!
  tariff: String!
}

input CreateCustomerInput {
  username: String!
  attributes: [AttributeInput]
  title: String
  department: String
  country: String
  firstName: String
  lastName: String
  primaryEmail: String!
  primaryPhone: String
  timezone: String!
  promotionOptIn: Boolean!
  retailer: RetailerId!
}

input CreateStandardProductInput {
  ref: String!
  catalogue: ProductCatalogueKey!
  type: String!
  attributes: [AttributeInput]
  gtin: String!
  name: String!
  summary: String
  categories: [CategoryKey]
  prices: [PriceInput]
  taxType: TaxTypeInput
  variants: [VariantProductKey]
}
`
