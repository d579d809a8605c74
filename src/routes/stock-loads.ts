// Stock changes and loads: deltas as one INVENTORY_DELTA event (POST /stock/adjustments), a whole stock file as one
// Fluent job of batches (PUT /stock, streamed), and that job's progress (GET /stock/imports/{jobId}).
import { createHash } from 'node:crypto'
import type { Readable } from 'node:stream'
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config/index.js'
import { inventoryCatalogueRef, type Tenant } from '../config/tenants.js'
import {
  PayloadTooLargeError, UpstreamUnavailableError, ValidationFailedError, withExtras,
  type ProblemExtras, type StockLoadProgress, type ValidationIssue
} from '../errors.js'
import type { FluentEvent } from '../fluent/events.js'
import { MAX_BATCH_ENTITIES, inventoryBatchFrame } from '../fluent/jobs.js'
import type { FluentView } from '../fluent/view.js'
import { problemResponses } from '../schemas/problem.js'
import { limitBytes, readCsv, readJson, type RowSink } from '../stock/rows.js'
import { StockSpool } from '../stock/spool.js'

/** At most this many bad rows are listed in one 400; reading stops there. */
const MAX_ISSUES = 100
/** Batch statuses read at once by GET /stock/imports/{jobId}. */
const BATCH_READS = 8

const RefSchema = (what: string, example: string) => Type.String({ minLength: 1, maxLength: 255, description: what, examples: [example] })

const AdjustmentSchema = Type.Object({
  productRef: RefSchema('product (SKU) ref', 'MUG-BLUE'),
  locationRef: RefSchema('location ref', 'LOC-SYD-01'),
  delta: Type.Integer({ not: { const: 0 }, minimum: -2_147_483_648, maximum: 2_147_483_647, description: 'change of the quantity on hand: negative for a sale, positive for a receipt; never 0', examples: [-2] })
}, { additionalProperties: false, description: 'one stock change' })

const AdjustmentsBodySchema = Type.Object({
  items: Type.Array(AdjustmentSchema, { minItems: 1, maxItems: 1000, description: 'the changes, 1 to 1000, sent together as one event' })
}, { additionalProperties: false, description: 'Stock changes', examples: [{ items: [{ productRef: 'MUG-BLUE', locationRef: 'LOC-SYD-01', delta: -2 }] }] })

const AdjustmentsAnswerSchema = Type.Object({
  eventId: Type.String({ description: 'the Fluent event carrying the changes', examples: ['6f1c3c2e-5d0a-4f8e-9b44-1f2a3b4c5d6e'] }),
  items: Type.Array(Type.Object({
    deltaId: Type.String({ description: 'the id Fluent got for this change: `{Idempotency-Key}:{index}`', examples: ['pos-42-sale-1017:0'] }),
    productRef: RefSchema('product (SKU) ref', 'MUG-BLUE'),
    locationRef: RefSchema('location ref', 'LOC-SYD-01'),
    delta: Type.Integer({ description: 'the change sent', examples: [-2] })
  }), { description: 'the changes sent, in order' })
}, { description: 'The changes Fluent accepted for processing' })

const StockItemSchema = Type.Object({
  productRef: RefSchema('product (SKU) ref', 'MUG-BLUE'),
  locationRef: RefSchema('location ref', 'LOC-SYD-01'),
  quantity: Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: 'quantity on hand (absolute)', examples: [12] })
}, { additionalProperties: false, description: 'one stock position' })

const StockFileJsonSchema = Type.Object({
  items: Type.Array(StockItemSchema, { description: 'every position of the file' })
}, { additionalProperties: false, description: 'A stock file as JSON', examples: [{ items: [{ productRef: 'MUG-BLUE', locationRef: 'LOC-SYD-01', quantity: 12 }] }] })

const BatchSchema = Type.Object({
  id: Type.String({ description: 'Fluent batch id', examples: ['7'] }),
  entities: Type.Integer({ description: 'positions in this batch (at most 5,000)', examples: [5000] }),
  status: Type.String({ description: 'PENDING, RUNNING or COMPLETE', examples: ['PENDING'] })
}, { description: 'one batch of the job' })

