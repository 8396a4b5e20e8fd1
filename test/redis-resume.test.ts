// Scale-out on Redis with real redis-server processes and two proxy instances sharing one
// emulated Bedrock: resume on another instance, cancel across instances, a producer that
// dies, and Redis going away mid-run.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test, type TestContext } from 'node:test'
import { textScenario } from '../src/emulator/index.js'
import { build, eventNames, fetchSse, joinText, startTestEmulator, TEST_CREDENTIALS_ENV } from './helper.js'
import { redisTestOptions, startRedis, twoInstances } from './redis-helper.js'
import { freePort } from './support/net.js'
import { countText, dataOf, openStream, readThenDrop, seqOf } from './support/sse.js'
import { eventually } from './support/wait.js'

const opts = redisTestOptions()
const ANSWER = 'Shared 👩‍👩‍👧 buffer\r\nlone\rCR \u2028 NUL\u0000 end. '.repeat(8)

test('start on A, resume on B: identical text, one upstream call', opts, async (t) => {
  const { emulator, a, b } = await twoInstances(t)
  emulator.enqueue(textScenario(ANSWER, { chunkChars: 9, frameDelayMs: 10 }))
  const first = await readThenDrop(`${a.url}/v1/converse-stream?prompt=hi`, countText(4))
  const rest = await fetchSse(`${b.url}/v1/converse-stream?prompt=hi`, { headers: { 'last-event-id': first.lastId } })
  assert.equal(joinText(first.events) + joinText(rest.events), ANSWER)
  assert.equal(rest.events.at(-1)?.event, 'done')
  assert.equal(emulator.requests.length, 1)
  assert.equal(await emulator.waitForOutcome(1), 'completed', 'the reader on B kept A from cancelling')
  // After full delivery, B answers 204 like A would.
  const after = await fetch(`${b.url}/v1/converse-stream?prompt=hi`, { headers: { 'last-event-id': rest.events.at(-1)?.id ?? '' } })
  assert.equal(after.status, 204)
  // A finished stream replays from the start on B (a reloaded page on another instance).
  const streamId = (first.events[0]?.data as { streamId: string }).streamId
  const replay = await fetchSse(`${b.url}/v1/streams/${streamId}`)
  assert.equal(joinText(replay.events), ANSWER)
})

test('cancel from B stops the upstream call running on A', opts, async (t) => {
  const { emulator, a, b } = await twoInstances(t)
  emulator.enqueue(textScenario('long '.repeat(500), { frameDelayMs: 20 }))
  // The client leaves (the grace period keeps A's upstream running), then cancels from B.
  const first = await readThenDrop(`${a.url}/v1/converse-stream?prompt=hi`, countText(1))
  const streamId = (first.events[0]?.data as { streamId: string }).streamId
  const del = await fetch(`${b.url}/v1/streams/${streamId}`, { method: 'DELETE' })
  assert.equal(del.status, 202)
  assert.equal(await emulator.waitForOutcome(1, 2000), 'aborted')
  const tail = await fetchSse(`${b.url}/v1/converse-stream?prompt=hi`, { headers: { 'last-event-id': first.lastId } })
  assert.deepEqual(eventNames(tail.events).slice(-3), ['error', 'usage', 'done'])
  assert.equal((tail.events.at(-3)?.data as { code: string }).code, 'cancelled')
})

/** A proxy in a real separate process (so it can really die), on the given Redis and emulator. */
async function producerProcess (t: TestContext, redisUrl: string, emulatorUrl: string): Promise<{ url: string, kill: () => void }> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: new URL('../', import.meta.url),
    env: {
      ...process.env,
      PORT: String(port),
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulatorUrl,
      ...TEST_CREDENTIALS_ENV,
      REDIS_URL: redisUrl,
      LOG_LEVEL: 'warn',
      PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0', // as test/helper.ts: no overload refusals on a busy test machine
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  t.after(() => { child.kill('SIGKILL') })
  await eventually(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok === true, 20_000)
  return { url: `http://127.0.0.1:${port}`, kill: () => child.kill('SIGKILL') }
}

/** A long stream started on a producer process (its client dropped after two texts), and a survivor B. */
async function streamOnProducerProcess (t: TestContext): Promise<{ redis: Awaited<ReturnType<typeof startRedis>>, producer: { url: string, kill: () => void }, b: Awaited<ReturnType<typeof build>>, first: Awaited<ReturnType<typeof readThenDrop>> }> {
  const redis = await startRedis(t)
  const emulator = await startTestEmulator(t)
  emulator.enqueue(textScenario('tick '.repeat(2000), { frameDelayMs: 10 }))
  const producer = await producerProcess(t, redis.url, emulator.url)
  const b = await build(t, { sharedEmulator: emulator, redisUrl: redis.url })
  const first = await readThenDrop(`${producer.url}/v1/converse-stream?prompt=hi`, countText(2))
  return { redis, producer, b, first }
}

