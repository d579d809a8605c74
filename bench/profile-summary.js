#!/usr/bin/env node
// Summarises a V8 .cpuprofile: self time by function (name + file + line), by module, and inclusive time of project code.
// Usage: node bench/profile-summary.js <file.cpuprofile> [--top 25]
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const META = new Set(['(idle)', '(program)', '(garbage collector)', '(root)'])

/** Shortens a callFrame url: project files relative to the repo, dependencies as node_modules/<pkg>/..., node internals as is. */
export function shortUrl (url) {
  if (url === '') return ''
  const modules = url.lastIndexOf('/node_modules/')
  if (modules !== -1) return url.slice(modules + 1)
  const dist = url.indexOf('/dist/')
  if (dist !== -1) return url.slice(dist + 1)
  return url.replace(/^file:\/\//, '')
}

/** The module a frame belongs to: a dependency package, the gateway's own dist/ code, node internals, or V8 meta. */
export function moduleOf (frame) {
  const { url, functionName } = frame
  if (url === '') return META.has(functionName) ? functionName : '(native / V8 builtins)'
  const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)
  if (match !== null) return match[1]
  if (url.includes('/dist/')) return 'gateway (dist/)'
  if (url.startsWith('node:')) return 'node core'
  return shortUrl(url)
}

function keyOf (frame) {
  return `${frame.functionName || '(anonymous)'}\t${shortUrl(frame.url)}:${frame.lineNumber + 1}`
}

/** Self time per node id (µs), counting only samples taken within [fromUs, toUs] (the monotonic clock of process.hrtime). */
function selfTimes (profile, fromUs = -Infinity, toUs = Infinity) {
  const selfUs = new Map()
  let at = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0
    if (at < fromUs || at > toUs) continue
    // timeDeltas[i + 1] is the time until the next sample, i.e. the time spent in sample i.
    const id = profile.samples[i]
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0))
  }
  return selfUs
}

/**
 * Aggregates the profile; times in milliseconds. `window` ({ fromUs, toUs }, from process.hrtime) keeps only the samples
 * taken under load, so boot (module loading, schema compilation) does not count; ignored when it matches no sample.
 */
export function summarise (profile, window = {}) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  let selfUs = selfTimes(profile, window.fromUs, window.toUs)
  const windowed = selfUs.size > 0
  if (!windowed) selfUs = selfTimes(profile)

  let totalUs = 0
  let idleUs = 0
  const functions = new Map()
  const modules = new Map()
  for (const node of profile.nodes) {
    const self = selfUs.get(node.id) ?? 0
    totalUs += self
    if (node.callFrame.functionName === '(idle)') idleUs += self
    const key = keyOf(node.callFrame)
    functions.set(key, (functions.get(key) ?? 0) + self)
    const module = moduleOf(node.callFrame)
    modules.set(module, (modules.get(module) ?? 0) + self)
  }

  // Inclusive time of project functions, counting a function once per stack even when it recurses.
  const inclusive = new Map()
  const walk = (id, onStack) => {
    const node = byId.get(id)
    const key = node.callFrame.url.includes('/dist/') ? keyOf(node.callFrame) : undefined
    const fresh = key !== undefined && !onStack.has(key)
    if (fresh) onStack.add(key)
    let total = selfUs.get(id) ?? 0
    for (const child of node.children ?? []) total += walk(child, onStack)
    if (fresh) {
      inclusive.set(key, (inclusive.get(key) ?? 0) + total)
      onStack.delete(key)
    }
    return total
  }
  walk(profile.nodes[0].id, new Set())

  const busyUs = totalUs - idleUs
  const rank = (map) => [...map].map(([name, us]) => ({ name, ms: us / 1000, busyShare: busyUs === 0 ? 0 : us / busyUs }))
    .sort((a, b) => b.ms - a.ms)
  return {
    windowed: windowed && (window.fromUs !== undefined || window.toUs !== undefined),
    totalMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    functions: rank(functions).filter((entry) => entry.name.split('\t')[0] !== '(idle)'),
    modules: rank(modules).filter((entry) => entry.name !== '(idle)'),
    projectInclusive: rank(inclusive)
  }
}

const pct = (share) => `${(share * 100).toFixed(1).padStart(5)}%`

/** The summary as printable text. */
export function formatSummary (summary, top = 25) {
  const lines = []
  lines.push(`profiled ${summary.totalMs.toFixed(0)} ms${summary.windowed ? ' (under load only)' : ''}, busy (not idle) ${summary.busyMs.toFixed(0)} ms; shares below are of busy time`)
  lines.push('', `top ${top} functions by self time:`)
  for (const entry of summary.functions.slice(0, top)) {
    const [name, where] = entry.name.split('\t')
    lines.push(`  ${pct(entry.busyShare)} ${entry.ms.toFixed(0).padStart(7)} ms  ${name}  ${where}`)
  }
  lines.push('', 'self time by module:')
  for (const entry of summary.modules.slice(0, 15)) lines.push(`  ${pct(entry.busyShare)} ${entry.ms.toFixed(0).padStart(7)} ms  ${entry.name}`)
  lines.push('', 'gateway functions by inclusive time (self + callees):')
  for (const entry of summary.projectInclusive.slice(0, 15)) {
    const [name, where] = entry.name.split('\t')
    lines.push(`  ${pct(entry.busyShare)} ${entry.ms.toFixed(0).padStart(7)} ms  ${name}  ${where}`)
  }
  return lines.join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2]
  if (file === undefined) {
    console.error('usage: node bench/profile-summary.js <file.cpuprofile> [--top N]')
    process.exit(2)
  }
  const topIndex = process.argv.indexOf('--top')
  const top = topIndex === -1 ? 25 : Number(process.argv[topIndex + 1])
  console.log(formatSummary(summarise(JSON.parse(readFileSync(file, 'utf8'))), top))
}
