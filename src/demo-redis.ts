// For `npm run demo` without REDIS_URL: a private, throwaway redis-server when one is on PATH, so the demo shows what
// needs Redis too (the webhook outbox, idempotent replays, tokens shared through L2). Nothing is kept on disk.
import { spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'

export interface DemoRedis {
  url: string
  stop: () => void
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0))
    })
  })
}

/** Starts one, or answers undefined when redis-server is not installed or does not start within 5 s. */
export async function startDemoRedis (): Promise<DemoRedis | undefined> {
  if (spawnSync('redis-server', ['--version']).status !== 0) return undefined
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] })
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5_000)
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('Ready to accept connections')) { clearTimeout(timer); resolve(true) }
    })
    child.once('exit', () => { clearTimeout(timer); resolve(false) })
  })
  child.stdout.resume()
  if (!ready) {
    child.kill('SIGKILL')
    return undefined
  }
  process.once('exit', () => child.kill('SIGKILL'))
  return { url: `redis://127.0.0.1:${port}`, stop: () => { child.kill('SIGTERM') } }
}
