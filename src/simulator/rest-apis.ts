// Fluent's REST APIs in the simulator: the Event API and the Job/Batch API, applied to the store's inventory positions.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { readBody, sendJson } from './http.js'
import type { Entity, SimulatorStore } from './store.js'
import type { TokenRegistry } from './tokens.js'
import type { BatchRecord, Counters, EventRecord, Faults, JobRecord, RestFailure } from './types.js'

/** Fluent's most entities in one batch. */
export const MAX_BATCH_ENTITIES = 5000
export const DEFAULT_JOB_STEP_MS = 100

type Status = 'PENDING' | 'RUNNING' | 'COMPLETE'

export interface RestApisOptions {
  store: SimulatorStore
  tokens: TokenRegistry
  faults: Faults
  counters: Counters
  events: EventRecord[]
  jobs: JobRecord[]
  batches: BatchRecord[]
  /** Fluent's body limit (the same as /graphql's). */
  bodyLimit: number
  pause: (ms: number) => Promise<void>
  closed: () => boolean
}

export interface RestApis {
  /** Answers an /api/v4.1/ request. */
  handle: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void>
  /** Forgets the position index (the store was re-seeded). */
  reset: () => void
}

/** Fluent's entity types an event may name, and the stored type each is found among. */
const ENTITY_TYPES: Record<string, string> = {
  ORDER: 'Order',
  FULFILMENT: 'Fulfilment',
  LOCATION: 'Location',
  CUSTOMER: 'Customer',
  PRODUCT: 'StandardProduct',
  INVENTORY_CATALOGUE: 'InventoryCatalogue',
  INVENTORY_POSITION: 'InventoryPosition',
  VIRTUAL_CATALOGUE: 'VirtualCatalogue',
  PRODUCT_CATALOGUE: 'ProductCatalogue'
}

