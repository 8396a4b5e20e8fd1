// With Redis, two instances share one set of limits: tickets stay single-use across
// them, the rate count, the budget and the stream slots are common; Redis down degrades
// to per-instance limits (never to no limits, never to an outage). A real redis-server per test.
import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { test } from 'node:test'
import { build, fetchSse } from './helper.js'
import { redisTestOptions, startRedis, twoInstances } from './redis-helper.js'
import { bearer, errorOf, KEY_A, mintTicket, TICKET_SECRET } from './security-helper.js'
import { holdStream } from './support/net.js'
import { eventually } from './support/wait.js'

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

// Issue 7, part 3: a ticket must never start two streams, whatever happens to Redis.

test('a used ticket is refused on every instance while Redis is down (503 ticket_unverifiable), never taken as new', opts, async (t) => {
  const { redis, a, b, emulator } = await twoInstances(t, ENV)
  const { ticket } = await mintTicket(a.url, KEY_A)
  const { ticket: unused } = await mintTicket(a.url, KEY_A)
  for (const h of [a, b]) h.secrets.add(ticket).add(unused)
  const url = (h: { url: string }, tk: string): string => `${h.url}/v1/converse-stream?prompt=hi&ticket=${encodeURIComponent(tk)}`
  assert.equal((await fetchSse(url(a, ticket))).status, 200)
  await redis.stop() // SIGKILL
  for (const h of [a, b]) {
    for (const tk of [ticket, unused]) {
      const res = await fetch(url(h, tk))
      assert.equal(res.status, 503)
      assert.equal((await errorOf(res)).code, 'ticket_unverifiable')
      assert.ok(Number(res.headers.get('retry-after')) > 0)
    }
  }
  assert.equal(emulator.requests.length, 1)
})

test('after Redis restarts empty, tickets issued before are refused; a new ticket works', opts, async (t) => {
  const { redis, a, b, emulator } = await twoInstances(t, ENV)
  const { ticket } = await mintTicket(a.url, KEY_A)
  for (const h of [a, b]) h.secrets.add(ticket)
  const url = (h: { url: string }, tk: string): string => `${h.url}/v1/converse-stream?prompt=hi&ticket=${encodeURIComponent(tk)}`
  assert.equal((await fetchSse(url(a, ticket))).status, 200)
  await redis.stop()
  await redis.start() // the same port, no data: the claim of `ticket` is gone
  for (const h of [a, b]) {
    await eventually(async () => ((await (await fetch(`${h.url}/readyz`)).json()) as { redis: string }).redis === 'up', 10_000)
  }
  for (const h of [b, a]) {
    const res = await fetch(url(h, ticket))
    assert.equal(res.status, 503, 'the used ticket is not accepted again')
    assert.equal((await errorOf(res)).code, 'ticket_unverifiable')
  }
  const { ticket: fresh } = await mintTicket(b.url, KEY_A)
  for (const h of [a, b]) h.secrets.add(fresh)
  assert.equal((await fetchSse(url(a, fresh))).status, 200)
  assert.equal((await fetch(url(b, fresh))).status, 401, 'and used once only')
  assert.equal(emulator.requests.length, 2)
})

test('without Redis a ticket works only on the instance that issued it (its claims are in that process)', async (t) => {
  const a = await build(t, { env: ENV })
  const b = await build(t, { env: ENV, sharedEmulator: a.emulator })
  const { ticket } = await mintTicket(a.url, KEY_A)
  for (const h of [a, b]) h.secrets.add(ticket)
  const query = `/v1/converse-stream?prompt=hi&ticket=${encodeURIComponent(ticket)}`
  const elsewhere = await fetch(`${b.url}${query}`)
  assert.equal(elsewhere.status, 401)
  assert.match((await errorOf(elsewhere)).message, /another server instance/)
  assert.equal((await fetchSse(`${a.url}${query}`)).status, 200)
  assert.equal((await fetch(`${a.url}${query}`)).status, 401)
  assert.equal(a.emulator.requests.length, 1)
})

test('a client that leaves while admission waits on a slow Redis starts no Bedrock call, and holds nothing', opts, async (t) => {
  const redis = await startRedis(t)
  const h = await build(t, { env: { ...ENV, MAX_STREAMS_PER_KEY: '1' }, redisUrl: redis.url })
  const client = redis.client()
  await client.client('PAUSE', 1200, 'ALL') // every command of the proxy waits ~1.2 s
  // Both waits are the point of the test, not synchronisation: the client leaves while its
  // admission is stuck in the paused Redis, and "no Bedrock call" is an absence, which can
  // only be checked once the pause is over and admission had time to go on (nothing is
  // logged for a request whose client left before any answer).
  await new Promise<void>((resolve) => {
    const req = httpRequest(`${h.url}/v1/converse-stream?prompt=hi`, { headers: bearer(KEY_A) })
    req.on('error', () => {})
    req.end()
    setTimeout(() => { req.destroy(); resolve() }, 300)
  })
  await client.ping() // resolves when the pause is over
  await new Promise(resolve => setTimeout(resolve, 300)) // admission went on without the client
  assert.equal(h.emulator.requests.length, 0, 'no upstream call for a client that is gone')
  const next = await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`, { headers: bearer(KEY_A) })
  assert.equal(next.status, 200, 'its slot was given back')
  assert.equal(h.emulator.requests.length, 1)
})
