// deploy/kubernetes: every manifest valid against the Kubernetes API schemas, and probes, ports, env and shutdown timing fit the app.
import { readdirSync, readFileSync } from 'node:fs'
import { posix, join } from 'node:path'
import { Deployment } from 'kubernetes-models/apps/v1'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1'
import type { IContainer, IProbe } from 'kubernetes-models/v1'
import { parse as parseYaml } from 'yaml'
import { afterAll, describe, expect, inject, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { EnvSchema, loadEnv } from '../../src/config/env.js'
import { parseTenants } from '../../src/config/tenants.js'
import { lastOf, parseDockerfile } from '../../scripts/dockerfile.js'
import { REPO } from './compose-file.js'

const DIRECTORY = join(REPO, 'deploy/kubernetes')

/** The model class of every kind the manifests may use; a kind missing here fails the test rather than going unchecked. */
const MODELS: Record<string, { prototype: { validate: () => void } }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget
}

/** Variables Node itself reads, allowed in the ConfigMap beside the gateway's own. */
const NODE_VARIABLES = ['NODE_OPTIONS']

interface Manifest {
  file: string
  apiVersion: string
  kind: string
  metadata: { name: string, labels?: Record<string, string> }
  [key: string]: unknown
}

const files = readdirSync(DIRECTORY).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml').sort()
const manifests: Manifest[] = files.map((file) => ({ ...(parseYaml(readFileSync(join(DIRECTORY, file), 'utf8')) as Manifest), file }))
const only = <T>(kind: string): T & Manifest => {
  const found = manifests.filter((manifest) => manifest.kind === kind)
  expect(found, `exactly one ${kind}`).toHaveLength(1)
  return found[0] as T & Manifest
}

/**
 * Validates with the model's schema and lists fields the schema does not know. The compiled validators visit every
 * property they know by name and enumerate only maps (labels, data, limits), so an own key never read is a field the
 * API server would refuse (kubectl's default strict field validation) and the schema alone lets through.
 */
function check (manifest: Record<string, unknown>): { errors: string | null, unknownFields: string[] } {
  const key = `${String(manifest.apiVersion)}/${String(manifest.kind)}`
  const model = MODELS[key] ?? expect.fail(`no model for ${key}: add it to MODELS`)
  const read = new Set<string>()
  const enumerated = new Set<string>()
  const track = (value: unknown, path: string): unknown => {
    if (value === null || typeof value !== 'object') return value
    return new Proxy(value, {
      get (target, property, receiver) {
        if (typeof property === 'string') read.add(`${path}/${property}`)
        return track(Reflect.get(target, property, receiver), `${path}/${String(property)}`)
      },
      ownKeys (target) {
        enumerated.add(path)
        return Reflect.ownKeys(target)
      }
    })
  }
  const data = structuredClone(manifest)
  let errors: string | null = null
  try {
    model.prototype.validate.call(track(data, ''))
  } catch (error) {
    errors = (error as Error).message
  }
  const unknownFields: string[] = []
  const walk = (value: unknown, path: string): void => {
    if (value === null || typeof value !== 'object') return
    for (const [name, item] of Object.entries(value)) {
      const itemPath = `${path}/${name}`
      // Below an unknown field everything is unknown: name the field only.
      if (!Array.isArray(value) && !enumerated.has(path) && !read.has(itemPath)) unknownFields.push(itemPath)
      else walk(item, itemPath)
    }
  }
  walk(data, '')
  return { errors, unknownFields }
}

const { file: _file, ...deploymentObject } = only<Record<string, unknown>>('Deployment')
const deployment = new Deployment(deploymentObject as ConstructorParameters<typeof Deployment>[0])
const podSpec = deployment.spec?.template.spec ?? expect.fail('the Deployment has no pod spec')
const container: IContainer = podSpec.containers[0] ?? expect.fail('the Deployment has no container')
const configMap = only<{ data: Record<string, string> }>('ConfigMap')
const secret = only<{ stringData: Record<string, string> }>('Secret')
const service = only<{ spec: { selector: Record<string, string>, ports: Array<{ targetPort: string | number }> } }>('Service')
const hpa = only<{ spec: { scaleTargetRef: { kind: string, name: string }, minReplicas: number } }>('HorizontalPodAutoscaler')
const pdb = only<{ spec: { maxUnavailable?: number, selector: { matchLabels: Record<string, string> } } }>('PodDisruptionBudget')

