// With Redis, two instances share one set of limits: tickets stay single-use across
// them, the rate count, the budget and the stream slots are common; Redis down degrades
// to per-instance limits (never to no limits, never to an outage). A real redis-server per test.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { build, fetchSse } from './helper.js'
import { redisTestOptions, startRedis, twoInstances } from './redis-helper.js'
import { bearer, errorOf, eventually, holdStream, KEY_A, mintTicket, TICKET_SECRET } from './security-helper.js'

const opts = redisTestOptions()

const ENV = { API_KEYS: KEY_A, TICKET_SECRET }

test('a ticket issued by one instance works once on any instance', opts, async (t) => {
  const { a, b, emulator } = await twoInstances(t, ENV)
  const { ticket } = await mintTicket(a.url, KEY_A)
  a.secrets.add(ticket)
  b.secrets.add(ticket)
  const query = `/v1/converse-stream?prompt=hi&ticket=${encodeURIComponent(ticket)}`
  assert.equal((await fetchSse(`${b.url}${query}`)).status, 200)
  for (const h of [a, b]) {
    const replay = await fetch(`${h.url}${query}`)
    assert.equal(replay.status, 401)
    assert.match((await errorOf(replay)).message, /already used/)
  }
  assert.equal(emulator.requests.length, 1)
})

test('rate counts and budgets are shared by the instances', opts, async (t) => {
  const { redis, a, b, emulator } = await twoInstances(t, { ...ENV, RATE_LIMIT_MAX: '2', TOKEN_BUDGET_PER_KEY: '50' })
  assert.equal((await fetchSse(`${a.url}/v1/converse-stream?prompt=hi`, { headers: bearer(KEY_A) })).status, 200)
  const client = redis.client()
  await eventually(async () => { // the debit lands in Redis just after the stream ends
    const [key] = await client.keys('bsp:sec:budget:key:*')
    return key !== undefined && Number(await client.get(key)) >= 50
  })
  const refused = await fetch(`${b.url}/v1/converse-stream?prompt=hi`, { headers: bearer(KEY_A) })
  assert.equal(refused.status, 429)
  assert.equal((await errorOf(refused)).code, 'budget_exhausted', 'the budget spent on a is spent on b')
  const third = await fetch(`${a.url}/v1/converse-stream?prompt=hi`, { headers: bearer(KEY_A) })
  assert.equal((await errorOf(third)).code, 'rate_limited', 'a counted b\'s request')
  assert.equal(emulator.requests.length, 1)
})

test('stream slots are shared: a key at its limit on one instance is refused on the other until it disconnects', opts, async (t) => {
  const { a, b, emulator } = await twoInstances(t, { ...ENV, MAX_STREAMS_PER_KEY: '1', RESUME_GRACE_MS: '0' })
  const held = await holdStream(a.url, '/v1/converse-stream?prompt=/hang', bearer(KEY_A))
  await emulator.waitForRequests(1)
  const refused = await fetch(`${b.url}/v1/converse-stream?prompt=hi`, { headers: bearer(KEY_A) })
  assert.equal(refused.status, 429)
  assert.equal((await errorOf(refused)).code, 'too_many_streams')
  assert.equal(emulator.requests.length, 1)
  held.cut()
  await eventually(async () => {
    const res = await fetch(`${b.url}/v1/converse-stream?prompt=hi`, { headers: bearer(KEY_A) })
    await res.text()
    return res.status === 200
  })
})

test('Redis unreachable: limits hold per instance, streaming goes on', opts, async (t) => {
  const redis = await startRedis(t)
  const h = await build(t, { env: { ...ENV, RATE_LIMIT_MAX: '2' }, redisUrl: redis.url })
  await redis.stop()
  const ok = await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`, { headers: bearer(KEY_A) })
  assert.equal(ok.status, 200)
  assert.equal(ok.events.at(-1)?.event, 'done')
  await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`, { headers: bearer(KEY_A) })
  const third = await fetch(`${h.url}/v1/converse-stream?prompt=hi`, { headers: bearer(KEY_A) })
  assert.equal(third.status, 429, 'the rate limit still holds, counted locally')
  assert.equal((await errorOf(third)).code, 'rate_limited')
  assert.equal(h.emulator.requests.length, 2)
})