const StockLoadAnswerSchema = Type.Object({
  jobId: Type.String({ description: 'the Fluent job; follow Location for its progress', examples: ['42'] }),
  entities: Type.Integer({ description: 'positions sent', examples: [12000] }),
  batches: Type.Array(BatchSchema, { description: 'the batches sent, in order' })
}, { description: 'The stock load Fluent accepted' })

const ImportParamsSchema = Type.Object({
  jobId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description: 'Fluent job id from PUT /stock', examples: ['42'] })
})

const ImportStatusSchema = Type.Object({
  jobId: Type.String({ description: 'Fluent job id', examples: ['42'] }),
  status: Type.String({ description: "the job's status as Fluent reports it (PENDING, RUNNING, COMPLETE)", examples: ['RUNNING'] }),
  batches: Type.Array(Type.Object({
    id: Type.String({ description: 'Fluent batch id', examples: ['7'] }),
    status: Type.String({ description: 'PENDING, RUNNING or COMPLETE', examples: ['COMPLETE'] }),
    entities: Type.Union([Type.Integer(), Type.Null()], { description: 'positions in the batch; null when Fluent does not say', examples: [5000] })
  }), { description: "the job's batches" })
}, { description: 'A stock load and its batches' })

type AdjustmentsBody = Static<typeof AdjustmentsBodySchema>

/** The tenant's retailer and inventory catalogue, which every stock change names. */
function stockTarget (tenant: Tenant): { retailerId: string, catalogueRef: string } {
  const retailerId = tenant.fluent.retailerId
  const catalogueRef = inventoryCatalogueRef(tenant)
  if (retailerId === undefined || catalogueRef === undefined) {
    throw new ValidationFailedError(`tenant '${tenant.id}' has no retailerId, so it has no inventory catalogue to change`)
  }
  return { retailerId, catalogueRef }
}

function toDeltaEvent (body: AdjustmentsBody, key: string, tenant: Tenant): FluentEvent {
  const { retailerId, catalogueRef } = stockTarget(tenant)
  return {
    name: 'INVENTORY_DELTA',
    retailerId,
    entityType: 'INVENTORY_CATALOGUE',
    entityRef: catalogueRef,
    entitySubtype: 'DEFAULT',
    rootEntityType: 'INVENTORY_CATALOGUE',
    rootEntityRef: catalogueRef,
    attributes: {
      items: body.items.map((item, index) => ({ deltaId: `${key}:${index}`, productRef: item.productRef, locationRef: item.locationRef, qty: item.delta }))
    }
  }
}

function rejectedRows (issues: ValidationIssue[]): Error {
  const shown = issues.slice(0, 3).map((issue) => issue.message).join('; ')
  const more = issues.length > 3 ? ` (and ${issues.length - 3} more${issues.length >= MAX_ISSUES ? ' at least' : ''})` : ''
  return withExtras(new ValidationFailedError(`the stock file has bad rows; nothing was sent: ${shown}${more}`), { errors: issues })
}

/** Reads the whole body, checking each row and spooling the good ones; throws (400, 413) before anything is sent. */
async function spoolUpload (read: (sink: RowSink) => Promise<void>, spool: StockSpool): Promise<void> {
  const issues: ValidationIssue[] = []
  await read({
    row (productRef, locationRef, quantity) {
      if (issues.length === 0) spool.write(productRef, locationRef, quantity)
    },
    issue (issue) {
      issues.push(issue)
      return issues.length >= MAX_ISSUES
    },
    settle: () => spool.settle()
  })
  if (issues.length > 0) throw rejectedRows(issues)
  if (spool.rows === 0) throw withExtras(new ValidationFailedError('the stock file holds no rows'), { errors: [{ path: '/body', message: 'holds no rows' }] })
  await spool.finish()
}

