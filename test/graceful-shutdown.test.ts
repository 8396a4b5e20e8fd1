// Issue 8, item 7: shutdown in the order a load balancer needs. On SIGTERM the real server
// process answers /readyz 503 at once, but keeps accepting and serving requests for
// SHUTDOWN_DELAY_MS (while the balancer notices); then open streams end with `error`
// shutting_down + `done` (FIELD-NOTES 11), their Bedrock calls are aborted, and the
// process exits 0, all within SHUTDOWN_TIMEOUT_MS.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { ConfigError, loadConfig } from '../src/config.js'
import { build, startTestEmulator, TEST_CREDENTIALS_ENV, type SseEvent } from './helper.js'
import { freePort } from './support/net.js'
import { openStream } from './support/sse.js'
import { eventually } from './support/wait.js'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const HANG = { steps: [{ event: { messageStart: { role: 'assistant' as const } } }, { hang: true as const }], frameDelayMs: 0 }
/** The last events of a stream, without the partial `usage` (present only when Bedrock's first frame had arrived). */
const names = (events: SseEvent[]): string[] => events.filter(e => e.event !== 'usage').map(e => e.event === 'error' ? `error:${(e.data as { code: string }).code}` : e.event)

/** GET over a connection of its own (no keep-alive pool): proves new connections are accepted. */
async function getOnNewConnection (url: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

test('SIGTERM: readiness 503 first, requests still served during SHUTDOWN_DELAY_MS, then streams end with shutting_down + done, exit 0', { timeout: 60_000 }, async (t) => {
  const emulator = await startTestEmulator(t)
  emulator.enqueue(HANG, HANG)
  const port = await freePort()
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
    ...TEST_CREDENTIALS_ENV,
    BEDROCK_MODEL_ID: 'test.model-v1:0',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    // Long enough for a stream started inside it to reach Bedrock on a loaded machine (a
    // fresh process's first SDK call is slow); the test waits it out only once.
    SHUTDOWN_DELAY_MS: '3000',
    SHUTDOWN_TIMEOUT_MS: '10000',
    // As test/helper.ts: a busy test machine must not turn into 503 server_overloaded here.
    PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8') })
  const exited = new Promise<{ code: number | null, signal: string | null }>(resolve => child.on('exit', (code, signal) => resolve({ code, signal })))
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const url = `http://127.0.0.1:${port}`
  await eventually(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, 20_000)

  const before = await openStream(`${url}/v1/converse-stream?prompt=one`)
  t.after(() => before.close())
  await before.until('start')
  await emulator.waitForRequests(1)

  child.kill('SIGTERM')
  // Readiness turns first...
  await eventually(async () => (await fetch(`${url}/readyz`)).status === 503)
  const ready = await fetch(`${url}/readyz`)
  assert.equal((await ready.json() as { status: string }).status, 'shutting_down')
  // ...while the server still accepts connections and serves requests, streams included.
  assert.equal(await getOnNewConnection(`${url}/healthz`), 200)
  const during = await openStream(`${url}/v1/converse-stream?prompt=two`)
  t.after(() => during.close())
  assert.equal(during.status, 200, stderr)
  await during.until('start')
  await emulator.waitForRequests(2)
  assert.equal(during.headers.get('connection'), 'close', 'clients are told to reconnect elsewhere')

  // After the delay, every open stream ends with its final events, Bedrock calls aborted.
  for (const stream of [before, during]) assert.deepEqual(names(await stream.rest()), ['error:shutting_down', 'done'])
  assert.equal(await emulator.waitForOutcome(1), 'aborted')
  assert.equal(await emulator.waitForOutcome(2), 'aborted')
  assert.deepEqual(await exited, { code: 0, signal: null }, stderr)
})

test('in process: drain() turns readiness 503 and keeps serving; close() then ends the streams', async (t) => {
  const h = await build(t)
  h.emulator.enqueue(HANG)
  await h.app.bedrockSse.drain(0)
  const ready = await fetch(`${h.url}/readyz`)
  assert.equal(ready.status, 503)
  assert.equal(ready.headers.get('connection'), 'close')
  const stream = await openStream(`${h.url}/v1/converse-stream?prompt=hi`)
  assert.equal(stream.status, 200)
  await stream.until('start')
  await h.app.close()
  assert.deepEqual(names(await stream.rest()), ['error:shutting_down', 'done'])
})

test('a connection opened but never used (browsers open them ahead of time) does not hold close(); a kept-alive one neither', async (t) => {
  const h = await build(t)
  const { port } = new URL(h.url)
  const preconnected = connect(Number(port), '127.0.0.1')
  preconnected.on('error', () => {})
  await new Promise(resolve => preconnected.once('connect', resolve))
  const closedByServer = new Promise(resolve => preconnected.once('close', resolve))
  // And a keep-alive connection that served a request and waits for the next one.
  assert.equal((await fetch(`${h.url}/healthz`)).status, 200)
  let closed = false
  const closing = h.app.close().then(() => { closed = true })
  await eventually(() => closed, 20_000, 'close() to finish')
  await closing
  await closedByServer
})

test('SHUTDOWN_DELAY_MS is part of SHUTDOWN_TIMEOUT_MS: validated, and its default fits a short timeout', () => {
  assert.equal(loadConfig({}).shutdownDelayMs, 5000)
  assert.equal(loadConfig({ SHUTDOWN_TIMEOUT_MS: '3000' }).shutdownDelayMs, 1500)
  assert.equal(loadConfig({ SHUTDOWN_DELAY_MS: '0', SHUTDOWN_TIMEOUT_MS: '0' }).shutdownDelayMs, 0)
  assert.throws(() => loadConfig({ SHUTDOWN_DELAY_MS: '10000', SHUTDOWN_TIMEOUT_MS: '10000' }),
    (err: unknown) => err instanceof ConfigError && /SHUTDOWN_DELAY_MS \(10000\) must be less than SHUTDOWN_TIMEOUT_MS/.test(err.message))
})
