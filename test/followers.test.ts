// Issue 7, part 4: followers (reconnects with Last-Event-ID, GET /v1/streams/{id}) are
// bounded per key and per instance, and on Redis they share one blocking connection per
// instance instead of holding one each.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { textScenario } from '../src/emulator/index.js'
import { build, fetchSse, joinText } from './helper.js'
import { redisTestOptions, twoInstances } from './redis-helper.js'
import { bearer, errorOf, KEY_A, KEY_B } from './security-helper.js'
import { type HeldStream, holdStream } from './support/net.js'
import { countText, readThenDrop } from './support/sse.js'
import { eventually } from './support/wait.js'

const LONG = 'follow me '.repeat(300)

async function startLongStream (base: string, headers: Record<string, string> = {}): Promise<string> {
  const first = await readThenDrop(`${base}/v1/converse-stream?prompt=hi`, countText(1), { headers })
  return (first.events[0]?.data as { streamId: string }).streamId
}

test('followers per key: past MAX_FOLLOWERS_PER_KEY 429 too_many_streams, and a closed follower frees its place', async (t) => {
  const h = await build(t, { env: { API_KEYS: `${KEY_A},${KEY_B}`, MAX_FOLLOWERS_PER_KEY: '2', RESUME_GRACE_MS: '5000', RATE_LIMIT_MAX: '0' } })
  h.emulator.enqueue(textScenario(LONG, { frameDelayMs: 20 }))
  const streamId = await startLongStream(h.url, bearer(KEY_A))
  const held: HeldStream[] = []
  for (let i = 0; i < 2; i++) held.push(await holdStream(h.url, `/v1/streams/${streamId}`, bearer(KEY_A)))
  t.after(() => { for (const f of held) f.cut() })
  assert.deepEqual(held.map(f => f.response.statusCode), [200, 200])
  const third = await fetch(`${h.url}/v1/streams/${streamId}`, { headers: bearer(KEY_A) })
  assert.equal(third.status, 429)
  assert.equal((await errorOf(third)).code, 'too_many_streams')
  // A reconnect with Last-Event-ID is a follower too.
  const reconnect = await fetch(`${h.url}/v1/converse-stream?prompt=hi`, { headers: { ...bearer(KEY_A), 'last-event-id': `${streamId}-1` } })
  assert.equal(reconnect.status, 429)
  await reconnect.text()
  held[0]?.cut()
  await eventually(async () => {
    const res = await holdStream(h.url, `/v1/streams/${streamId}`, bearer(KEY_A))
    res.cut()
    return res.response.statusCode === 200
  })
  assert.equal(h.emulator.requests.length, 1, 'following never calls Bedrock')
})

test('followers per instance: past MAX_OPEN_FOLLOWERS 503 server_busy', async (t) => {
  const h = await build(t, { env: { MAX_OPEN_FOLLOWERS: '2', RESUME_GRACE_MS: '5000' } })
  h.emulator.enqueue(textScenario(LONG, { frameDelayMs: 20 }))
  const streamId = await startLongStream(h.url)
  const held = [await holdStream(h.url, `/v1/streams/${streamId}`), await holdStream(h.url, `/v1/streams/${streamId}`)]
  t.after(() => { for (const f of held) f.cut() })
  const third = await fetch(`${h.url}/v1/streams/${streamId}`)
  assert.equal(third.status, 503)
  assert.equal((await errorOf(third)).code, 'server_busy')
  assert.ok(third.headers.get('retry-after') !== null)
})

test('on Redis, followers of another instance\'s stream share one blocking connection', redisTestOptions(), async (t) => {
  const { redis, emulator, a, b } = await twoInstances(t, { MAX_FOLLOWERS_PER_KEY: '100', RESUME_GRACE_MS: '5000' })
  emulator.enqueue(textScenario(LONG, { chunkChars: 10, frameDelayMs: 10 }))
  const client = redis.client()
  const connected = async (): Promise<number> => Number(/connected_clients:(\d+)/.exec(await client.info('clients'))?.[1])
  const streamId = await startLongStream(a.url)
  const before = await connected()
  const followers = Array.from({ length: 20 }, async () => await fetchSse(`${b.url}/v1/streams/${streamId}`))
  await eventually(async () => ((await (await fetch(`${b.url}/readyz`)).json()) as { openStreams: number }).openStreams === 20)
  const during = await connected()
  assert.ok(during - before <= 2, `20 followers added ${during - before} Redis connections`)
  for (const res of await Promise.all(followers)) {
    assert.equal(joinText(res.events), LONG, 'every follower got the whole answer')
    assert.equal(res.events.at(-1)?.event, 'done')
  }
})
