// Which Redis the gateway shares state through (one server, Sentinel or Cluster), read from the environment once.

export interface HostPort {
  host: string
  port: number
}

/** Pure data, checked at boot; src/redis/connection.ts turns it into ioredis options. */
export type RedisSettings =
  | { mode: 'standalone', url: string, password?: string }
  | { mode: 'sentinel', sentinels: HostPort[], name: string, sentinelPassword?: string, password?: string }
  | { mode: 'cluster', nodes: HostPort[], password?: string }

/** The environment variables that choose Redis (see env.ts). */
export interface RedisVariables {
  REDIS_URL?: string | undefined
  REDIS_SENTINELS?: string | undefined
  REDIS_SENTINEL_NAME?: string | undefined
  REDIS_SENTINEL_PASSWORD?: string | undefined
  REDIS_CLUSTER_NODES?: string | undefined
  REDIS_PASSWORD?: string | undefined
}

/** Parses `host:port,host:port` (IPv6 hosts in brackets); throws naming the variable. */
function parseHostList (value: string, variable: string): HostPort[] {
  const hosts = value.split(',').map((item) => item.trim()).filter((item) => item !== '').map((item) => {
    const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/.exec(item)
    const port = Number(match?.[2])
    if (match === null || port < 1 || port > 65535) {
      throw new Error(`env/${variable} must be a comma-separated list of host:port, got "${item}"`)
    }
    return { host: (match[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port }
  })
  if (hosts.length === 0) throw new Error(`env/${variable} must list at least one host:port`)
  return hosts
}

/** The Redis the variables name, undefined for none; throws naming the variable when they are malformed or clash. */
export function redisSettings (env: RedisVariables): RedisSettings | undefined {
  const modes = (['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'] as const).filter((name) => env[name] !== undefined)
  // Each names the variable when a host:port item is malformed.
  const sentinels = env.REDIS_SENTINELS === undefined ? undefined : parseHostList(env.REDIS_SENTINELS, 'REDIS_SENTINELS')
  const nodes = env.REDIS_CLUSTER_NODES === undefined ? undefined : parseHostList(env.REDIS_CLUSTER_NODES, 'REDIS_CLUSTER_NODES')
  if (modes.length > 1) throw new Error(`env/${modes[1]} cannot be combined with ${modes[0]}: set only one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES`)
  if ((sentinels === undefined) !== (env.REDIS_SENTINEL_NAME === undefined)) {
    throw new Error('env/REDIS_SENTINEL_NAME and REDIS_SENTINELS go together: the sentinels and the name of the master they monitor')
  }
  const password = env.REDIS_PASSWORD === undefined ? {} : { password: env.REDIS_PASSWORD }
  if (nodes !== undefined) return { mode: 'cluster', nodes, ...password }
  if (sentinels !== undefined) {
    return {
      mode: 'sentinel',
      sentinels,
      name: env.REDIS_SENTINEL_NAME ?? 'mymaster',
      ...(env.REDIS_SENTINEL_PASSWORD === undefined ? {} : { sentinelPassword: env.REDIS_SENTINEL_PASSWORD }),
      ...password
    }
  }
  if (env.REDIS_URL !== undefined) return { mode: 'standalone', url: env.REDIS_URL, ...password }
  return undefined
}
