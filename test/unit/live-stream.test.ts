// LiveStream, the replay buffer of one stream: sequencing, the byte bound, readers and
// the backpressure they put on the producer. No sockets, no sleeps: readers are async
// generators driven by hand, and "still blocked" is checked after the event loop ran.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { RelayEvent } from '../../src/events.js'
import { LiveStream, READER_WINDOW_BYTES, type BufferedEvent } from '../../src/streams/live-stream.js'

const text = (t: string): RelayEvent => ({ type: 'text', data: { index: 0, text: t } })
const DONE: RelayEvent = { type: 'done', data: {} }
/** JSON of a text event with `n` characters of text: {"index":0,"text":"..."} */
const textJsonBytes = (n: number): number => JSON.stringify({ index: 0, text: 'x'.repeat(n) }).length

/** Lets every pending promise callback and I/O callback run once. */
const settle = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

/** Races `promise` against one turn of the event loop: true if it settled. */
async function settled (promise: Promise<unknown>): Promise<boolean> {
  let done = false
  promise.then(() => { done = true }, () => { done = true })
  await settle()
  return done
}

async function drain (reader: AsyncGenerator<BufferedEvent>): Promise<BufferedEvent[]> {
  const out: BufferedEvent[] = []
  for await (const e of reader) out.push(e)
  return out
}

test('append numbers events from 1, serialises each once and tracks the byte offset', () => {
  const live = new LiveStream('s1', 'model', 1_000_000)
  assert.equal(live.lastSeq, 0)
  const a = live.append(text('hé'))
  const b = live.append(text('llo'))
  assert.deepEqual(a, { seq: 1, type: 'text', json: '{"index":0,"text":"hé"}', end: 23 })
  assert.deepEqual(b, { seq: 2, type: 'text', json: '{"index":0,"text":"llo"}', end: 23 + 24 })
  assert.equal(live.lastSeq, 2)
  assert.equal(live.ended, false)
  live.append(DONE)
  assert.equal(live.ended, true)
  assert.equal(live.resumable, true)
})

test('a reader replays what came after afterSeq, then follows live until done', async () => {
  const live = new LiveStream('s1', 'model', 1_000_000)
  live.append(text('a'))
  live.append(text('b'))
  const reader = live.read(1, new AbortController().signal)
  const got = drain(reader)
  live.append(text('c'))
  live.append(DONE)
  assert.deepEqual((await got).map(e => e.seq), [2, 3, 4])
  // A reader of a finished stream gets the rest at once.
  assert.deepEqual((await drain(live.read(0, new AbortController().signal))).map(e => e.type), ['text', 'text', 'text', 'done'])
})

test('past maxBytes: events every reader has are dropped, resumable turns false and done says so', async () => {
  const one = textJsonBytes(10)
  const live = new LiveStream('s1', 'model', one * 3)
  for (let i = 0; i < 5; i++) live.append(text('x'.repeat(10)))
  assert.equal(live.resumable, false)
  assert.equal(live.canReplayFrom(0), false)
  assert.equal(live.canReplayFrom(1), false, 'event 2 was dropped')
  assert.equal(live.canReplayFrom(2), true, 'events 3..5 are held: three fit the bound')
  const done = live.append(DONE)
  assert.deepEqual(JSON.parse(done.json), { resumable: false })
  assert.deepEqual((await drain(live.read(3, new AbortController().signal))).map(e => e.seq), [4, 5, 6])
})

test('an attached reader keeps what it has not read, even past maxBytes', async () => {
  const live = new LiveStream('s1', 'model', textJsonBytes(10))
  const reader = live.read(0, new AbortController().signal)
  for (let i = 0; i < 4; i++) live.append(text('x'.repeat(10)))
  assert.equal(live.resumable, false, 'the bound was passed')
  assert.equal(live.canReplayFrom(0), true, 'nothing the reader still needs was dropped')
  live.append(DONE)
  assert.deepEqual((await drain(reader)).map(e => e.seq), [1, 2, 3, 4, 5])
})

test('canReplayFrom: every seq from the first held one, and any future one', () => {
  const live = new LiveStream('s1', 'model', 1_000_000)
  assert.equal(live.canReplayFrom(0), true)
  live.append(text('a'))
  assert.equal(live.canReplayFrom(0), true)
  assert.equal(live.canReplayFrom(1), true)
  assert.equal(live.canReplayFrom(99), true)
})

test('readers attach at read() (before any pull) and detach when they end, abort or return', async () => {
  const live = new LiveStream('s1', 'model', 1_000_000)
  const counts: number[] = []
  live.onReadersChange(n => counts.push(n))
  const aborted = new AbortController()
  const r1 = live.read(0, aborted.signal)
  const r2 = live.read(0, new AbortController().signal)
  const r3 = live.read(0, new AbortController().signal)
  assert.equal(live.readerCount, 3)
  assert.deepEqual(counts, [1, 2, 3])

  aborted.abort() // never iterated: detached by its signal alone
  assert.equal(live.readerCount, 2)
  assert.deepEqual(await r1.next(), { done: true, value: undefined })

  live.append(text('a'))
  assert.equal((await r2.next()).value?.seq, 1)
  await r2.return(undefined) // the consumer stopped early (a closed response)
  assert.equal(live.readerCount, 1)

  live.append(DONE)
  assert.deepEqual((await drain(r3)).map(e => e.type), ['text', 'done'])
  assert.equal(live.readerCount, 0)
  assert.deepEqual(counts, [1, 2, 3, 2, 1, 0], 'each change reported once')
})

