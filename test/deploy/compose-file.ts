// Reads docker-compose.yml as Compose would: YAML with merge keys, then ${VAR} interpolation from an environment.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'

export const REPO = join(import.meta.dirname, '..', '..')

export interface ComposeService {
  image?: string
  build?: unknown
  command?: string[] | string
  environment?: Record<string, string | number | boolean | null> | string[]
  healthcheck?: { test?: string[] | string, disable?: boolean, interval?: string, timeout?: string, retries?: number }
  ports?: Array<string | number | Record<string, unknown>>
  volumes?: Array<string | Record<string, unknown>>
  depends_on?: string[] | Record<string, { condition: string }>
  stop_grace_period?: string
  [key: string]: unknown
}

export interface ComposeFile {
  services: Record<string, ComposeService>
  [key: string]: unknown
}

/** The raw file: YAML with `<<` merge keys resolved, before interpolation. */
export function readComposeFile (path = join(REPO, 'docker-compose.yml')): ComposeFile {
  return parseYaml(readFileSync(path, 'utf8'), { merge: true }) as ComposeFile
}

const VARIABLE = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g

/** Compose's interpolation: $$ is a dollar, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR} and $VAR. */
export function interpolate (text: string, env: Record<string, string | undefined>, unset: Set<string> = new Set()): string {
  return text.replace(VARIABLE, (match, braced: string | undefined, operator: string | undefined, operand: string | undefined, bare: string | undefined) => {
    if (match === '$$') return '$'
    const name = braced ?? bare ?? ''
    const value = env[name]
    if (operator === ':-') return value === undefined || value === '' ? operand ?? '' : value
    if (operator === '-') return value ?? operand ?? ''
    if (operator?.endsWith('?') === true) {
      if (value === undefined || (operator === ':?' && value === '')) throw new Error(`compose: ${name} is required: ${operand ?? ''}`)
      return value
    }
    if (value === undefined) unset.add(name)
    return value ?? ''
  })
}

/** Every string in the file interpolated; names used without a default and unset in `env` are added to `unset`. */
export function interpolateAll<T> (value: T, env: Record<string, string | undefined>, unset: Set<string> = new Set()): T {
  if (typeof value === 'string') return interpolate(value, env, unset) as T
  if (Array.isArray(value)) return value.map((item: unknown) => interpolateAll(item, env, unset)) as T
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateAll(item, env, unset)])) as T
  }
  return value
}

/** A service's environment as a map of strings, whichever of the two forms the file uses. */
export function environmentOf (service: ComposeService): Record<string, string> {
  const environment = service.environment ?? {}
  if (Array.isArray(environment)) {
    return Object.fromEntries(environment.map((entry) => {
      const at = entry.indexOf('=')
      return at === -1 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)]
    }))
  }
  return Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, value === null ? '' : String(value)]))
}

/** Short-syntax bind mounts of a service as {source, target} with the source resolved against the repository. */
export function bindMountsOf (service: ComposeService): Array<{ source: string, target: string, readOnly: boolean }> {
  return (service.volumes ?? []).filter((volume): volume is string => typeof volume === 'string').map((volume) => {
    const [source = '', target = '', mode = ''] = volume.split(':')
    return { source: join(REPO, source), target, readOnly: mode.split(',').includes('ro') }
  })
}
