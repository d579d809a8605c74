// Public types of the Fluent simulator: options, fault switches, counters and request records.
import type { WebhookSender } from './webhooks.js'

export interface SimulatorAccount {
  clientId: string
  clientSecret: string
  username: string
  password: string
  retailerId?: string
}

export interface SimulatorOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number
  /** Interface to bind; default 127.0.0.1. */
  host?: string
  /** Accounts the token endpoint accepts; default one demo account. */
  accounts?: SimulatorAccount[]
  /** expires_in of issued tokens; default 86400. */
  tokenTtlSeconds?: number
  /** Seed the demo locations, products, stock, availability, customer and order (DEMO_SEED); default false. */
  demoData?: boolean
  /** Delays between webhook retries; default Fluent's (immediately, then 2, 4, 8 s). */
  webhookRetryDelaysMs?: number[]
  /** How long a job batch stays in each of PENDING and RUNNING before it is COMPLETE; default 100 ms. */
  jobStepMs?: number
}

/** A failure for Fluent's REST APIs (Event, Job/Batch): like a GraphqlFailure, optionally aimed at some requests only. */
export interface RestFailure extends GraphqlFailure {
  /** A regular expression over "METHOD /path" (e.g. "^POST /api/v4.1/job/\\d+/batch$"); default every REST request. */
  match?: string
  /** How many matching requests pass through untouched before this entry starts answering; default 0. */
  skip?: number
}

export interface GraphqlFailure {
  status: number
  body?: string
  headers?: Record<string, string>
  /** How many requests this entry answers before it leaves the queue; default 1. */
  times?: number
}

/** Commit the next mutation(s), then lose the answer: the connection dropped, or a 502. */
export interface CommitThenFail {
  mode: 'drop' | '502'
  /** How many mutations it applies to; default 1. */
  times?: number
}

export interface Faults {
  tokenDelayMs: number
  graphqlDelayMs: number
  /** /graphql never answers (until close). */
  hang: boolean
  /** The token endpoint answers 400 invalid_grant for everyone. */
  badCredentials: boolean
  /** expires_in of tokens issued from now on. */
  tokenTtlSeconds: number
  /** Token answers include a single-use refresh_token. */
  issueRefreshToken: boolean
  /** Each /graphql request consumes the head of the queue and answers with it instead of executing. */
  graphqlFailures: GraphqlFailure[]
  /** `Type.field` names left out of the served schema: documents using them fail validation and introspection omits them. */
  removedFields: string[]
  /** The next mutations are executed and then their answer is lost (null: off). */
  commitThenFail: CommitThenFail | null
  /** Each Event or Job/Batch API request takes the first entry that matches it and answers with it instead. */
  restFailures: RestFailure[]
  /** Delay before every Event or Job/Batch API answer. */
  restDelayMs: number
  /** How long a batch stays PENDING, then RUNNING, before it is COMPLETE (a job follows its batches). */
  jobStepMs: number
}

export interface Counters {
  tokenRequests: number
  graphqlRequests: number
  expiredTokenRequests: number
  unauthorizedRequests: number
  /** POST /api/v4.1/event/sync and /event/async received (faulted ones included). */
  eventRequests: number
  /** POST /api/v4.1/job received. */
  jobRequests: number
  /** POST /api/v4.1/job/{id}/batch received. */
  batchRequests: number
  /** GET /api/v4.1/event/{id}, /job/{id} and /job/{id}/batch/{batchId} received. */
  restReads: number
}

/** An event the Event API accepted, as Fluent keeps it. */
export interface EventRecord {
  id: string
  mode: 'sync' | 'async'
  /** The request body as it came. */
  body: Record<string, unknown>
  at: number
}

export interface JobRecord {
  id: string
  name: string
  retailerId: string
  at: number
}

/** A batch the Job API accepted, entities included (applied to the store's inventory positions on receipt). */
export interface BatchRecord {
  id: string
  jobId: string
  action: string
  entityType: string
  catalogueRef: string
  entities: Array<Record<string, unknown>>
  at: number
}

export interface GraphqlRecord {
  query: string
  variables: unknown
  operationName?: string
  headers: Record<string, string | string[] | undefined>
  /** HTTP status of the answer; 0 while unanswered (e.g. under the hang fault). */
  status: number
  at: number
}

export interface TokenRecord {
  grantType: string
  username?: string
  clientId?: string
  at: number
}

/** One successful grant: the tokens the simulator handed out (tests use it to prove none of them leaks). */
export interface IssuedTokenRecord {
  grantType: 'password' | 'refresh_token'
  accessToken: string
  /** Present while the issueRefreshToken fault is on. */
  refreshToken?: string
  at: number
}

export interface Simulator {
  /** e.g. 'http://127.0.0.1:4000' */
  url: string
  faults: Faults
  counters: Counters
  requests: GraphqlRecord[]
  tokenRequests: TokenRecord[]
  /** Every access and refresh token issued, in order (secrets: for tests, never sent anywhere). */
  issuedTokens: IssuedTokenRecord[]
  /** SPKI PEM of the key the simulator signs webhooks with: a tenant's webhooks.publicKey. */
  webhookPublicKey: string
  /** Sends signed webhooks as Fluent would (send, notify for createOrder, settings with the tamper fault). */
  webhooks: WebhookSender
  /** Events accepted by the Event API, in order. */
  events: EventRecord[]
  /** Jobs created through the Job API, in order. */
  jobs: JobRecord[]
  /** Batches accepted by the Job API, in order. */
  batches: BatchRecord[]
  /** Every access token issued so far becomes invalid (401 on use). */
  revokeTokens: () => void
  /** Clears faults, counters and records (issued tokens included) and puts the store back to its seed; tokens stay valid. */
  reset: () => void
  /** Stops listening and destroys open sockets, hung requests included. */
  close: () => Promise<void>
}
