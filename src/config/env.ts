// Environment configuration: one TypeBox schema, validated at boot so a bad value stops the process with its name.
import { Type, type Static } from '@sinclair/typebox'
import envSchema from 'env-schema'
import { redisSettings, type RedisSettings } from './redis-settings.js'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = typeof LOG_LEVELS[number]

export const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3000, description: 'TCP port to listen on' }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0', description: 'address to listen on' }),
  // One enum rather than a union of literals, so a bad value gives one message listing the levels, not one per level.
  LOG_LEVEL: Type.Unsafe<LogLevel>(Type.String({ enum: [...LOG_LEVELS], default: 'info', description: `pino level: ${LOG_LEVELS.join(', ')}` })),
  TENANTS_FILE: Type.Optional(Type.String({ minLength: 1, description: 'path of the tenants file (YAML or JSON); required unless the tenants are handed over in code (demo, tests)' })),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://', description: 'redis:// or rediss:// URL; unset: in-process token cache only' })),
  REDIS_SENTINELS: Type.Optional(Type.String({ minLength: 1, description: 'Redis Sentinel: comma-separated host:port of the sentinels (instead of REDIS_URL)' })),
  REDIS_SENTINEL_NAME: Type.Optional(Type.String({ minLength: 1, description: 'Redis Sentinel: name of the monitored master; required with REDIS_SENTINELS' })),
  REDIS_SENTINEL_PASSWORD: Type.Optional(Type.String({ minLength: 1, description: 'Redis Sentinel: password of the sentinels themselves' })),
  REDIS_CLUSTER_NODES: Type.Optional(Type.String({ minLength: 1, description: 'Redis Cluster: comma-separated host:port of some cluster nodes (instead of REDIS_URL)' })),
  REDIS_PASSWORD: Type.Optional(Type.String({ minLength: 1, description: 'password of the Redis servers found through REDIS_SENTINELS or REDIS_CLUSTER_NODES (REDIS_URL carries its own)' })),
  REDIS_KEY_PREFIX: Type.String({ default: 'fgw:', description: 'prefix of every Redis key the gateway writes' }),
  REDIS_COMMAND_TIMEOUT_MS: Type.Integer({ minimum: 10, maximum: 60_000, default: 250, description: 'a Redis command slower than this counts as a failure' }),
  TOKEN_FAILURE_BACKOFF_MS: Type.Integer({ minimum: 0, maximum: 600_000, default: 5_000, description: 'how long refused Fluent credentials are remembered before the token endpoint is asked again' }),
  TOKEN_ENCRYPTION_KEY: Type.Optional(Type.String({ description: 'base64 of 32 bytes: encrypt tokens at rest in Redis' })),
  FLUENT_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 300_000, default: 15_000, description: 'whole deadline of one upstream call, retries included' }),
  SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 1000, maximum: 600_000, default: 25_000, description: 'on SIGTERM, how long in-flight requests may take before the process exits anyway' }),
  SHUTDOWN_DRAIN_DELAY_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 0, description: 'on SIGTERM, how long readiness answers 503 before the listener closes (let load balancers notice)' }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 2 * 1024 * 1024, default: 1024 * 1024, description: 'largest request body accepted (Fluent itself refuses over 2 MB)' }),
  FLUENT_CIRCUIT_FAILURES: Type.Integer({ minimum: 1, maximum: 1000, default: 5, description: 'consecutive failures (connection errors, 5xx, timeouts) of one Fluent origin that open its circuit' }),
  FLUENT_CIRCUIT_COOL_DOWN_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000, description: 'how long an open circuit answers 502 at once before one probe call may reach Fluent' }),
  RATE_LIMIT_MAX: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 600, description: 'requests one API key may make per window (shared by all replicas through Redis); 0 turns the limit off' }),
  RATE_LIMIT_WINDOW_MS: Type.Integer({ minimum: 1000, maximum: 86_400_000, default: 60_000, description: 'length of the rate-limit window' }),
  RATE_LIMIT_SYNC_MS: Type.Integer({ minimum: 10, maximum: 1_000, default: 100, description: 'how often each replica sends its rate-limit counts to Redis and learns the shared totals; the budget can be overshot by at most replicas × rate × this' }),
  IDEMPOTENCY_TTL_S: Type.Integer({ minimum: 60, maximum: 30 * 86_400, default: 86_400, description: 'how long an Idempotency-Key and its answer are kept' }),
  STOCK_UPLOAD_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 1024 * 1024 * 1024, default: 50 * 1024 * 1024, description: 'largest PUT /stock body (JSON or CSV), streamed' }),
  ROUTES_FILE: Type.Optional(Type.String({ minLength: 1, description: 'operator-defined routes (YAML); unset: none' })),
  SCHEMA_CHECK_INTERVAL_MS: Type.Integer({ minimum: 0, maximum: 7 * 86_400_000, default: 3_600_000, description: "how often each tenant's live Fluent schema is checked against the documents the gateway sends; 0 turns it off" }),
  MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 1_000, description: 'mean event-loop delay over which API requests are shed with 503; 0 turns shedding off' }),
  WEBHOOK_RETENTION_S: Type.Integer({ minimum: 60, maximum: 90 * 86_400, default: 604_800, description: 'how long received webhooks stay in the outbox (and are de-duplicated and retried to forwardUrl)' }),
  WEBHOOK_CLAIM_IDLE_MS: Type.Integer({ minimum: 1_000, maximum: 3_600_000, default: 30_000, description: 'a forwarded webhook whose replica has not touched it for this long (it died) is taken over by another replica' })
})

/** The validated environment, with the Redis choice parsed once. */
export type Env = Static<typeof EnvSchema> & { redis: RedisSettings | undefined }

export interface LoadEnvOptions {
  /** The tenants come from elsewhere (the demo, the OpenAPI build, tests): TENANTS_FILE is not needed. */
  tenantsGiven?: boolean
}

/** Reads and validates the environment; throws an Error naming the offending variable. */
export function loadEnv (env: NodeJS.ProcessEnv = process.env, options: LoadEnvOptions = {}): Env {
  const config = envSchema<Static<typeof EnvSchema>>({ schema: EnvSchema, data: env, dotenv: false })
  if (config.TENANTS_FILE === undefined && options.tenantsGiven !== true) {
    throw new Error('env/TENANTS_FILE is required: the path of the tenants file (YAML or JSON; see tenants.example.yaml)')
  }
  // Strict base64 of 32 bytes: Node's decoder skips stray characters, which would let a mangled key through.
  if (config.TOKEN_ENCRYPTION_KEY !== undefined) {
    if (!/^[A-Za-z0-9+/]{43}=$/.test(config.TOKEN_ENCRYPTION_KEY)) {
      throw new Error('env/TOKEN_ENCRYPTION_KEY must be base64 of exactly 32 bytes (make one with: openssl rand -base64 32)')
    }
  }
  const redis = redisSettings(config)
  // The drain delay is spent inside the grace period: a grace no longer than it cuts every in-flight request at SIGTERM.
  if (config.SHUTDOWN_GRACE_MS <= config.SHUTDOWN_DRAIN_DELAY_MS) {
    throw new Error(`env/SHUTDOWN_GRACE_MS (${config.SHUTDOWN_GRACE_MS}) must be longer than SHUTDOWN_DRAIN_DELAY_MS (${config.SHUTDOWN_DRAIN_DELAY_MS})`)
  }
  return { ...config, redis }
}