/** One job, then the spool in batches of at most 5,000; a failure after the job exists says what was sent. */
async function sendLoad (fluent: FluentView, spool: StockSpool, tenant: Tenant): Promise<StockLoadProgress> {
  const { retailerId, catalogueRef } = stockTarget(tenant)
  const jobId = await fluent.jobs.create({ name: `stock load ${new Date().toISOString()}`, retailerId })
  const progress: StockLoadProgress = { jobId, entities: 0, batches: [] }
  try {
    // The spool holds each row as its INVENTORY entity JSON (with the retailerId): a batch is its lines in the frame.
    const { head, tail } = inventoryBatchFrame(catalogueRef)
    for await (const { body, entities } of spool.batches(MAX_BATCH_ENTITIES, head, tail)) {
      const id = await fluent.jobs.sendBatchBody(jobId, body)
      progress.batches.push({ id, entities, status: 'PENDING' })
      progress.entities += entities
    }
  } catch (error) {
    // Never retried: a batch that may have reached Fluent would be applied twice. The caller sees what was accepted.
    const upstream = (error as ProblemExtras).upstream
    throw withExtras(new UpstreamUnavailableError(
      `Fluent failed during stock load job ${jobId} after accepting ${progress.batches.length} batches (${progress.entities} positions); ` +
      'the rest was not sent', { cause: error }), { stockLoad: progress, ...(upstream === undefined ? {} : { upstream }) })
  }
  return progress
}

const stockLoadRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, opts) => {
  const uploadLimit = opts.config.STOCK_UPLOAD_LIMIT_BYTES

  app.post('/stock/adjustments', {
    // A relative delta sent twice counts twice, and Fluent does not de-duplicate: the key is required, and replays are served.
    config: { idempotency: { required: true } },
    schema: {
      tags: ['stock'],
      operationId: 'adjustStock',
      summary: 'Send stock changes (deltas)',
      description: 'Sends one Fluent `INVENTORY_DELTA` event (async) on the tenant\'s inventory catalogue, each item a relative `qty`. ' +
        '**`Idempotency-Key` is required**: Fluent does not de-duplicate deltas, and each item\'s `deltaId` is `{key}:{index}`.',
      body: AdjustmentsBodySchema,
      response: {
        202: { ...AdjustmentsAnswerSchema, description: 'Fluent accepted the event; it applies the changes shortly' },
        ...problemResponses(400, 401, 403, 413, 415, 422, 429, 502, 503, 504)
      }
    }
  }, async (request, reply) => {
    // The idempotency plugin has already refused a request without a well-formed key (400 IDEMPOTENCY_KEY_REQUIRED).
    const key = request.headers['idempotency-key'] as string
    const event = toDeltaEvent(request.body, key, request.tenant)
    const { eventId } = await request.fluent.events.send(event, 'async')
    const items = request.body.items.map((item, index) => ({ deltaId: `${key}:${index}`, ...item }))
    return await reply.code(202).send({ eventId, items })
  })

  // PUT /stock in its own context: its parsers hand the raw stream to the handler, and the app's JSON parser stays as is.
  await app.register(async (upload) => {
    upload.removeAllContentTypeParsers()
    upload.addContentTypeParser(['application/json', 'text/csv'], function passStream (_request, payload, done) {
      done(null, payload)
    })

    upload.put('/stock', {
      bodyLimit: uploadLimit,
      // The body is a stream: its fingerprint is the hash of the bytes, given once they are all read and checked.
      config: { idempotency: { fingerprint: 'route' } },
      // The body is a stream checked row by row in the handler; the schema below documents it.
      validatorCompiler: () => () => true,
      schema: {
        tags: ['stock'],
        operationId: 'loadStock',
        summary: 'Load the whole stock file (absolute quantities)',
        description: 'Takes `text/csv` (header row `productRef,locationRef,quantity` in any order; quoted fields, a UTF-8 BOM, CRLF or LF) ' +
          'or `application/json` `{items: [...]}`, streamed, up to `STOCK_UPLOAD_LIMIT_BYTES`. Every row is checked first: a bad row is a 400 ' +
          'naming its line and column (CSV) or item (JSON), and nothing is sent. Then one Fluent job gets batches of at most 5,000 positions. ' +
          'A Fluent failure after the job was created is a 502 whose `stockLoad` lists the batches Fluent had accepted; nothing is retried.',
        body: {
          content: {
            'text/csv': {
              schema: {
                type: 'string',
                description: 'CSV with a header row naming productRef, locationRef and quantity',
                examples: ['productRef,locationRef,quantity\nMUG-BLUE,LOC-SYD-01,12\nTEE-WHITE-M,LOC-SYD-01,5\n']
              }
            },
            'application/json': { schema: StockFileJsonSchema }
          }
        },
        response: {
          202: {
            ...StockLoadAnswerSchema,
            description: 'Fluent accepted the job and its batches; Location follows its progress',
            headers: { location: { type: 'string', description: 'the progress of this load', examples: ['/stock/imports/42'] } }
          },
          ...problemResponses(400, 401, 403, 413, 415, 422, 429, 502, 503, 504)
        }
      }
    }, async (request, reply) => {
      const tenant = request.tenant
      const { retailerId } = stockTarget(tenant)
      const stream = request.body as Readable
      // Not destroyed when reading stops early (413, a bad header): the rest is drained below, so the answer arrives.
      const digest = createHash('sha256')
      const body = limitBytes(stream.iterator({ destroyOnReturn: false }), uploadLimit, digest)
      const isCsv = (request.headers['content-type'] ?? '').toLowerCase().startsWith('text/csv')
      const spool = await StockSpool.create(retailerId)
      try {
        const declared = Number(request.headers['content-length'])
        if (Number.isFinite(declared) && declared > uploadLimit) {
          throw new PayloadTooLargeError(`the stock file is larger than the ${uploadLimit} bytes allowed (STOCK_UPLOAD_LIMIT_BYTES)`)
        }
        await spoolUpload(async (sink) => { await (isCsv ? readCsv(body, sink) : readJson(body, sink)) }, spool)
      } catch (error) {
        if (!stream.readableEnded) {
          // The caller is still sending: read and drop the rest, and close the connection after the answer.
          reply.header('connection', 'close')
          stream.resume()
        }
        await spool.remove()
        throw error
      }
      let load: StockLoadProgress
      try {
        // The same key and bytes as an answered upload: its answer again, and no second job (other bytes: 422).
        if (await request.idempotency?.fingerprint(digest.digest('hex')) === 'replayed') return reply
        load = await sendLoad(request.fluent, spool, tenant)
      } finally {
        // Before the answer, so a caller who has it finds no spool file left.
        await spool.remove()
      }
      return await reply.code(202).header('location', `/stock/imports/${encodeURIComponent(load.jobId)}`).send(load)
    })
  })

  app.get('/stock/imports/:jobId', {
    schema: {
      tags: ['stock'],
      operationId: 'getStockImport',
      summary: 'Read the progress of a stock load',
      description: 'Reads Fluent `GET /job/{id}` and each of its batches; 404 when Fluent has no such job.',
      params: ImportParamsSchema,
      response: {
        200: { ...ImportStatusSchema, description: 'The job and its batches' },
        ...problemResponses(400, 401, 403, 404, 422, 429, 502, 503, 504)
      }
    }
  }, async (request) => {
    const { jobId } = request.params
    const job = await request.fluent.jobs.status(jobId)
    const lines = job.batch ?? []
    const batches = []
    // A few at a time: a nightly load has 200 batches, and Fluent's rate limit counts each read.
    for (let start = 0; start < lines.length; start += BATCH_READS) {
      batches.push(...await Promise.all(lines.slice(start, start + BATCH_READS).map(async (line) => {
        const batch = await request.fluent.jobs.batchStatus(jobId, line.batchId)
        return { id: String(batch.batchId ?? line.batchId), status: batch.status ?? line.status, entities: batch.count ?? null }
      })))
    }
    return { jobId: String(job.jobId ?? jobId), status: job.status, batches }
  })
}

export default stockLoadRoutes
