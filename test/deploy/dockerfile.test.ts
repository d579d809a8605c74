// Lints the Dockerfile and .dockerignore: pinned base, non-root runtime with an init, HEALTHCHECK and CMD that fit the app.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EnvSchema } from '../../src/config/env.js'
import { dockerignoreMatcher, execForm, healthcheckOf, lastOf, parseDockerfile, type Stage } from '../../scripts/dockerfile.js'
import { REPO } from './compose-file.js'

const dockerfile = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8'))
const ignored = dockerignoreMatcher(readFileSync(join(REPO, '.dockerignore'), 'utf8'))
const packageJson = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { main: string, scripts: Record<string, string>, engines: { node: string } }
const runtime: Stage = dockerfile.stages.at(-1) ?? expect.fail('the Dockerfile has no stage')
const build: Stage = dockerfile.stages.find((stage) => stage.name === 'build') ?? expect.fail('the Dockerfile has no build stage')
const runsOf = (stage: Stage): string[] => stage.instructions.filter((item) => item.keyword === 'RUN').map((item) => item.text)
/** Every NAME=value the runtime stage's ENV lines set. */
const imageEnv = runtime.instructions.filter((item) => item.keyword === 'ENV').flatMap((item) => item.args)
const version = (text: string): number[] => text.split('.').map(Number)

describe('Dockerfile', () => {
  it('pins every base image to a full Node version that satisfies package.json engines', () => {
    for (const stage of dockerfile.stages) {
      const match = /^node:(\d+\.\d+\.\d+)-[a-z]+(-slim)?(@sha256:[0-9a-f]{64})?$/.exec(stage.image)
      expect(match, `${stage.image} is pinned`).not.toBeNull()
      const minimum = version(/>=\s*(\d+\.\d+\.\d+)/.exec(packageJson.engines.node)?.[1] ?? expect.fail('engines.node should be >=x.y.z'))
      const actual = version(match?.[1] ?? '')
      const cmp = actual.map((part, index) => part - (minimum[index] ?? 0)).find((difference) => difference !== 0) ?? 0
      expect(cmp, `${stage.image} satisfies ${packageJson.engines.node}`).toBeGreaterThanOrEqual(0)
    }
    expect(new Set(dockerfile.stages.map((stage) => stage.image)).size).toBe(1)
  })

  it('builds with npm ci, npm run build and npm prune --omit=dev, in that order', () => {
    const runs = runsOf(build).join('\n')
    const positions = [/npm ci\b/, /npm run build\b/, /npm prune --omit=dev\b/].map((step) => runs.search(step))
    expect(positions.every((position) => position >= 0), runs).toBe(true)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)
  })

  it('ships only package.json, production node_modules, dist/ and the schema snapshot from the build stage', () => {
    const copies = runtime.instructions.filter((item) => item.keyword === 'COPY')
    expect(copies.map((item) => item.flags.from)).toEqual(copies.map(() => 'build'))
    expect(copies.map((item) => item.args.at(-1)).sort()).toEqual(['./dist', './node_modules', './package.json', './schema'])
  })

  it('runs as a non-root user given by number, so Kubernetes runAsNonRoot can check it', () => {
    const user = lastOf(runtime, 'USER')?.args[0] ?? expect.fail('the runtime stage sets no USER')
    const [uid, gid] = user.split(':').map(Number)
    expect(Number.isInteger(uid)).toBe(true)
    expect(uid).toBeGreaterThan(0)
    expect(gid).toBeGreaterThan(0)
    const userLine = lastOf(runtime, 'USER')?.line ?? 0
    expect(userLine).toBeLessThan(lastOf(runtime, 'CMD')?.line ?? 0)
  })

  it('starts node directly under tini, which it installs, in exec form', () => {
    expect(execForm(lastOf(runtime, 'ENTRYPOINT')?.text ?? '')).toEqual(['/usr/bin/tini', '--'])
    expect(runsOf(runtime).join('\n')).toMatch(/apt-get install [^\n]*\btini\b/)
    const cmd = execForm(lastOf(runtime, 'CMD')?.text ?? '')
    expect(cmd?.[0]).toBe('node')
    expect(cmd?.at(-1)).toBe(packageJson.main)
  })

  it('starts node with the V8 flags and the environment of npm start', () => {
    const cmd = execForm(lastOf(runtime, 'CMD')?.text ?? '') ?? expect.fail('the runtime stage has no CMD in exec form')
    for (const flag of cmd.slice(1, -1)) expect(flag).toMatch(/^--[a-z-]+(=\d+)?$/)
    const [, assignments = '', command] = /^((?:[A-Z_][A-Z0-9_]*=\S* )*)(.*)$/.exec(packageJson.scripts.start ?? '') ?? []
    expect(command).toBe(cmd.join(' '))
    // Every variable npm start sets, the image sets to the same value (NODE_ENV is the image's own).
    const startEnv = assignments.split(' ').filter((word) => word !== '')
    expect(startEnv.length).toBeGreaterThan(0)
    for (const assignment of startEnv) expect(imageEnv).toContain(assignment)
  })

  it('keeps the runtime stage free of build work: its RUN lines only install OS packages', () => {
    for (const run of runsOf(runtime)) {
      for (const command of run.split('&&').map((part) => part.trim())) {
        expect(command, run).toMatch(/^(apt-get (update|install)\b|rm -rf \/var\/lib\/apt\/lists\/\*$)/)
      }
    }
  })

  it('has a HEALTHCHECK that asks /healthz with node on the PORT the gateway listens on', () => {
    const health = healthcheckOf(runtime) ?? expect.fail('the runtime stage has no HEALTHCHECK')
    expect(health.command?.slice(0, 2)).toEqual(['node', '-e'])
    expect(health.command?.[2]).toContain('/healthz')
    expect(health.command?.[2]).toContain(`process.env.PORT||${EnvSchema.properties.PORT.default as number}`)
    for (const option of ['interval', 'timeout', 'start-period']) expect(health.options[option]).toMatch(/^\d+s$/)
    expect(Number(health.options.retries)).toBeGreaterThan(0)
  })

  it('sets NODE_ENV=production and exposes the default PORT', () => {
    expect(imageEnv).toContain('NODE_ENV=production')
    expect(lastOf(runtime, 'EXPOSE')?.args).toEqual([String(EnvSchema.properties.PORT.default)])
  })
})