test('producer instance killed mid-stream: the reader on B gets stream_lost + done in bounded time', opts, async (t) => {
  const { producer, b, first } = await streamOnProducerProcess(t)
  const streamId = (first.events[0]?.data as { streamId: string }).streamId
  const following = await openStream(`${b.url}/v1/streams/${streamId}`)
  await following.until('text') // B follows the stream through Redis
  producer.kill()
  const killedAt = Date.now()
  const events = [...following.seen, ...await following.rest()]
  const tookMs = Date.now() - killedAt
  assert.deepEqual(eventNames(events).slice(-3), ['error', 'usage', 'done'])
  assert.equal(dataOf(events.at(-3), 'error').code, 'stream_lost')
  assert.equal(dataOf(events.at(-2), 'usage').partial, true)
  assert.ok(tookMs < 10_000, `stream_lost within a bounded time (took ${tookMs} ms)`)
})

test('the original client of a lost stream, reconnecting to a survivor, gets what it missed, then stream_lost + usage + done; then 204', opts, async (t) => {
  const { redis, producer, b, first } = await streamOnProducerProcess(t)
  const streamId = (first.events[0]?.data as { streamId: string }).streamId
  const client = redis.client()
  // More events are produced while the client is away: wait until Redis holds some it missed.
  await eventually(async () => Number(await client.hget(`bsp:s:${streamId}`, 'lastSeq')) >= seqOf(first.events.at(-1)) + 5)
  producer.kill()
  // Past the producer's lease (3 s): the stream is known to be lost when the client comes back.
  await eventually(async () => await client.exists(`bsp:s:${streamId}:lease`) === 0, 10_000)
  const back = await fetchSse(`${b.url}/v1/converse-stream?prompt=hi`, { headers: { 'last-event-id': first.lastId } })
  assert.equal(back.status, 200, 'not 204: the client must learn that its answer was lost')
  assert.equal(back.events[0]?.id, `${streamId}-${Number(first.lastId.split('-')[1]) + 1}`, 'the replay starts right after what the client had')
  assert.ok(back.events.some(e => e.event === 'text'), 'what it missed is replayed')
  assert.deepEqual(eventNames(back.events).slice(-3), ['error', 'usage', 'done'])
  assert.equal((back.events.at(-3)?.data as { code: string }).code, 'stream_lost')
  assert.equal((back.events.at(-2)?.data as { partial: boolean }).partial, true)
  // EventSource reconnects after that clean end too: nothing is left, so 204 stops it.
  const again = await fetch(`${b.url}/v1/converse-stream?prompt=hi`, { headers: { 'last-event-id': back.events.at(-1)?.id ?? '' } })
  assert.equal(again.status, 204)
})

test('Redis stopped mid-run: live streaming continues, nothing crashes, readiness shows it; resume returns with Redis', opts, async (t) => {
  const { redis, emulator, a, b } = await twoInstances(t)
  emulator.enqueue(textScenario(ANSWER, { chunkChars: 9, frameDelayMs: 15 }))
  const live = fetchSse(`${a.url}/v1/converse-stream?prompt=hi`)
  await emulator.waitForRequests(1)
  await redis.stop()
  const res = await live
  assert.equal(joinText(res.events), ANSWER, 'the live stream did not notice')
  assert.equal(res.events.at(-1)?.event, 'done')

  const ready = await (await fetch(`${a.url}/readyz`)).json() as Record<string, unknown>
  assert.equal(ready.redis, 'down')
  assert.equal(ready.status, 'degraded')
  // New streams keep working without Redis.
  emulator.enqueue(textScenario('still here'))
  const during = await fetchSse(`${a.url}/v1/converse-stream?prompt=hi`)
  assert.equal(joinText(during.events), 'still here')

  await redis.start()
  await eventually(async () => ((await (await fetch(`${a.url}/readyz`)).json()) as { redis: string }).redis === 'up', 10_000)
  emulator.enqueue(textScenario(ANSWER, { chunkChars: 9, frameDelayMs: 10 }))
  const first = await readThenDrop(`${a.url}/v1/converse-stream?prompt=hi`, countText(3))
  const rest = await fetchSse(`${b.url}/v1/converse-stream?prompt=hi`, { headers: { 'last-event-id': first.lastId } })
  assert.equal(joinText(first.events) + joinText(rest.events), ANSWER, 'cross-instance resume works again for new streams')
})