test('a reader that falls behind a trimmed buffer ends early instead of skipping events', async () => {
  const live = new LiveStream('s1', 'model', textJsonBytes(10))
  live.append(text('x'.repeat(10)))
  live.append(text('x'.repeat(10)))
  // Checked canReplayFrom(1) while it held, but the buffer moved on before the first pull.
  assert.equal(live.canReplayFrom(1), true)
  const late = live.read(0, new AbortController().signal) // asks for event 1, already dropped
  assert.deepEqual(await drain(late), [])
  assert.equal(live.readerCount, 0)
})

test('waitForRoom: returns at once with no reader, or with readers within the window', async () => {
  const live = new LiveStream('s1', 'model', 10_000_000)
  live.append(text('x'.repeat(READER_WINDOW_BYTES * 2)))
  assert.equal(await settled(live.waitForRoom(new AbortController().signal)), true, 'no reader: nothing to wait for')
  const reader = live.read(live.lastSeq, new AbortController().signal)
  live.append(text('x'.repeat(1000)))
  assert.equal(await settled(live.waitForRoom(new AbortController().signal)), true, '1 KB behind is within the window')
  await reader.return(undefined)
})

// A reader has finished with an event when it asks for the next one (the SSE pump wrote it):
// only then does its position move, so a response stuck writing an event holds the producer.
test('waitForRoom blocks while a reader lags more than READER_WINDOW_BYTES, and is released as it reads', async () => {
  const live = new LiveStream('s1', 'model', 10_000_000)
  const stop = new AbortController()
  const reader = live.read(0, stop.signal)
  const quarter = READER_WINDOW_BYTES / 4
  for (let i = 0; i < 5; i++) live.append(text('x'.repeat(quarter))) // five quarters (plus JSON) behind
  const room = live.waitForRoom(new AbortController().signal)
  assert.equal(await settled(room), false, 'the producer waits for the slow reader')
  assert.equal((await reader.next()).value?.seq, 1)
  assert.equal(await settled(room), false, 'event 1 is still being handled: nothing moved')
  assert.equal((await reader.next()).value?.seq, 2)
  assert.equal(await settled(room), false, 'done with event 1: four quarters plus JSON still behind')
  assert.equal((await reader.next()).value?.seq, 3)
  assert.equal(await settled(room), true, 'done with event 2: within the window, released')
  stop.abort()
})

test('waitForRoom is released when the lagging reader detaches', async () => {
  const live = new LiveStream('s1', 'model', 10_000_000)
  const gone = new AbortController()
  live.read(0, gone.signal)
  live.append(text('x'.repeat(READER_WINDOW_BYTES + 1)))
  const room = live.waitForRoom(new AbortController().signal)
  assert.equal(await settled(room), false)
  gone.abort()
  assert.equal(await settled(room), true)
})

test('waitForRoom is released when its own signal aborts (the stream is cancelled)', async () => {
  const live = new LiveStream('s1', 'model', 10_000_000)
  const reader = live.read(0, new AbortController().signal)
  live.append(text('x'.repeat(READER_WINDOW_BYTES + 1)))
  const cancel = new AbortController()
  const room = live.waitForRoom(cancel.signal)
  assert.equal(await settled(room), false)
  cancel.abort()
  assert.equal(await settled(room), true)
  assert.equal(live.readerCount, 1, 'the reader is still attached; only the producer stopped waiting')
  await reader.return(undefined)
})

test('the slowest of several readers sets the pace', async () => {
  const live = new LiveStream('s1', 'model', 10_000_000)
  const stop = new AbortController()
  const fast = live.read(0, stop.signal)
  const slow = live.read(0, stop.signal)
  live.append(text('x'.repeat(READER_WINDOW_BYTES + 1)))
  const room = live.waitForRoom(new AbortController().signal)
  await fast.next()
  const fastWaits = fast.next() // done with event 1, waiting for more
  assert.equal(await settled(room), false, 'the fast reader alone does not release the producer')
  await slow.next()
  const slowWaits = slow.next()
  assert.equal(await settled(room), true)
  stop.abort()
  assert.deepEqual(await Promise.all([fastWaits, slowWaits]), [{ done: true, value: undefined }, { done: true, value: undefined }])
})

test('compaction: a long trimmed stream keeps its sequence, holds only the bound, and replays correctly', async () => {
  const one = textJsonBytes(8)
  const live = new LiveStream('s1', 'model', one * 10)
  const N = 5000 // well past the 1024 dropped entries that trigger a compaction, several times
  for (let i = 1; i <= N; i++) live.append(text(String(i).padStart(8, '0')))
  assert.equal(live.lastSeq, N)
  assert.equal(live.canReplayFrom(N - 11), false)
  assert.equal(live.canReplayFrom(N - 10), true, 'exactly the last ten are held')
  const tail = await (async () => {
    const reader = live.read(N - 10, new AbortController().signal)
    live.append(DONE)
    return await drain(reader)
  })()
  assert.deepEqual(tail.map(e => e.seq), Array.from({ length: 11 }, (_, i) => N - 9 + i))
  assert.deepEqual(tail.slice(0, -1).map(e => (JSON.parse(e.json) as { text: string }).text), Array.from({ length: 10 }, (_, i) => String(N - 9 + i).padStart(8, '0')))
})
