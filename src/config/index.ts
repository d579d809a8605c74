// The whole configuration of one gateway process: validated environment plus the tenants it serves.
import { loadEnv, type Env } from './env.js'
import { loadTenantsFile, type Tenant } from './tenants.js'

export interface Config extends Env {
  tenants: Tenant[]
}

/** Loads env and tenants file; any mistake throws an Error whose message names the variable, tenant or field. */
export function loadConfig (env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = loadEnv(env)
  return { ...parsed, tenants: loadTenantsFile(parsed.TENANTS_FILE, env) }
}

export type { Env, Tenant }
