// Vitest global setup: one private redis-server for the run; test files read its URL with inject('redisUrl').
import type {} from 'vitest'
import type { TestProject } from 'vitest/node'
import { startRedisServer } from '../helpers/redis-server.js'

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string
  }
}

export default async function setup (project: TestProject): Promise<() => Promise<void>> {
  const redis = await startRedisServer()
  project.provide('redisUrl', redis.url)
  return async () => { await redis.stop() }
}
