// Issue 8, item 4: Stop behind a reverse proxy. nginx's plain `proxy_pass` rewrites Host
// to the upstream's address (FIELD-NOTES 23), so the page's own Origin no longer matches
// Host and a same-origin DELETE got 403 forbidden_origin. The server learns its public
// origin from PUBLIC_ORIGIN, or from X-Forwarded-Host under TRUST_PROXY.
// (test/nginx.test.ts runs the same through a real nginx.)
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { build } from './helper.js'
import { bearer, KEY_A } from './security-helper.js'
import { rawRequest } from './support/net.js'
import { openStream } from './support/sse.js'

const PUBLIC = 'https://chat.example.com'

/** Starts a stream that hangs after its first frame; returns its id. */
async function startHangingStream (t: Parameters<typeof build>[0], h: Awaited<ReturnType<typeof build>>): Promise<string> {
  h.emulator.enqueue({ steps: [{ event: { messageStart: { role: 'assistant' } } }, { hang: true }], frameDelayMs: 0 })
  const stream = await openStream(`${h.url}/v1/converse-stream?prompt=hi`, { headers: bearer(KEY_A) })
  t.after(() => stream.close())
  return ((await stream.until('start')).data as { streamId: string }).streamId
}

test('PUBLIC_ORIGIN: a Stop from the public origin passes although Host is the upstream address', async (t) => {
  const h = await build(t, { env: { API_KEYS: KEY_A, PUBLIC_ORIGIN: PUBLIC } })
  h.secrets.add(KEY_A)
  const streamId = await startHangingStream(t, h)
  const host = new URL(h.url).host // what nginx's proxy_pass sends
  for (const origin of ['http://chat.example.com', 'https://chat.example.com:8443', 'https://evil.example']) {
    const refused = await rawRequest(`${h.url}/v1/streams/${streamId}`, { method: 'DELETE', headers: { host, origin, ...bearer(KEY_A) } })
    assert.equal(refused.status, 403, origin)
    assert.equal(refused.json.error.code, 'forbidden_origin')
  }
  const stop = await rawRequest(`${h.url}/v1/streams/${streamId}`, { method: 'DELETE', headers: { host, origin: PUBLIC, ...bearer(KEY_A) } })
  assert.equal(stop.status, 202, stop.text)
  assert.deepEqual(JSON.parse(stop.text), { streamId, status: 'cancelling' })
  assert.equal(await h.emulator.waitForOutcome(1), 'aborted')
})

test('TRUST_PROXY: the forwarded host is this server\'s origin; without it X-Forwarded-Host is ignored', async (t) => {
  const trusting = await build(t, { env: { API_KEYS: KEY_A, TRUST_PROXY: 'loopback' } })
  const ignoring = await build(t, { env: { API_KEYS: KEY_A } })
  trusting.secrets.add(KEY_A)
  for (const [h, expected] of [[trusting, 202], [ignoring, 403]] as const) {
    const streamId = await startHangingStream(t, h)
    const stop = await rawRequest(`${h.url}/v1/streams/${streamId}`, {
      method: 'DELETE',
      headers: { host: new URL(h.url).host, 'x-forwarded-host': 'chat.example.com', 'x-forwarded-proto': 'https', origin: PUBLIC, ...bearer(KEY_A) },
    })
    assert.equal(stop.status, expected, stop.text)
  }
})

test('PUBLIC_ORIGIN must be an origin (scheme://host[:port], no path)', async () => {
  const { loadConfig, ConfigError } = await import('../src/config.js')
  assert.equal(loadConfig({ PUBLIC_ORIGIN: PUBLIC }).publicOrigin, PUBLIC)
  assert.equal(loadConfig({}).publicOrigin, undefined)
  for (const bad of ['chat.example.com', 'https://chat.example.com/', 'https://chat.example.com/app', '*']) {
    assert.throws(() => loadConfig({ PUBLIC_ORIGIN: bad }), (err: unknown) => err instanceof ConfigError && /PUBLIC_ORIGIN/.test(err.message), bad)
  }
})
