// The proxy as a Fastify plugin (issue 9): mounted in a host app under a prefix, its
// hooks stay in its scope; every /v1 route declares what it does, and a route that
// declares nothing stops start-up (fail closed).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import Fastify from 'fastify'
import { loadConfig } from '../src/config.js'
import { bedrockSse } from '../src/plugin.js'
import { requireRouteKinds } from '../src/plugins/route-kind.js'
import * as pkg from '../src/index.js'
import { freePort } from './support/net.js'
import { build, emulatorClient, fetchSse, joinText, startTestEmulator, TEST_CREDENTIALS_ENV } from './helper.js'
import { bearer, errorOf, KEY_A } from './security-helper.js'

test('every /v1 route declares its kind; the hooks read the declaration', async (t) => {
  const h = await build(t)
  const table = [...h.app.bedrockSse.routes].map(r => `${r.method} ${r.url} ${r.kind}`).sort()
  assert.deepEqual(table, [
    'DELETE /v1/streams/:streamId cancel',
    'GET /v1/converse-stream generate',
    'GET /v1/models read',
    'GET /v1/streams/:streamId resume',
    'GET /v1/ui-chat/:chatId/stream resume',
    'POST /v1/chat/completions generate',
    'POST /v1/converse generate',
    'POST /v1/converse-stream generate',
    'POST /v1/tickets tickets',
    'POST /v1/ui-chat generate',
  ])
})

test('a /v1 route that declares no kind stops start-up', async () => {
  const app = Fastify()
  requireRouteKinds(app, [])
  assert.throws(() => app.get('/undeclared', async () => 'never served'), /GET \/undeclared declares no config\.kind/)
  app.get('/declared', { config: { kind: 'generate' } }, async () => 'served')
  await app.ready()
})

test('mounted in a host app under a prefix: the proxy serves there, the host\'s own routes keep their behaviour', async (t) => {
  const emulator = await startTestEmulator(t)
  const bedrock = emulatorClient(emulator)
  t.after(() => bedrock.destroy())
  const host = Fastify()
  host.get('/hello', async () => ({ hello: 'world' }))
  await host.register(bedrockSse, { config: loadConfig({ AWS_REGION: 'us-east-1', BEDROCK_MODEL_ID: 'test.model-v1:0', API_KEYS: KEY_A, LOG_LEVEL: 'silent' }), bedrock, prefix: '/ai' })
  const url = await host.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => host.close())

  const res = await fetchSse(`${url}/ai/v1/converse-stream?prompt=hello`, { headers: bearer(KEY_A) })
  assert.equal(res.status, 200)
  assert.ok(joinText(res.events).length > 0)
  assert.equal(res.events.at(-1)?.event, 'done')
  const refused = await fetch(`${url}/ai/v1/converse-stream?prompt=hello`)
  assert.equal(refused.status, 401, 'the proxy\'s auth guards its own routes')
  assert.equal((await errorOf(refused)).code, 'unauthorized')
  assert.equal((await fetch(`${url}/ai/healthz`)).status, 200)
  const hello = await fetch(`${url}/hello`)
  assert.equal(hello.status, 200, 'and nothing else: no key needed on the host\'s route')
  assert.deepEqual(await hello.json(), { hello: 'world' })
  assert.equal(emulator.requests.length, 1)
})

test('the model is checked before anything is counted: a refused model costs no budget and no slot', async (t) => {
  const h = await build(t, { env: { API_KEYS: KEY_A, TOKEN_BUDGET_PER_KEY: '10', MAX_STREAMS_PER_KEY: '1', RATE_LIMIT_MAX: '0' } })
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${h.url}/v1/converse-stream?prompt=hi&model=not.allowed-v1:0`, { headers: bearer(KEY_A) })
    assert.equal(res.status, 400)
    assert.equal((await errorOf(res)).code, 'model_not_allowed')
  }
  const ok = await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`, { headers: bearer(KEY_A) })
  assert.equal(ok.status, 200, 'the budget and the one slot are still there')
  assert.equal(h.emulator.requests.length, 1)
})

test('the package exports the plugin, the composition, the config loader and the contracts', () => {
  assert.equal(typeof pkg.bedrockSse, 'function')
  assert.equal(typeof pkg.composeApp, 'function')
  assert.equal(typeof pkg.loadConfig, 'function')
  assert.equal(typeof pkg.startServer, 'function')
  assert.ok(pkg.RELAY_EVENT_TYPES.includes('text'))
  assert.equal(pkg.ERROR_CATALOGUE.unauthorized.status, 401)
})

test('the bin (npx bedrock-sse-proxy) starts the server from the environment and exits 0 on SIGTERM', async (t) => {
  const emulator = await startTestEmulator(t)
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts'], {
    cwd: new URL('../', import.meta.url),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url, ...TEST_CREDENTIALS_ENV, LOG_LEVEL: 'warn', SHUTDOWN_DELAY_MS: '0', PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
  let health: Response | undefined
  for (let i = 0; i < 200 && health === undefined && child.exitCode === null; i++) {
    health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined)
    if (health === undefined) await new Promise(resolve => setTimeout(resolve, 100))
  }
  assert.equal(health?.status, 200)
  const res = await fetchSse(`http://127.0.0.1:${port}/v1/converse-stream?prompt=hello`)
  assert.equal(res.events.at(-1)?.event, 'done')
  child.kill('SIGTERM')
  assert.equal(await exited, 0)
})
