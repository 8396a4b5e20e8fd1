// Origins are enforced on the server, not only by the browser's CORS check: a request
// from a foreign Origin is refused before Bedrock. CORS and rate-limit headers are on
// the streamed (SSE) answers too.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { build, fetchSse, postSse } from './helper.js'
import { bearer, errorOf, KEY_A } from './security-helper.js'

const APP = 'https://app.example.com'

test('a foreign Origin gets 403 forbidden_origin on every /v1 route, before auth, Bedrock not called', async (t) => {
  const h = await build(t, { env: { CORS_ORIGINS: APP, API_KEYS: KEY_A } })
  h.secrets.add(KEY_A)
  for (const origin of ['https://evil.example', 'null', 'https://app.example.com.evil.example', 'http://app.example.com', `${APP}:8443`]) {
    const headers = { origin, ...bearer(KEY_A), 'content-type': 'application/json' }
    const answers = await Promise.all([
      fetch(`${h.url}/v1/converse-stream?prompt=hi`, { headers }),
      fetch(`${h.url}/v1/converse-stream`, { method: 'POST', headers, body: '{"prompt":"hi"}' }),
      fetch(`${h.url}/v1/converse`, { method: 'POST', headers, body: '{"prompt":"hi"}' }),
      fetch(`${h.url}/v1/tickets`, { method: 'POST', headers, body: '{}' }),
      fetch(`${h.url}/v1/converse-stream?prompt=hi`, { headers: { origin } }), // no key: the origin check comes first
    ])
    for (const res of answers) {
      assert.equal(res.status, 403, origin)
      assert.equal((await errorOf(res)).code, 'forbidden_origin')
      assert.equal(res.headers.get('access-control-allow-origin'), null)
    }
  }
  assert.equal(h.emulator.requests.length, 0)
})

test('an allowed Origin streams, and the SSE answer carries the CORS and rate-limit headers', async (t) => {
  const h = await build(t, { env: { CORS_ORIGINS: APP, API_KEYS: KEY_A, RATE_LIMIT_MAX: '10' } })
  h.secrets.add(KEY_A)
  const get = await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`, { headers: { origin: APP, ...bearer(KEY_A) } })
  const post = await postSse(h.url, { prompt: 'hi' }, { headers: { origin: APP, ...bearer(KEY_A), 'content-type': 'application/json' } })
  for (const [i, res] of [get, post].entries()) {
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/)
    assert.equal(res.headers.get('access-control-allow-origin'), APP)
    assert.equal(res.headers.get('x-ratelimit-limit'), '10')
    assert.equal(res.headers.get('x-ratelimit-remaining'), String(9 - i))
    assert.ok(Number(res.headers.get('x-ratelimit-reset')) > 0)
    assert.equal(res.events.at(-1)?.event, 'done')
  }
})

test('same-origin requests (the demo page\'s POSTs) pass without CORS_ORIGINS; a preflight from an allowed origin is answered', async (t) => {
  const h = await build(t, { env: { CORS_ORIGINS: APP } })
  const same = await postSse(h.url, { prompt: 'hi' }, { headers: { origin: h.url, 'content-type': 'application/json' } })
  assert.equal(same.status, 200)
  const preflight = await fetch(`${h.url}/v1/converse-stream`, {
    method: 'OPTIONS',
    headers: { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
  })
  assert.equal(preflight.status, 204)
  assert.equal(preflight.headers.get('access-control-allow-origin'), APP)
  assert.equal(preflight.headers.get('access-control-allow-credentials'), null, 'no credentials mode: keys go in headers')
  assert.equal(h.emulator.requests.length, 1)
})

test('/healthz and /readyz answer any origin (they never reach Bedrock)', async (t) => {
  const h = await build(t, { env: { API_KEYS: KEY_A } })
  assert.equal((await fetch(`${h.url}/healthz`, { headers: { origin: 'https://evil.example' } })).status, 200)
  assert.equal((await fetch(`${h.url}/readyz`, { headers: { origin: 'https://evil.example' } })).status, 200)
})
