// The whole configuration of one gateway process: validated environment plus the tenants it serves, built in one place.
import { loadEnv, type Env } from './env.js'
import { loadRoutesFile, type OperatorRoute } from './routes.js'
import { loadTenantsFile, parseTenants, type Tenant } from './tenants.js'

export interface Config extends Env {
  tenants: Tenant[]
  /** Operator routes from ROUTES_FILE, validated against the bundled schema; none when unset. */
  routes?: OperatorRoute[]
}

export interface ConfigSource {
  /** Environment variables; process.env when not given. */
  env?: NodeJS.ProcessEnv
  /** The tenants file's content, for callers that make it in code (demo, OpenAPI build, tests); else TENANTS_FILE is read. */
  tenants?: unknown
}

/** The one config builder; any mistake throws an Error whose message names the variable, tenant or field. */
export function buildConfig (source: ConfigSource = {}): Config {
  const env = source.env ?? process.env
  const parsed = loadEnv(env, { tenantsGiven: source.tenants !== undefined })
  const tenants = source.tenants === undefined ? loadTenantsFile(parsed.TENANTS_FILE as string, env) : parseTenants(source.tenants, env)
  const routes = parsed.ROUTES_FILE === undefined ? [] : loadRoutesFile(parsed.ROUTES_FILE)
  return { ...parsed, tenants, routes }
}

/** Loads env and the tenants file named by TENANTS_FILE (what server.ts runs). */
export function loadConfig (env: NodeJS.ProcessEnv = process.env): Config {
  return buildConfig({ env })
}

export type { Env, OperatorRoute, Tenant }
