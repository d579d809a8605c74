// undici's Agent without the rest of undici's index (fetch, WebSocket, cookies, mocks). Its cookies module reads
// globalThis.Headers, which loads Node's own bundled copy of undici (770 KB of source): together about 3 MB of heap
// the gateway never uses. test/undici-agent.test.ts checks this is the Agent undici's index exports, with the
// same request API.
import { createRequire } from 'node:module'
import type { Agent as UndiciAgent } from 'undici'

const require = createRequire(import.meta.url)

// What undici's index does first: give every dispatcher the request API (request, stream, pipeline, connect, upgrade).
const Dispatcher = require('undici/lib/dispatcher/dispatcher.js') as { prototype: object }
Object.assign(Dispatcher.prototype, require('undici/lib/api/index.js'))

export const Agent = require('undici/lib/dispatcher/agent.js') as typeof UndiciAgent
