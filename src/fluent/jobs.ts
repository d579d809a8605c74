// Fluent's Job/Batch API: a job, its batches of at most 5,000 inventory entities, and their statuses.
import { NotFoundError, UpstreamUnavailableError } from '../errors.js'
import type { Caller } from './view.js'

/** Fluent's most entities in one batch. */
export const MAX_BATCH_ENTITIES = 5000

export interface InventoryEntity {
  locationRef: string
  skuRef: string
  qty: number
  correctedQty: number
  retailerId: string
}

export interface InventoryBatch {
  action: 'UPSERT'
  entityType: 'INVENTORY'
  catalogueRef: string
  entities: InventoryEntity[]
}

/**
 * An InventoryBatch's JSON around its entities: `head` + the entities' JSON joined by commas + `tail` is the same body
 * as JSON.stringify of the batch, built without an object per entity (PUT /stock spools entities already serialised).
 */
export function inventoryBatchFrame (catalogueRef: string): { head: string, tail: string } {
  return { head: `{"action":"UPSERT","entityType":"INVENTORY","catalogueRef":${JSON.stringify(catalogueRef)},"entities":[`, tail: ']}' }
}

/** GET /job/{id}: the job and a line per batch. */
export interface FluentJobStatus {
  jobId: string
  status: string
  batch?: Array<{ batchId: string, status: string, createdOn?: string }> | null
  createdOn?: string
}

/** GET /job/{id}/batch/{batchId}: `count` is how many entities it holds. */
export interface FluentBatchStatus {
  batchId: string
  entityType?: string
  status: string
  start?: number
  count?: number
  createdOn?: string
}

/** A GET whose 404 means "no such job or batch" rather than a rejected request. */
async function found<T> (read: Promise<T>, what: string): Promise<T> {
  try {
    return await read
  } catch (error) {
    if ((error as { upstream?: { status?: number } }).upstream?.status === 404) throw new NotFoundError(`${what} does not exist`, { cause: error })
    throw error
  }
}

function idOf (answer: { id?: unknown } | undefined, what: string): string {
  const id = answer?.id
  if (typeof id !== 'string' && typeof id !== 'number') throw new UpstreamUnavailableError(`Fluent answered the ${what} creation without an id`)
  return String(id)
}

export const jobs = {
  async create (fluent: Caller, job: { name: string, retailerId: string }): Promise<string> {
    return idOf(await fluent.rest<{ id?: unknown }>({ method: 'POST', path: '/api/v4.1/job', body: job, operation: 'JobCreate' }), 'job')
  },

  async sendBatch (fluent: Caller, jobId: string, batch: InventoryBatch): Promise<string> {
    const answer = await fluent.rest<{ id?: unknown }>({
      method: 'POST', path: `/api/v4.1/job/${encodeURIComponent(jobId)}/batch`, body: batch, operation: 'BatchCreate'
    })
    return idOf(answer, 'batch')
  },

  /** The same as sendBatch with the batch already serialised (an InventoryBatch's JSON bytes, e.g. from inventoryBatchFrame). */
  async sendBatchBody (fluent: Caller, jobId: string, json: Buffer | string): Promise<string> {
    const answer = await fluent.rest<{ id?: unknown }>({
      method: 'POST', path: `/api/v4.1/job/${encodeURIComponent(jobId)}/batch`, json, operation: 'BatchCreate'
    })
    return idOf(answer, 'batch')
  },

  async status (fluent: Caller, jobId: string): Promise<FluentJobStatus> {
    return await found(fluent.rest<FluentJobStatus>({
      method: 'GET', path: `/api/v4.1/job/${encodeURIComponent(jobId)}`, operation: 'JobStatus'
    }), `stock import ${jobId}`)
  },

  async batchStatus (fluent: Caller, jobId: string, batchId: string): Promise<FluentBatchStatus> {
    return await found(fluent.rest<FluentBatchStatus>({
      method: 'GET', path: `/api/v4.1/job/${encodeURIComponent(jobId)}/batch/${encodeURIComponent(batchId)}`, operation: 'BatchStatus'
    }), `batch ${batchId} of stock import ${jobId}`)
  }
}
