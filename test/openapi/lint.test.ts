// openapi.yaml passes Redocly's recommended rules (redocly.yaml) with no errors, offline.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../', import.meta.url))

interface LintReport {
  totals: { errors: number, warnings: number }
  problems: Array<{ severity: string, ruleId: string, message: string, location?: Array<{ pointer?: string }> }>
}

describe('openapi.yaml', () => {
  it('passes redocly lint with no errors', async () => {
    // The CLI exits 1 on errors; its JSON report is on stdout either way.
    const { stdout } = await promisify(execFile)('node_modules/.bin/redocly', ['lint', 'openapi.yaml', '--format=json'], {
      cwd: root,
      // No telemetry, no update check: the test must not reach the internet.
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true' },
      timeout: 20_000
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }))
    const report = JSON.parse(stdout) as LintReport
    const errors = report.problems.filter((problem) => problem.severity === 'error')
      .map((problem) => `${problem.ruleId} at ${problem.location?.[0]?.pointer ?? '?'}: ${problem.message}`)
    expect(errors).toEqual([])
    expect(report.totals.errors).toBe(0)
  })
})
