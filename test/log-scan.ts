// Secrets never reach a log line (issue 4). build() in helper.ts runs this on every
// proxy's captured logs when its test ends, so the whole suite is scanned: each test
// adds the keys, tickets and tokens it used to `h.secrets`; the AWS secret and any key,
// ticket or JWT secret in the env are added for it. Shapes are caught too: a Bearer
// credential, a ticket-shaped token, a JWT.
import assert from 'node:assert/strict'
import type { Env } from '../src/config.js'

export const AWS_TEST_SECRET = 'test-secret-never-logged'

const SHAPES: Array<[string, RegExp]> = [
  ['an Authorization value', /Bearer\s+(?!realm=)\S/i], // not the WWW-Authenticate challenge
  ['a ticket', /[A-Za-z0-9_-]{60,}\.[A-Za-z0-9_-]{43}\b/],
  ['a JWT', /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{10,}/],
]

/** The secrets a configuration holds (the raw API_KEYS entries and the signing secrets). */
export function secretsOfEnv (env: Env = {}): string[] {
  const keys = (env.API_KEYS ?? '').split(',').map(s => s.trim()).filter(s => s.length >= 8 && !s.startsWith('sha256:'))
  return [AWS_TEST_SECRET, ...keys, env.TICKET_SECRET, env.JWT_SECRET, env.METRICS_TOKEN].filter((s): s is string => s !== undefined && s !== '')
}

export function assertNoSecretsInLogs (logs: ReadonlyArray<Record<string, unknown>>, secrets: Iterable<string>): void {
  const lines = logs.map(line => JSON.stringify(line))
  for (const secret of secrets) {
    const hit = lines.find(line => line.includes(secret))
    assert.equal(hit, undefined, `a log line contains a secret (${secret.slice(0, 4)}...)`)
  }
  for (const [what, shape] of SHAPES) {
    const hit = lines.find(line => shape.test(line))
    assert.equal(hit, undefined, `a log line contains ${what}: ${hit?.slice(0, 300) ?? ''}`)
  }
}