/** The container's environment as the kubelet builds it from the ConfigMap and the Secret. */
function containerEnv (): Record<string, string> {
  const env: Record<string, string> = {}
  for (const source of container.envFrom ?? []) {
    expect(source.configMapRef?.name).toBe(configMap.metadata.name)
    Object.assign(env, configMap.data)
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef
    if (ref === undefined) {
      env[variable.name] = variable.value ?? ''
      continue
    }
    expect(ref.name).toBe(secret.metadata.name)
    const value = secret.stringData[ref.key]
    if (value === undefined) expect(ref.optional, `${variable.name}: the Secret has no key ${ref.key}, so the ref must be optional`).toBe(true)
    else env[variable.name] = value
  }
  return env
}

function probePort (probe: IProbe | undefined): number {
  const port = probe?.httpGet?.port ?? expect.fail('an httpGet probe')
  if (typeof port === 'number') return port
  return container.ports?.find((entry) => entry.name === port)?.containerPort ?? expect.fail(`no container port named ${port}`)
}

describe('deploy/kubernetes manifests', () => {
  it('lists every manifest in kustomization.yaml and nothing else', () => {
    const kustomization = parseYaml(readFileSync(join(DIRECTORY, 'kustomization.yaml'), 'utf8')) as { resources: string[] }
    expect([...kustomization.resources].sort()).toEqual(files)
  })

  it.each(files)('%s is valid against the Kubernetes API schema, with no unknown field', (file) => {
    const { file: _name, ...manifest } = manifests.find((entry) => entry.file === file) ?? expect.fail(file)
    expect(check(manifest)).toEqual({ errors: null, unknownFields: [] })
  })

  it('catches a wrong type and a misspelt field, so the check above has teeth', () => {
    const broken = structuredClone(deploymentObject) as unknown as { spec: { replicas: unknown, template: { spec: { containers: Array<Record<string, unknown>> } } } }
    broken.spec.replicas = 'three'
    const first = broken.spec.template.spec.containers[0] ?? {}
    first.readinessprobe = first.readinessProbe
    const result = check(broken)
    expect(result.errors).toMatch(/replicas must be integer/)
    expect(result.unknownFields).toEqual(['/spec/template/spec/containers/0/readinessprobe'])
  })

  it('selects the Deployment pods alike from the Deployment, the Service, the PodDisruptionBudget and the autoscaler', () => {
    const podLabels = deployment.spec?.template.metadata?.labels ?? {}
    expect(podLabels).toMatchObject(deployment.spec?.selector.matchLabels ?? { missing: true })
    expect(podLabels).toMatchObject(service.spec.selector)
    expect(podLabels).toMatchObject(pdb.spec.selector.matchLabels)
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata?.name })
    expect(deployment.spec?.replicas).toBe(3)
    expect(hpa.spec.minReplicas).toBe(deployment.spec?.replicas)
    expect(pdb.spec.maxUnavailable).toBeLessThan(hpa.spec.minReplicas)
    expect(service.spec.ports.map((port) => port.targetPort)).toEqual(['http'])
  })

  it('probes /healthz and /readyz on the container port, which is PORT and the image EXPOSE', () => {
    expect(container.livenessProbe?.httpGet?.path).toBe('/healthz')
    expect(container.startupProbe?.httpGet?.path).toBe('/healthz')
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz')
    const port = Number(containerEnv().PORT)
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) expect(probePort(probe)).toBe(port)
    const runtime = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8')).stages.at(-1)
    expect(runtime === undefined ? undefined : lastOf(runtime, 'EXPOSE')?.args).toEqual([String(port)])
    expect(deployment.spec?.template.metadata?.annotations?.['prometheus.io/port']).toBe(String(port))
  })

  it('sets only variables the gateway (or Node) reads, and they pass its own validation', () => {
    const unknown = Object.keys(configMap.data).filter((name) => !(name in EnvSchema.properties) && !NODE_VARIABLES.includes(name))
    expect(unknown).toEqual([])
    const env = loadEnv(containerEnv())
    expect(env.PORT).toBe(3000)
    expect(env.REDIS_URL).toMatch(/^redis:\/\//)
  })

  it('mounts the Secret\'s tenants file at TENANTS_FILE and gives the pod every variable that file uses', () => {
    const tenantsFile = containerEnv().TENANTS_FILE ?? expect.fail('TENANTS_FILE is not set')
    const mount = container.volumeMounts?.find((entry) => entry.mountPath === posix.dirname(tenantsFile)) ?? expect.fail('no mount holds TENANTS_FILE')
    expect(mount.readOnly).toBe(true)
    const volume = podSpec.volumes?.find((entry) => entry.name === mount.name)
    expect(volume?.secret?.secretName).toBe(secret.metadata.name)
    expect(volume?.secret?.items).toEqual([{ key: 'tenants.yaml', path: posix.basename(tenantsFile) }])
    expect(volume?.secret?.defaultMode).toBe(0o440)
    const tenants = parseTenants(parseYaml(secret.stringData['tenants.yaml'] ?? ''), containerEnv())
    expect(tenants.map((tenant) => tenant.id)).toEqual(['acme'])
  })

  it('stops within the pod\'s grace period: drain delay, then in-flight requests, then exit before SIGKILL', () => {
    const env = loadEnv(containerEnv())
    const preStopSeconds = Number(container.lifecycle?.preStop?.exec?.command?.join(' ').match(/sleep (\d+)/)?.[1] ?? 0)
    expect((podSpec.terminationGracePeriodSeconds ?? 30) * 1000).toBeGreaterThan(env.SHUTDOWN_GRACE_MS + preStopSeconds * 1000)
    expect(env.SHUTDOWN_DRAIN_DELAY_MS).toBeGreaterThan(0)
    // Below this the gateway warns at boot that a slow Fluent call may be cut at shutdown.
    expect(env.SHUTDOWN_GRACE_MS).toBeGreaterThanOrEqual(env.SHUTDOWN_DRAIN_DELAY_MS + env.FLUENT_TIMEOUT_MS)
  })

  it('runs locked down: non-root as the image user, read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp, writable /tmp', () => {
    const runtime = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8')).stages.at(-1)
    const imageUid = Number((runtime === undefined ? undefined : lastOf(runtime, 'USER')?.args[0])?.split(':')[0])
    expect(podSpec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: imageUid, seccompProfile: { type: 'RuntimeDefault' } })
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } })
    expect(container.securityContext?.privileged).not.toBe(true)
    expect(podSpec.automountServiceAccountToken).toBe(false)
    const tmp = container.volumeMounts?.find((entry) => entry.mountPath === '/tmp')
    expect(podSpec.volumes?.find((entry) => entry.name === tmp?.name)?.emptyDir).toBeDefined()
  })

  it('requests and limits CPU and memory, with the Node heap capped below the memory limit', () => {
    const { requests, limits } = container.resources ?? {}
    for (const resource of ['cpu', 'memory']) {
      expect(requests?.[resource], `requests.${resource}`).toBeDefined()
      expect(limits?.[resource], `limits.${resource}`).toBeDefined()
    }
    const limitMi = Number(/^(\d+)Mi$/.exec(String(limits?.memory))?.[1])
    const heapMi = Number(/--max-old-space-size=(\d+)/.exec(configMap.data.NODE_OPTIONS ?? '')?.[1])
    expect(heapMi).toBeGreaterThan(0)
    expect(heapMi).toBeLessThan(limitMi)
  })
})

describe('the probe paths in the app, configured from the manifests', () => {
  let app: FastifyInstance | undefined

  afterAll(async () => { await app?.close() })

  it('answers 200 on the liveness and readiness paths the Deployment probes', async () => {
    const env = containerEnv()
    // This run's Redis stands in for the cluster's.
    const parsed = loadEnv({ ...env, REDIS_URL: inject('redisUrl'), LOG_LEVEL: 'silent' })
    app = await buildApp({ ...parsed, tenants: parseTenants(parseYaml(secret.stringData['tenants.yaml'] ?? ''), env) })
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
      const response = await app.inject({ method: 'GET', url: probe?.httpGet?.path ?? '' })
      expect(response.statusCode, `${probe?.httpGet?.path ?? ''}: ${response.body}`).toBe(200)
    }
    expect((await app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ok', redis: 'up', schema: expect.any(Object) })
  })
})