/** Fluent's REST error shape. */
function sendError (res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { errors: [{ code: String(status), message }] })
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function text (value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** Checks the REST fault switches of a PATCH /_sim/faults body: a problem, null when fine, undefined when not a REST key. */
export function restFaultProblem (key: string, value: unknown): string | null | undefined {
  switch (key) {
    case 'restDelayMs':
    case 'jobStepMs':
      return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? null : `${key} must be a non-negative number`
    case 'restFailures': {
      if (!Array.isArray(value)) return 'restFailures must be an array'
      for (const [index, failure] of value.entries()) {
        if (!isObject(failure)) return `restFailures[${index}] must be an object`
        const { status, body, match, skip, times } = failure
        if (!Number.isInteger(status) || (status as number) < 100 || (status as number) > 599) return `restFailures[${index}].status must be an HTTP status`
        if (body !== undefined && typeof body !== 'string') return `restFailures[${index}].body must be a string`
        if (match !== undefined) {
          if (typeof match !== 'string') return `restFailures[${index}].match must be a string`
          try {
            RegExp(match)
          } catch {
            return `restFailures[${index}].match must be a regular expression`
          }
        }
        for (const [name, count] of [['skip', skip], ['times', times]] as const) {
          if (count !== undefined && (!Number.isInteger(count) || (count as number) < (name === 'skip' ? 0 : 1))) {
            return `restFailures[${index}].${name} must be a ${name === 'skip' ? 'non-negative' : 'positive'} integer`
          }
        }
      }
      return null
    }
    default:
      return undefined
  }
}

export function createRestApis (options: RestApisOptions): RestApis {
  const { store, tokens, faults, counters, events, jobs, batches } = options
  // Inventory positions by catalogue, product and location: a million-row load must not scan the store per entity.
  let positions: Map<string, Entity> | undefined

  const positionKey = (catalogueRef: string, productRef: string, locationRef: string): string =>
    `${catalogueRef}\u0000${productRef}\u0000${locationRef}`

  function positionIndex (): Map<string, Entity> {
    if (positions === undefined) {
      positions = new Map()
      for (const position of store.all(['InventoryPosition'])) {
        const catalogue = position.catalogue as Entity | null | undefined
        positions.set(positionKey(String(catalogue?.ref), String(position.productRef), String(position.locationRef)), position)
      }
    }
    return positions
  }

  /** Sets (absolute) or moves (relative) one position's onHand, creating the position when it does not exist. */
  function applyStock (catalogue: Entity, productRef: string, locationRef: string, quantity: number, relative: boolean, now: string): void {
    const index = positionIndex()
    const key = positionKey(String(catalogue.ref), productRef, locationRef)
    const existing = index.get(key)
    if (existing !== undefined) {
      existing.onHand = relative ? Number(existing.onHand ?? 0) + quantity : quantity
      existing.updatedOn = now
      return
    }
    const location = store.find('Location', (candidate) => candidate.ref === locationRef)
    const product = store.find('StandardProduct', (candidate) => candidate.ref === productRef)
    const position = store.add('InventoryPosition', {
      ref: `${productRef}:${locationRef}`,
      status: 'ACTIVE',
      type: 'LAST_ON_HAND',
      workflowRef: 'INVENTORY_POSITION::DEFAULT',
      workflowVersion: 1,
      attributes: [],
      productRef,
      locationRef,
      onHand: quantity,
      location: location?.primaryAddress ?? null,
      catalogue,
      product: product ?? null,
      createdOn: now,
      updatedOn: now
    })
    index.set(key, position)
  }

  function inventoryCatalogue (ref: string): Entity | undefined {
    return store.find('InventoryCatalogue', (candidate) => candidate.ref === ref)
  }

  function statusOf (createdAt: number): Status {
    const elapsed = Date.now() - createdAt
    if (elapsed < faults.jobStepMs) return 'PENDING'
    return elapsed < 2 * faults.jobStepMs ? 'RUNNING' : 'COMPLETE'
  }

  function takeFailure (route: string): RestFailure | undefined {
    const index = faults.restFailures.findIndex((failure) => failure.match === undefined || new RegExp(failure.match).test(route))
    const failure = faults.restFailures[index]
    if (failure === undefined) return undefined
    if ((failure.skip ?? 0) > 0) {
      failure.skip = (failure.skip ?? 0) - 1
      return undefined
    }
    failure.times = (failure.times ?? 1) - 1
    if (failure.times <= 0) faults.restFailures.splice(index, 1)
    return failure
  }

  function sendFailure (res: ServerResponse, failure: RestFailure): void {
    const body = failure.body ?? JSON.stringify({ errors: [{ code: String(failure.status), message: `Simulated HTTP ${failure.status}` }] })
    res.writeHead(failure.status, { 'content-type': 'application/json; charset=utf-8', ...failure.headers, 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }

  /** The entity an event names, when its type is one the store keeps: by id or by ref. */
  function eventEntity (body: Record<string, unknown>): { found: Entity | undefined, known: boolean } {
    const type = ENTITY_TYPES[String(body.entityType)]
    if (type === undefined) return { found: undefined, known: false }
    const id = text(body.entityId)
    const ref = text(body.entityRef)
    return { found: store.find(type, (candidate) => (id !== undefined ? candidate.id === id : candidate.ref === ref)), known: true }
  }

  /** Applies an INVENTORY_DELTA event: each item's qty moves onHand at its product and location. */
  function applyDelta (body: Record<string, unknown>, catalogue: Entity): string | null {
    const attributes = isObject(body.attributes) ? body.attributes : {}
    const items = attributes.items
    if (!Array.isArray(items)) return 'attributes.items must be an array'
    for (const item of items) {
      if (!isObject(item) || text(item.productRef) === undefined || text(item.locationRef) === undefined || !Number.isInteger(item.qty)) {
        return 'each of attributes.items needs productRef, locationRef and an integer qty'
      }
    }
    const now = new Date().toISOString()
    for (const item of items as Array<Record<string, unknown>>) {
      applyStock(catalogue, String(item.productRef), String(item.locationRef), item.qty as number, true, now)
    }
    return null
  }

  function createEvent (res: ServerResponse, mode: 'sync' | 'async', body: Record<string, unknown>): void {
    for (const field of ['name', 'retailerId', 'entityType'] as const) {
      if (text(body[field]) === undefined) {
        sendError(res, 400, `${field} is required`)
        return
      }
    }
    if (text(body.entityRef) === undefined && text(body.entityId) === undefined) {
      sendError(res, 400, 'entityRef or entityId is required')
      return
    }
    const { found, known } = eventEntity(body)
    if (known && found === undefined) {
      sendError(res, 400, `${String(body.entityType)} not found: ${String(body.entityRef ?? body.entityId)}`)
      return
    }
    if (body.name === 'INVENTORY_DELTA') {
      if (body.entityType !== 'INVENTORY_CATALOGUE' || found === undefined) {
        sendError(res, 400, 'INVENTORY_DELTA must name an inventory catalogue')
        return
      }
      const problem = applyDelta(body, found)
      if (problem !== null) {
        sendError(res, 400, problem)
        return
      }
    }
    const id = randomUUID()
    events.push({ id, mode, body, at: Date.now() })
    if (mode === 'sync') sendJson(res, 200, { eventId: id, entityId: found?.id ?? text(body.entityId) ?? null, eventStatus: 'COMPLETE' })
    else sendJson(res, 202, { id })
  }

  function readEvent (res: ServerResponse, id: string): void {
    const event = events.find((candidate) => candidate.id === id)
    if (event === undefined) {
      sendError(res, 404, `Event not found: ${id}`)
      return
    }
    sendJson(res, 200, {
      ...event.body,
      id: event.id,
      type: 'NORMAL',
      eventStatus: 'COMPLETE',
      source: null,
      generatedOn: new Date(event.at).toISOString()
    })
  }

  function createJob (res: ServerResponse, body: Record<string, unknown>): void {
    const name = text(body.name)
    const retailerId = text(body.retailerId) ?? (typeof body.retailerId === 'number' ? String(body.retailerId) : undefined)
    if (name === undefined || retailerId === undefined) {
      sendError(res, 400, 'name and retailerId are required')
      return
    }
    if (store.retailerById(retailerId) === undefined) {
      sendError(res, 400, `Retailer not found: ${retailerId}`)
      return
    }
    const id = String(jobs.length + 1)
    jobs.push({ id, name, retailerId, at: Date.now() })
    sendJson(res, 200, { id })
  }

  function createBatch (res: ServerResponse, job: JobRecord, body: Record<string, unknown>): void {
    const { action, entityType, entities } = body
    if (action !== 'UPSERT' || entityType !== 'INVENTORY') {
      sendError(res, 400, 'the simulator takes action UPSERT of entityType INVENTORY only')
      return
    }
    if (!Array.isArray(entities) || entities.length === 0) {
      sendError(res, 400, 'entities must be a non-empty array')
      return
    }
    if (entities.length > MAX_BATCH_ENTITIES) {
      sendError(res, 400, `a batch holds at most ${MAX_BATCH_ENTITIES} entities, got ${entities.length}`)
      return
    }
    // Fluent falls back to the retailer's default inventory catalogue.
    const catalogueRef = text(body.catalogueRef) ?? `DEFAULT:${job.retailerId}`
    const catalogue = inventoryCatalogue(catalogueRef)
    if (catalogue === undefined) {
      sendError(res, 400, `InventoryCatalogue not found: ${catalogueRef}`)
      return
    }
    for (const [index, entity] of entities.entries()) {
      if (!isObject(entity) || text(entity.locationRef) === undefined || text(entity.skuRef) === undefined ||
        !Number.isInteger(entity.qty) || (entity.qty as number) < 0) {
        sendError(res, 400, `entities[${index}] needs locationRef, skuRef and a non-negative integer qty`)
        return
      }
    }
    const now = new Date().toISOString()
    for (const entity of entities as Array<Record<string, unknown>>) {
      applyStock(catalogue, String(entity.skuRef), String(entity.locationRef), entity.qty as number, false, now)
    }
    const id = String(batches.length + 1)
    const at = Date.now()
    batches.push({ id, jobId: job.id, action, entityType, catalogueRef, entities: entities as Array<Record<string, unknown>>, at })
    sendJson(res, 200, { id })
  }

  function jobStatus (job: JobRecord): Record<string, unknown> {
    const own = batches.filter((batch) => batch.jobId === job.id)
    const statuses = own.map((batch) => statusOf(batch.at))
    const status: Status = statuses.length > 0 && statuses.every((one) => one === 'COMPLETE')
      ? 'COMPLETE'
      : statuses.some((one) => one !== 'PENDING') ? 'RUNNING' : 'PENDING'
    return {
      jobId: job.id,
      status,
      batch: own.map((batch, index) => ({ batchId: batch.id, status: statuses[index], createdOn: new Date(batch.at).toISOString() })),
      createdOn: new Date(job.at).toISOString()
    }
  }

  function batchStatus (batch: BatchRecord): Record<string, unknown> {
    return {
      batchId: batch.id,
      entityType: batch.entityType,
      status: statusOf(batch.at),
      start: 1,
      count: batch.entities.length,
      createdOn: new Date(batch.at).toISOString()
    }
  }

  async function handle (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? ''
    const route = `${method} ${path}`
    const writes = method === 'POST'
    if (writes && /^\/api\/v4\.1\/event\/(sync|async)$/.test(path)) counters.eventRequests++
    else if (writes && path === '/api/v4.1/job') counters.jobRequests++
    else if (writes && /^\/api\/v4\.1\/job\/[^/]+\/batch$/.test(path)) counters.batchRequests++
    else if (method === 'GET') counters.restReads++

    const raw = await readBody(req, options.bodyLimit)
    const failure = takeFailure(route)
    await options.pause(faults.restDelayMs)
    if (options.closed()) return
    if (failure !== undefined) {
      sendFailure(res, failure)
      return
    }
    if (raw === null) {
      sendError(res, 413, 'Request body exceeds 2 MB')
      return
    }
    const check = tokens.authorize(req.headers.authorization, counters)
    if (check.state !== 'valid') {
      sendError(res, 401, 'Unauthorized')
      return
    }
    let body: Record<string, unknown> = {}
    if (writes) {
      let parsed: unknown
      try {
        parsed = JSON.parse(raw.toString('utf8'))
      } catch {
        sendError(res, 400, 'Invalid JSON')
        return
      }
      if (!isObject(parsed)) {
        sendError(res, 400, 'body must be a JSON object')
        return
      }
      body = parsed
    }
    serve(res, route, body)
  }

  function serve (res: ServerResponse, route: string, body: Record<string, unknown>): void {
    let match = /^POST \/api\/v4\.1\/event\/(sync|async)$/.exec(route)
    if (match !== null) {
      createEvent(res, match[1] as 'sync' | 'async', body)
      return
    }
    match = /^GET \/api\/v4\.1\/event\/([^/]+)$/.exec(route)
    if (match !== null) {
      readEvent(res, decodeURIComponent(match[1] ?? ''))
      return
    }
    if (route === 'POST /api/v4.1/job') {
      createJob(res, body)
      return
    }
    match = /^(GET|POST) \/api\/v4\.1\/job\/([^/]+)(?:\/batch(?:\/([^/]+))?)?$/.exec(route)
    const job = match === null ? undefined : jobs.find((candidate) => candidate.id === decodeURIComponent(match?.[2] ?? ''))
    if (match !== null && job === undefined) {
      sendError(res, 404, `Job not found: ${match[2] ?? ''}`)
      return
    }
    if (match !== null && job !== undefined) {
      const [, method, , batchId] = match
      const isBatchPath = route.includes('/batch')
      if (method === 'POST' && isBatchPath && batchId === undefined) {
        createBatch(res, job, body)
        return
      }
      if (method === 'GET' && !isBatchPath) {
        sendJson(res, 200, jobStatus(job))
        return
      }
      if (method === 'GET' && batchId !== undefined) {
        const batch = batches.find((candidate) => candidate.id === decodeURIComponent(batchId) && candidate.jobId === job.id)
        if (batch === undefined) sendError(res, 404, `Batch not found: ${batchId}`)
        else sendJson(res, 200, batchStatus(batch))
        return
      }
    }
    sendError(res, 404, `no such Fluent REST operation: ${route}`)
  }

  return {
    handle,
    reset: () => {
      positions = undefined
    }
  }
}