describe('.dockerignore', () => {
  it('keeps dependencies, build output, git metadata and secrets out of the build context', () => {
    for (const path of ['node_modules/fastify/package.json', 'dist/server.js', '.git/HEAD', '.env', '.env.production', 'tenants.yaml', 'coverage/index.html']) {
      expect(ignored(path), path).toBe(true)
    }
  })

  it('lets through every file the Dockerfile copies from the context', () => {
    const sources = dockerfile.stages.flatMap((stage) => stage.instructions)
      .filter((item) => item.keyword === 'COPY' && item.flags.from === undefined)
      .flatMap((item) => item.args.slice(0, -1))
    expect(sources).toContain('src')
    expect(sources).toContain('schema')
    for (const source of sources) expect(ignored(source), source).toBe(false)
    expect(ignored('src/server.ts')).toBe(false)
  })

  it('reads patterns as Docker does: root-anchored, directories cover their files, ! re-includes, last match wins', () => {
    const matcher = dockerignoreMatcher('# comment\nlogs\n**/*.tmp\n!logs/keep.txt\n*.md\n!README.md\n')
    expect(matcher('logs/a.txt')).toBe(true)
    expect(matcher('logs/keep.txt')).toBe(false)
    expect(matcher('src/logs/a.txt')).toBe(false)
    expect(matcher('a/b/c.tmp')).toBe(true)
    expect(matcher('CHANGES.md')).toBe(true)
    expect(matcher('README.md')).toBe(false)
    expect(matcher('docs/guide.md')).toBe(false)
  })
})
