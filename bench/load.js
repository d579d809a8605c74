// The load generator, a child of the bench so its CPU and timers never share an event loop with the orchestrator.
// Answers IPC requests: { kind: 'closed' } runs autocannon flat out (optionally at autocannon's overallRate),
// { kind: 'paced' } sends requests at evenly spaced instants (open loop) through an undici pool.
import { performance } from 'node:perf_hooks'
import autocannon from 'autocannon'
import { Pool } from 'undici'

/** Percentiles from raw per-request latencies (ms, sub-millisecond precision); autocannon's own histogram is whole ms. */
function latencySummary (latencies, count) {
  const sorted = Float64Array.from(latencies.subarray(0, count)).sort()
  const at = (p) => (count === 0 ? NaN : sorted[Math.min(count - 1, Math.floor(p * count))])
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: count === 0 ? NaN : sorted[count - 1] }
}

function growable () {
  let values = new Float64Array(65_536)
  let count = 0
  return {
    push (value) {
      if (count === values.length) {
        const bigger = new Float64Array(values.length * 2)
        bigger.set(values)
        values = bigger
      }
      values[count++] = value
    },
    summary: () => ({ ok: count, ...latencySummary(values, count) })
  }
}

async function closed ({ url, method, headers, body, connections, durationSeconds, overallRate }) {
  const latencies = growable()
  const result = await new Promise((resolve, reject) => {
    const instance = autocannon({
      url,
      method,
      headers,
      body,
      connections,
      duration: durationSeconds,
      pipelining: 1,
      ...(overallRate === undefined ? {} : { overallRate })
    }, (error, outcome) => (error ? reject(error) : resolve(outcome)))
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime)
    })
  })
  const summary = latencies.summary()
  return {
    ...summary,
    rps: summary.ok / result.duration,
    seconds: result.duration,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts
  }
}

async function paced ({ url, method, headers, body, connections, durationSeconds, rate }) {
  const { origin, pathname, search } = new URL(url)
  const pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 })
  const latencies = growable()
  const lags = growable()
  const payload = body === undefined ? undefined : Buffer.from(body)
  let sent = 0
  let inFlight = 0
  let non2xx = 0
  let errors = 0

  const fire = async (due) => {
    inFlight++
    const started = performance.now()
    // Time lost between when the request was due and when it left: shows whether the generator kept the pace.
    lags.push(started - due)
    try {
      const response = await pool.request({ path: pathname + search, method, headers, body: payload })
      await response.body.dump()
      if (response.statusCode >= 200 && response.statusCode < 300) latencies.push(performance.now() - started)
      else non2xx++
    } catch {
      errors++
    } finally {
      inFlight--
    }
  }

  const start = performance.now()
  const end = start + durationSeconds * 1000
  const interval = 1000 / rate
  await new Promise((resolve) => {
    const tick = setInterval(() => {
      const now = Math.min(performance.now(), end)
      const due = Math.floor((now - start) / interval)
      while (sent < due) {
        fire(start + sent * interval)
        sent++
      }
      if (now >= end) {
        clearInterval(tick)
        resolve()
      }
    }, 1)
  })
  // Let the last requests finish, within a bound.
  const drainUntil = performance.now() + 5_000
  const busy = () => inFlight > 0
  while (busy() && performance.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 5))
  await pool.destroy()
  const summary = latencies.summary()
  const lag = lags.summary()
  return { ...summary, rps: summary.ok / durationSeconds, seconds: durationSeconds, non2xx, errors, lagP99Ms: lag.p99, lagMaxMs: lag.max }
}

process.on('message', async (message) => {
  try {
    const result = message.kind === 'paced' ? await paced(message.options) : await closed(message.options)
    process.send({ id: message.id, result })
  } catch (error) {
    process.send({ id: message.id, error: String(error?.stack ?? error) })
  }
})
process.on('disconnect', () => process.exit(0))
process.send?.({ type: 'ready' })
