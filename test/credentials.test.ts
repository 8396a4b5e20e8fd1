// Issue 8, item 5: missing AWS credentials are a configuration problem of the server
// (FIELD-NOTES 25), not Bedrock refusing a model. The real server process, with an empty
// credential chain (no AWS_* keys, no profile files, no instance metadata), against the
// emulator: the start-up check warns, /readyz says so, and every call ends with its own
// code, upstream_credentials, logged at error level on both paths.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { ERROR_CATALOGUE } from '../src/errors.js'
import { build, fetchSse, eventNames, startTestEmulator } from './helper.js'
import { freePort } from './support/net.js'
import { eventually } from './support/wait.js'

const ROOT = fileURLToPath(new URL('../', import.meta.url))

test('no credentials anywhere: start-up warns, /readyz reports it, calls fail with upstream_credentials at error level', { timeout: 60_000 }, async (t) => {
  const emulator = await startTestEmulator(t)
  const home = await mkdtemp(path.join(tmpdir(), 'bsp-no-credentials-'))
  t.after(() => rm(home, { recursive: true, force: true }))
  const port = await freePort()
  // Nothing the SDK's default chain could find: no AWS_* variables from this process, no
  // ~/.aws (HOME is empty, the files point nowhere), no instance metadata.
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: home }
  Object.assign(env, {
    AWS_CONFIG_FILE: path.join(home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
    BEDROCK_MODEL_ID: 'test.model-v1:0',
    PORT: String(port),
    LOG_LEVEL: 'info',
    PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0', // as test/helper.ts: no overload refusals on a busy test machine
  })
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const logs: Array<Record<string, unknown>> = []
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8')
    const lines = stdout.split('\n')
    stdout = lines.pop() ?? ''
    for (const line of lines) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>)
  })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8') })
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const url = `http://127.0.0.1:${port}`

  // The check runs after listen and never blocks it; /readyz reports its answer.
  await eventually(async () => {
    const res = await fetch(`${url}/readyz`).catch(() => undefined)
    return res !== undefined && (await res.json() as { credentials?: string }).credentials === 'missing'
  }, 20_000).catch(() => { throw new Error(`readyz never said credentials: missing; stderr:\n${stderr}`) })
  const ready = await fetch(`${url}/readyz`)
  assert.equal(ready.status, 200, 'not unready: draining this instance cannot bring credentials')
  // Only what credentials decide: a busy test machine may also report pressure (not this test's subject).
  const { pressure: _pressure, ...readiness } = await ready.json() as Record<string, unknown>
  assert.deepEqual(readiness, { status: 'degraded', openStreams: 0, runningStreams: 0, redis: 'off', credentials: 'missing' })
  const warning = logs.find(l => l.msg === 'no AWS credentials found: every Bedrock call will fail with upstream_credentials')
  assert.ok(warning !== undefined, JSON.stringify(logs))
  assert.equal(warning.level, 40)

  const expected = { code: 'upstream_credentials', message: ERROR_CATALOGUE.upstream_credentials.message, retryable: false }
  const stream = await fetchSse(`${url}/v1/converse-stream?prompt=hi`)
  assert.equal(stream.status, 200)
  assert.deepEqual(eventNames(stream.events), ['start', 'error', 'done'])
  assert.deepEqual(stream.events[1]?.data, expected)
  const converse = await fetch(`${url}/v1/converse`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"hi"}' })
  assert.equal(converse.status, 500)
  assert.deepEqual(await converse.json(), { error: { code: 'upstream_credentials', message: expected.message } })
  assert.equal(emulator.requests.length, 0, 'nothing was sent to Bedrock')

  child.kill('SIGINT')
  assert.equal(await exited, 0, stderr)
  // One pipeline: the stream (streamId) and the document call (callId) fail alike.
  const failures = logs.filter(l => l.msg === 'stream failed')
  assert.deepEqual(failures.map(l => 'streamId' in l ? 'stream' : 'callId' in l ? 'document' : '?').sort(), ['document', 'stream'])
  for (const line of failures) {
    assert.equal(line.level, 50, 'logged at error level')
    assert.equal((line.err as { type?: string }).type, 'CredentialsProviderError')
  }
})

test('/readyz: credentials unchecked until known, ok once a call went through', async (t) => {
  const h = await build(t)
  const before = await (await fetch(`${h.url}/readyz`)).json() as { credentials: string }
  assert.equal(before.credentials, 'unchecked')
  const res = await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`)
  assert.equal(eventNames(res.events).at(-1), 'done')
  assert.deepEqual(await (await fetch(`${h.url}/readyz`)).json(), { status: 'ready', openStreams: 0, runningStreams: 0, redis: 'off', credentials: 'ok', pressure: 'ok' })
})
