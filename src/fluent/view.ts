// The per-request view of the Fluent client: tenant, request id and upstream time bound once, every resource at hand.
import type { Tenant } from '../config/tenants.js'
import type { CallContext, FluentAnswer, FluentClient, GraphqlRequest, RestRequest } from './client.js'
import { customers } from './customers.js'
import { events } from './events.js'
import { fulfilments } from './fulfilments.js'
import { inventory } from './inventory.js'
import { jobs } from './jobs.js'
import { locations } from './locations.js'
import { me } from './me.js'
import { orders } from './orders.js'
import { products } from './products.js'

/** What a resource's operations send through: the client with this request's tenant and context bound. */
export interface Caller {
  readonly tenant: Tenant
  /** Fluent's 200 GraphQL body as it came (the /graphql passthrough). */
  execute: (request: GraphqlRequest) => Promise<FluentAnswer>
  /** The `data` of a GraphQL answer; GraphQL errors become typed errors. */
  data: <T>(request: GraphqlRequest) => Promise<T>
  /** The JSON answer of a Fluent REST API. */
  rest: <T>(request: RestRequest) => Promise<T>
}

/** A resource file's operations: each takes the caller first. */
type Operations = Record<string, (caller: Caller, ...args: never[]) => Promise<unknown>>

/** Every resource a handler may use, by the name it has on `request.fluent`: one line per resource file. */
const RESOURCES = {
  me,
  customers,
  products,
  orders,
  fulfilments,
  locations,
  inventory,
  events,
  jobs
} satisfies Record<string, Operations>

type Bound<O> = { [K in keyof O]: O[K] extends (caller: Caller, ...args: infer A) => infer R ? (...args: A) => R : never }

export type FluentView = Caller & { readonly [K in keyof typeof RESOURCES]: Bound<(typeof RESOURCES)[K]> } & {
  /** Time spent waiting on Fluent so far in this request (the access log's upstreamMs). */
  readonly upstreamMs: number
}

const BOUND = Symbol('bound resources')

class RequestCaller implements Caller {
  readonly tenant: Tenant
  readonly #client: FluentClient
  readonly #context: CallContext
  /** The resources bound so far (below), by name. */
  readonly [BOUND]: Record<string, unknown> = {}

  constructor (client: FluentClient, tenant: Tenant, requestId: string) {
    this.#client = client
    this.tenant = tenant
    this.#context = { requestId, upstreamMs: 0 }
  }

  get upstreamMs (): number {
    return this.#context.upstreamMs ?? 0
  }

  // Pass-throughs, not async functions: each wrapper would add a promise and microtask turns to every call.
  execute (request: GraphqlRequest): Promise<FluentAnswer> {
    return this.#client.execute(this.tenant, request, this.#context)
  }

  data<T> (request: GraphqlRequest): Promise<T> {
    return this.#client.data<T>(this.tenant, request, this.#context)
  }

  rest<T> (request: RestRequest): Promise<T> {
    return this.#client.rest<T>(this.tenant, request, this.#context)
  }
}

// Each resource is bound on first use and kept on the view: a request that never touches Fluent costs no binding.
// Binding is one small object of a class made here once per resource, whose prototype holds the operations: no
// closures and no property definitions per request.
for (const [name, operations] of Object.entries(RESOURCES) as Array<[string, Operations]>) {
  class BoundResource {
    constructor (readonly caller: Caller) {}
  }
  for (const [operation, run] of Object.entries(operations)) {
    Object.defineProperty(BoundResource.prototype, operation, {
      value: function (this: BoundResource, ...args: never[]) { return run(this.caller, ...args) }
    })
  }
  Object.defineProperty(RequestCaller.prototype, name, {
    get (this: RequestCaller) {
      return (this[BOUND][name] ??= new BoundResource(this))
    }
  })
}

export function fluentView (client: FluentClient, tenant: Tenant, requestId: string): FluentView {
  return new RequestCaller(client, tenant, requestId) as unknown as FluentView
}
