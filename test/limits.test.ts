// Limits per key and per instance: request rate (and X-Forwarded-For spoofing), open
// streams per key (freed when the client disconnects), open calls per instance, input
// size. Every refusal: status, code, and no extra Bedrock call.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { build, fetchSse, postSse } from './helper.js'
import { bearer, errorOf, KEY_A, KEY_B } from './security-helper.js'
import { holdStream } from './support/net.js'
import { eventually } from './support/wait.js'

test('rate limit: the request over RATE_LIMIT_MAX gets 429 rate_limited with Retry-After, Bedrock not called', async (t) => {
  const h = await build(t, { env: { RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_MS: '60000' } })
  assert.equal((await fetchSse(`${h.url}/v1/converse-stream?prompt=a`)).status, 200)
  assert.equal((await postSse(h.url, { prompt: 'b' })).status, 200)
  const res = await fetch(`${h.url}/v1/converse`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"c"}' })
  assert.equal(res.status, 429)
  const error = await errorOf(res)
  assert.equal(error.code, 'rate_limited')
  assert.ok(Number(res.headers.get('retry-after')) > 0 && Number(res.headers.get('retry-after')) <= 60)
  assert.equal(res.headers.get('x-ratelimit-remaining'), '0')
  assert.equal(h.emulator.requests.length, 2)
  assert.equal((await fetch(`${h.url}/healthz`)).status, 200, 'health checks are not counted')
})

test('rate limit per key: one key used up does not block another', async (t) => {
  const h = await build(t, { env: { API_KEYS: `${KEY_A},${KEY_B}`, RATE_LIMIT_MAX: '1' } })
  assert.equal((await fetchSse(`${h.url}/v1/converse-stream?prompt=a`, { headers: bearer(KEY_A) })).status, 200)
  assert.equal((await fetch(`${h.url}/v1/converse-stream?prompt=a`, { headers: bearer(KEY_A) })).status, 429)
  assert.equal((await fetchSse(`${h.url}/v1/converse-stream?prompt=a`, { headers: bearer(KEY_B) })).status, 200)
  assert.equal(h.emulator.requests.length, 2)
})

test('X-Forwarded-For cannot dodge the anonymous rate limit without TRUST_PROXY', async (t) => {
  const h = await build(t, { env: { RATE_LIMIT_MAX: '1' } })
  assert.equal((await fetchSse(`${h.url}/v1/converse-stream?prompt=a`, { headers: { 'x-forwarded-for': '198.51.100.1' } })).status, 200)
  const spoofed = await fetch(`${h.url}/v1/converse-stream?prompt=a`, { headers: { 'x-forwarded-for': '198.51.100.2' } })
  assert.equal(spoofed.status, 429)
  assert.equal((await errorOf(spoofed)).code, 'rate_limited')
  assert.equal(h.emulator.requests.length, 1)
})

test('with TRUST_PROXY naming the proxy, X-Forwarded-For is the client: two clients, two counts', async (t) => {
  const h = await build(t, { env: { RATE_LIMIT_MAX: '1', TRUST_PROXY: '127.0.0.1' } })
  assert.equal((await fetchSse(`${h.url}/v1/converse-stream?prompt=a`, { headers: { 'x-forwarded-for': '198.51.100.1' } })).status, 200)
  assert.equal((await fetchSse(`${h.url}/v1/converse-stream?prompt=a`, { headers: { 'x-forwarded-for': '198.51.100.2' } })).status, 200)
  assert.equal((await fetch(`${h.url}/v1/converse-stream?prompt=a`, { headers: { 'x-forwarded-for': '198.51.100.2' } })).status, 429)
  assert.equal(h.emulator.requests.length, 2)
})

test('open streams per key: the next one gets 429 too_many_streams; the slot is freed when the client disconnects', async (t) => {
  const h = await build(t, { env: { API_KEYS: `${KEY_A},${KEY_B}`, MAX_STREAMS_PER_KEY: '1', RESUME_GRACE_MS: '0' } })
  const held = await holdStream(h.url, '/v1/converse-stream?prompt=/hang', bearer(KEY_A))
  assert.equal(held.response.statusCode, 200)
  await h.emulator.waitForRequests(1)
  for (const second of [
    fetch(`${h.url}/v1/converse-stream?prompt=a`, { headers: bearer(KEY_A) }),
    fetch(`${h.url}/v1/converse`, { method: 'POST', headers: { ...bearer(KEY_A), 'content-type': 'application/json' }, body: '{"prompt":"a"}' }),
  ]) {
    const res = await second
    assert.equal(res.status, 429)
    assert.equal((await errorOf(res)).code, 'too_many_streams')
    assert.ok(res.headers.get('retry-after') !== null)
  }
  assert.equal((await fetchSse(`${h.url}/v1/converse-stream?prompt=a`, { headers: bearer(KEY_B) })).status, 200, 'another key is not affected')
  assert.equal(h.emulator.requests.length, 2)
  held.cut() // a real socket destroyed mid-stream: the client is gone, the stream never completed
  let answer = 0
  await eventually(async () => {
    const res = await fetch(`${h.url}/v1/converse-stream?prompt=a`, { headers: bearer(KEY_A) })
    answer = res.status
    await res.text()
    return answer === 200
  })
  assert.equal(answer, 200)
})

test('open calls per instance: MAX_OPEN_STREAMS reached gets 503 server_busy with Retry-After', async (t) => {
  const h = await build(t, { env: { API_KEYS: `${KEY_A},${KEY_B}`, MAX_OPEN_STREAMS: '1' } })
  const held = await holdStream(h.url, '/v1/converse-stream?prompt=/hang', bearer(KEY_A))
  await h.emulator.waitForRequests(1)
  const res = await fetch(`${h.url}/v1/converse-stream?prompt=a`, { headers: bearer(KEY_B) })
  assert.equal(res.status, 503)
  assert.equal((await errorOf(res)).code, 'server_busy')
  assert.equal(res.headers.get('retry-after'), '2')
  assert.equal(h.emulator.requests.length, 1)
  held.cut()
})

test('input limits: too many messages, too much text (prompt, system, message blocks) -> 400 input_too_large', async (t) => {
  const h = await build(t, { env: { MAX_MESSAGES: '2', MAX_PROMPT_CHARS: '20' } })
  const msg = (text: string): { role: 'user', content: string } => ({ role: 'user', content: text })
  const cases: unknown[] = [
    { messages: [msg('a'), { role: 'assistant', content: 'b' }, msg('c')] },
    { prompt: 'x'.repeat(21) },
    { prompt: 'x'.repeat(10), system: 'y'.repeat(11) },
    { messages: [{ role: 'user', content: [{ text: 'x'.repeat(15) }, { text: 'y'.repeat(6) }] }] },
  ]
  for (const body of cases) {
    for (const path of ['/v1/converse-stream', '/v1/converse']) {
      const res = await fetch(`${h.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      assert.equal(res.status, 400, JSON.stringify(body))
      assert.equal((await errorOf(res)).code, 'input_too_large')
    }
  }
  const get = await fetch(`${h.url}/v1/converse-stream?prompt=${'x'.repeat(21)}`)
  assert.equal(get.status, 400)
  assert.equal((await errorOf(get)).code, 'input_too_large')
  assert.equal(h.emulator.requests.length, 0)
  assert.equal((await postSse(h.url, { prompt: 'x'.repeat(10), system: 'y'.repeat(10) })).status, 200, 'exactly at the limit passes')
})
