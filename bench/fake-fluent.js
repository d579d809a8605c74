// A cheap, latency-bound fake Fluent for the benchmarks: pre-built answers after ~1 ms, run as its own process.
import { createServer } from 'node:http'

const DELAY_MS = Number(process.env.FAKE_FLUENT_DELAY_MS ?? 1)

function json (value) {
  const body = Buffer.from(JSON.stringify(value))
  return { body, headers: { 'content-type': 'application/json', 'content-length': String(body.length) } }
}

const TOKEN = json({ access_token: 'bench-access-token', token_type: 'bearer', expires_in: 86400, scope: 'api' })

const ME = json({
  data: {
    me: {
      id: '5',
      ref: 'bench_integration',
      username: 'bench_integration',
      type: 'ADMIN',
      status: 'ACTIVE',
      title: null,
      firstName: 'Bench',
      lastName: 'Integration',
      primaryEmail: 'bench@example.com',
      primaryPhone: '+61 400 000 000',
      timezone: 'UTC',
      primaryRetailer: { id: '1', ref: 'RETAILER-1' },
      attributes: []
    }
  }
})

const CREATE_CUSTOMER = json({
  data: {
    createCustomer: {
      id: '1001',
      ref: 'C-1001',
      username: 'jane.doe@example.com',
      status: 'ACTIVE',
      title: null,
      firstName: 'Jane',
      lastName: 'Doe',
      primaryEmail: 'jane.doe@example.com',
      primaryPhone: null,
      country: null,
      department: null,
      timezone: 'UTC',
      promotionOptIn: false,
      retailer: { id: '1' },
      attributes: [],
      createdOn: '2026-01-01T00:00:00.000Z',
      updatedOn: '2026-01-01T00:00:00.000Z'
    }
  }
})

// One HD order as the gateway selects it (two items, one fulfilment): createOrder and order(ref:) answer the same node.
const ORDER_NODE = {
  id: '1001',
  ref: 'HD-10001',
  type: 'HD',
  status: 'CREATED',
  totalPrice: 54,
  retailer: { id: '1' },
  customer: { id: '1' },
  createdOn: '2026-01-01T00:00:00.000Z',
  updatedOn: '2026-01-01T00:00:00.000Z',
  items: {
    edges: [
      { node: { ref: 'HD-10001-1', quantity: 2, price: 12.5, status: 'CREATED', product: { ref: 'MUG-BLUE' } } },
      { node: { ref: 'HD-10001-2', quantity: 1, price: 29, status: 'CREATED', product: { ref: 'TEE-WHITE-M' } } }
    ]
  },
  fulfilments: { edges: [{ node: { id: '1001', ref: 'HD-10001-F1', status: 'CREATED', fromLocation: { ref: 'LOC-SYD-01' } } }] }
}
const CREATE_ORDER = json({ data: { createOrder: ORDER_NODE } })
const ORDER_BY_REF = json({ data: { order: ORDER_NODE } })

// A full default page (20) of inventory positions, with a next page.
const INVENTORY_POSITIONS = json({
  data: {
    inventoryPositions: {
      edges: Array.from({ length: 20 }, (_, index) => ({
        cursor: Buffer.from(`cursor:${index + 1}`).toString('base64'),
        node: { productRef: `SKU-${1000 + index}`, locationRef: 'LOC-SYD-01', onHand: 10 + index, status: 'ACTIVE', updatedOn: '2026-01-01T00:00:00.000Z' }
      })),
      pageInfo: { hasNextPage: true }
    }
  }
})

// Any other operation: a fixed body about the size of the Me answer, so passthrough and GET /me move similar bytes.
const PASSTHROUGH = json({
  data: {
    orders: {
      edges: [
        { cursor: 'Y3Vyc29yOjE=', node: { id: '1', ref: 'HD-0001', status: 'RECEIVED', type: 'HD', totalPrice: 119.95 } },
        { cursor: 'Y3Vyc29yOjI=', node: { id: '2', ref: 'HD-0002', status: 'BOOKED', type: 'HD', totalPrice: 42.5 } },
        { cursor: 'Y3Vyc29yOjM=', node: { id: '3', ref: 'CC-0003', status: 'COMPLETE', type: 'CC', totalPrice: 9.99 } }
      ],
      pageInfo: { hasNextPage: false }
    }
  }
})

const NOT_FOUND = json({ errors: [{ message: 'not found' }] })

const counters = { token: 0, me: 0, createCustomer: 0, createOrder: 0, orderByRef: 0, inventoryPositions: 0, passthrough: 0, other: 0 }

function answer (res, { body, headers }, status = 200) {
  res.writeHead(status, headers)
  res.end(body)
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/__stats') {
    answer(res, json(counters))
    return
  }
  const chunks = []
  req.on('data', (chunk) => chunks.push(chunk))
  req.on('end', () => {
    let reply = NOT_FOUND
    let status = 404
    if (req.method === 'POST' && req.url === '/oauth/token') {
      counters.token++
      reply = TOKEN
      status = 200
    } else if (req.method === 'POST' && req.url === '/graphql') {
      // A substring test is enough to route: the gateway sends compact JSON, and a parse would only add cost here.
      const text = chunks.length === 1 ? chunks[0].toString('latin1') : Buffer.concat(chunks).toString('latin1')
      status = 200
      if (text.includes('"operationName":"Me"')) {
        counters.me++
        reply = ME
      } else if (text.includes('"operationName":"CreateCustomer"')) {
        counters.createCustomer++
        reply = CREATE_CUSTOMER
      } else if (text.includes('"operationName":"CreateOrder"')) {
        counters.createOrder++
        reply = CREATE_ORDER
      } else if (text.includes('"operationName":"OrderByRef"')) {
        counters.orderByRef++
        reply = ORDER_BY_REF
      } else if (text.includes('"operationName":"InventoryPositions"')) {
        counters.inventoryPositions++
        reply = INVENTORY_POSITIONS
      } else {
        counters.passthrough++
        reply = PASSTHROUGH
      }
    } else {
      counters.other++
    }
    setTimeout(answer, DELAY_MS, res, reply, status)
  })
})

// Long keep-alive so pooled upstream sockets survive the pauses between benchmark rounds.
server.keepAliveTimeout = 65_000
server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'listening', port: server.address().port, sizes: { me: ME.body.length, passthrough: PASSTHROUGH.body.length } })
})
// The bench talks to this process over IPC; when the bench goes away, so does the fake.
process.on('disconnect', () => process.exit(0))
process.on('SIGTERM', () => process.exit(0))
