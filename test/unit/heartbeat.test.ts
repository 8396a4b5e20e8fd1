// withHeartbeat: a ping after each `intervalMs` of silence, with mock timers; the same
// pending next() of the source is awaited again after a ping (nothing pulled ahead), and
// the source is closed when the consumer stops early.
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { withHeartbeat } from '../../src/sse/heartbeat.js'

const INTERVAL_MS = 15_000

const settle = async (): Promise<void> => { for (let i = 0; i < 3; i++) await new Promise(resolve => setImmediate(resolve)) }

/** A source whose values the test releases one by one; counts next() and return() calls. */
function manualSource (): { iterable: AsyncIterable<string>, release: (value: string | null) => void, nextCalls: () => number, returned: () => boolean } {
  const waiting: Array<(r: IteratorResult<string>) => void> = []
  let nextCalls = 0
  let returned = false
  const iterator: AsyncIterator<string> = {
    next: async () => { nextCalls++; return await new Promise(resolve => waiting.push(resolve)) },
    return: async () => { returned = true; return { done: true, value: undefined } },
  }
  return {
    iterable: { [Symbol.asyncIterator]: () => iterator },
    release: (value) => waiting.shift()?.(value === null ? { done: true, value: undefined } : { done: false, value }),
    nextCalls: () => nextCalls,
    returned: () => returned,
  }
}

/** Collects what the heartbeat yields into `out`, running in the background. */
function consume (t: TestContext, source: AsyncIterable<string>): { out: string[], ended: Promise<void> } {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const out: string[] = []
  const ended = (async () => { for await (const v of withHeartbeat(source, INTERVAL_MS, () => 'ping')) out.push(v) })()
  return { out, ended }
}

test('a ping after each intervalMs of silence, not before', async (t) => {
  const src = manualSource()
  const { out } = consume(t, src.iterable)
  await settle()
  t.mock.timers.tick(INTERVAL_MS - 1)
  await settle()
  assert.deepEqual(out, [])
  t.mock.timers.tick(1)
  await settle()
  assert.deepEqual(out, ['ping'])
  t.mock.timers.tick(INTERVAL_MS)
  await settle()
  assert.deepEqual(out, ['ping', 'ping'])
})

test('pings do not pull ahead: the same pending next() is awaited again', async (t) => {
  const src = manualSource()
  const { out, ended } = consume(t, src.iterable)
  await settle()
  for (let i = 0; i < 3; i++) { t.mock.timers.tick(INTERVAL_MS); await settle() }
  assert.deepEqual(out, ['ping', 'ping', 'ping'])
  assert.equal(src.nextCalls(), 1, 'one next() for three pings')
  src.release('a')
  await settle()
  assert.deepEqual(out, ['ping', 'ping', 'ping', 'a'])
  assert.equal(src.nextCalls(), 2)
  src.release(null)
  await ended
})

test('a value resets the silence clock', async (t) => {
  const src = manualSource()
  const { out } = consume(t, src.iterable)
  await settle()
  t.mock.timers.tick(INTERVAL_MS - 1)
  src.release('a')
  await settle()
  t.mock.timers.tick(INTERVAL_MS - 1)
  await settle()
  assert.deepEqual(out, ['a'], 'no ping: never intervalMs of silence in a row')
  t.mock.timers.tick(1)
  await settle()
  assert.deepEqual(out, ['a', 'ping'])
})

test('values and the end pass through in order; no timer is left behind', async (t) => {
  const src = manualSource()
  const { out, ended } = consume(t, src.iterable)
  for (const v of ['a', 'b', 'c']) { await settle(); src.release(v) }
  await settle()
  src.release(null)
  await ended
  assert.deepEqual(out, ['a', 'b', 'c'])
  t.mock.timers.tick(INTERVAL_MS * 3)
  await settle()
  assert.deepEqual(out, ['a', 'b', 'c'], 'no ping after the end')
})

test('a consumer that stops early closes the source (return), without waiting for its pending next()', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const src = manualSource()
  const beats = withHeartbeat(src.iterable, INTERVAL_MS, () => 'ping')
  const first = beats.next()
  await settle()
  t.mock.timers.tick(INTERVAL_MS)
  assert.deepEqual(await first, { done: false, value: 'ping' })
  assert.deepEqual(await beats.return(undefined), { done: true, value: undefined })
  assert.equal(src.returned(), true)
  assert.equal(src.nextCalls(), 1)
})
