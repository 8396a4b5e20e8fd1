// Issue 8, item 3: Stop from another origin. A cross-origin page must be able to send
// DELETE /v1/streams/{id} (the preflight has to allow it) and to read Retry-After and the
// rate-limit headers (they have to be exposed), FIELD-NOTES 22.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { build, eventNames, fetchSse } from './helper.js'
import { bearer, errorOf, KEY_A } from './security-helper.js'
import { openStream } from './support/sse.js'

const APP = 'https://app.example.com'
const listOf = (header: string | null): string[] => (header ?? '').split(',').map(s => s.trim().toLowerCase()).filter(s => s !== '')

test('the preflight of a cross-origin Stop (DELETE with Authorization) is allowed', async (t) => {
  const h = await build(t, { env: { CORS_ORIGINS: APP, API_KEYS: KEY_A } })
  const preflight = await fetch(`${h.url}/v1/streams/0123456789abcdef01234567`, {
    method: 'OPTIONS',
    headers: { origin: APP, 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'authorization' },
  })
  assert.equal(preflight.status, 204)
  assert.equal(preflight.headers.get('access-control-allow-origin'), APP)
  assert.ok(listOf(preflight.headers.get('access-control-allow-methods')).includes('delete'), preflight.headers.get('access-control-allow-methods') ?? '')
  assert.deepEqual(listOf(preflight.headers.get('access-control-allow-headers')).sort(), ['authorization', 'content-type', 'last-event-id'])
})

test('a cross-origin Stop cancels the stream, and the page can read the answer', async (t) => {
  const h = await build(t, { env: { CORS_ORIGINS: APP, API_KEYS: KEY_A } })
  h.secrets.add(KEY_A)
  h.emulator.enqueue({ steps: [{ event: { messageStart: { role: 'assistant' } } }, { hang: true }], frameDelayMs: 0 })
  const stream = await openStream(`${h.url}/v1/converse-stream?prompt=hi`, { headers: { origin: APP, ...bearer(KEY_A) } })
  t.after(() => stream.close())
  const { streamId } = (await stream.until('start')).data as { streamId: string }
  const [request] = await h.emulator.waitForRequests(1)
  assert.ok(request !== undefined)
  const stop = await fetch(`${h.url}/v1/streams/${streamId}`, { method: 'DELETE', headers: { origin: APP, ...bearer(KEY_A) } })
  assert.equal(stop.status, 202)
  assert.equal(stop.headers.get('access-control-allow-origin'), APP)
  assert.deepEqual(await stop.json(), { streamId, status: 'cancelling' })
  assert.equal(await h.emulator.waitForOutcome(request.id), 'aborted')
  assert.deepEqual((await stream.rest()).map(e => e.event === 'error' ? `error:${(e.data as { code: string }).code}` : e.event), ['error:cancelled', 'usage', 'done'])
})

test('Retry-After and the rate-limit headers are exposed to a cross-origin page, on streams and on refusals', async (t) => {
  const h = await build(t, { env: { CORS_ORIGINS: APP, API_KEYS: KEY_A, RATE_LIMIT_MAX: '1' } })
  h.secrets.add(KEY_A)
  const headers = { origin: APP, ...bearer(KEY_A) }
  const ok = await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`, { headers })
  assert.equal(ok.status, 200)
  assert.equal(eventNames(ok.events).at(-1), 'done')
  const refused = await fetch(`${h.url}/v1/converse-stream?prompt=hi`, { headers })
  assert.equal(refused.status, 429)
  assert.equal((await errorOf(refused)).code, 'rate_limited')
  assert.ok(Number(refused.headers.get('retry-after')) > 0)
  for (const res of [ok.headers, refused.headers]) {
    assert.equal(res.get('access-control-allow-origin'), APP)
    const exposed = listOf(res.get('access-control-expose-headers'))
    for (const name of ['retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']) {
      assert.ok(exposed.includes(name), `${name} in ${exposed.join(',')}`)
    }
  }
})
