// StreamSession (one stream's owner) and StreamHub (the sessions of this instance): events
// pushed to every reader in order, replay on attach, backpressure, the resume grace
// period, cancel, shutdown and expiry. The upstream is a fake driven by hand through the
// session's emit; time is mock.timers, so a 30 s grace period takes microseconds.
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { ProxyError } from '../../src/errors.js'
import type { RelayEvent } from '../../src/events.js'
import { READER_WINDOW_BYTES, type SseSink } from '../../src/sse/sink.js'
import { StreamHub } from '../../src/streams/hub.js'
import type { StreamMirror } from '../../src/streams/mirror.js'
import { StreamSession } from '../../src/streams/session.js'
import { SlowSocket } from '../support/slow-socket.js'

const GRACE_MS = 30_000
const TTL_MS = 600_000
let nextId = 0

/** Lets promise callbacks run; setImmediate is not mocked. */
const settle = async (): Promise<void> => { for (let i = 0; i < 3; i++) await new Promise(resolve => setImmediate(resolve)) }

/** The sockets of the readers attached with `attach` below. */
const sockets = new WeakMap<SseSink, SlowSocket>()

/** A reader of `session` after `afterSeq`, its response committed at once to a socket the test reads by hand. */
function attach (session: StreamSession, afterSeq: number): SseSink {
  const sink = session.attach(afterSeq, 60_000)
  const socket = new SlowSocket()
  sockets.set(sink, socket)
  sink.open(socket)
  return sink
}

/** Event names written to a reader's socket since the last look (the client reads them all). */
function namesIn (sink: SseSink): string[] {
  const out: string[] = []
  for (const m of (sockets.get(sink)?.take() ?? '').matchAll(/^event: (\w+)$/gm)) out.push(m[1] as string)
  return out
}

interface Fake { session: StreamSession, emit: (...events: RelayEvent[]) => void, finish: () => void, run: () => Promise<void> }

/** A session with a fake upstream: like the relay, on abort it ends with error (the reason), usage, done. */
function fake (opts: { maxBytes?: number, mirror?: StreamMirror } = {}): Fake {
  const session = new StreamSession({ streamId: `stream${String(++nextId).padStart(6, '0')}`, model: 'm', owner: undefined, maxBytes: opts.maxBytes ?? 1_000_000, mirror: opts.mirror })
  const emit = (...events: RelayEvent[]): void => { for (const e of events) session.emit(e) }
  let release: (() => void) | undefined
  const run = async (): Promise<void> => {
    emit({ type: 'start', data: { streamId: session.streamId, model: 'm' } })
    const { signal } = session.controller
    await new Promise<void>(resolve => { release = resolve; signal.addEventListener('abort', () => resolve(), { once: true }) })
    if (signal.aborted && !session.ended) {
      const reason = signal.reason instanceof ProxyError ? signal.reason : new ProxyError('internal')
      emit({ type: 'error', data: reason.toEventData() }, { type: 'usage', data: { inputTokens: 1, outputTokens: 0, totalTokens: 1, partial: true } }, { type: 'done', data: {} })
    }
  }
  const finish = (): void => {
    emit({ type: 'stop', data: { stopReason: 'end_turn' } }, { type: 'usage', data: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } }, { type: 'done', data: {} })
    release?.()
  }
  return { session, emit, finish, run }
}

function hubFor (t: TestContext, maxEndedBytes = 0): StreamHub {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const hub = new StreamHub({ ttlMs: TTL_MS, graceMs: GRACE_MS, maxEndedBytes, log: { warn: () => {} } })
  t.after(() => hub.clear())
  return hub
}

/** Not aborted a millisecond before graceMs from now, cancelled at graceMs. */
async function assertCancelledAfterGrace (t: TestContext, session: StreamSession): Promise<void> {
  t.mock.timers.tick(GRACE_MS - 1)
  await settle()
  assert.equal(session.controller.signal.aborted, false)
  t.mock.timers.tick(1)
  await settle()
  assertCancelled(session)
}

function assertCancelled (session: StreamSession): void {
  const { signal } = session.controller
  assert.equal(signal.aborted, true)
  assert.ok(signal.reason instanceof ProxyError)
  assert.equal(signal.reason.code, 'cancelled')
}

test('every event reaches every attached reader, in order; the stream runs until done', async (t) => {
  const hub = hubFor(t)
  const f = fake()
  const a = attach(f.session, 0)
  hub.start(f.session, f.run)
  const b = attach(f.session, 1) // a second tab, after start
  f.emit({ type: 'text', data: { index: 0, text: 'hi' } })
  assert.equal(hub.running, 1)
  f.finish()
  await settle()
  assert.deepEqual(namesIn(a), ['start', 'text', 'stop', 'usage', 'done'])
  assert.deepEqual(namesIn(b), ['text', 'stop', 'usage', 'done'])
  assert.equal(f.session.ended, true)
  assert.equal(hub.running, 0)
  assert.equal(hub.get(f.session.streamId), f.session)
})

test('a reader attached after the end gets the replay and its end at once', async (t) => {
  const hub = hubFor(t)
  const f = fake()
  hub.start(f.session, f.run)
  f.finish()
  await settle()
  const late = attach(f.session, 1)
  assert.deepEqual(namesIn(late), ['stop', 'usage', 'done'])
  assert.equal(sockets.get(late)?.writableEnded, true)
})

test('backpressure: waitForRoom is undefined until a reader is a window behind, then waits until it reads', async (t) => {
  const hub = hubFor(t)
  const f = fake()
  const reader = attach(f.session, 0)
  hub.start(f.session, f.run)
  assert.equal(f.session.waitForRoom(), undefined)
  f.emit({ type: 'text', data: { index: 0, text: 'x'.repeat(READER_WINDOW_BYTES) } })
  const room = f.session.waitForRoom()
  assert.ok(room !== undefined, 'the reader is a window behind')
  let released = false
  room.then(() => { released = true }, () => {})
  await settle()
  assert.equal(released, false)
  namesIn(reader) // the socket takes it all
  await settle()
  assert.equal(released, true)
})

test('backpressure ends when the lagging reader leaves, or the stream is aborted', async (t) => {
  const hub = hubFor(t)
  for (const end of ['leave', 'abort'] as const) {
    const f = fake()
    const reader = attach(f.session, 0)
    const other = attach(f.session, 0)
    hub.start(f.session, f.run)
    f.emit({ type: 'text', data: { index: 0, text: 'x'.repeat(READER_WINDOW_BYTES) } })
    namesIn(other)
    const room = f.session.waitForRoom()
    assert.ok(room !== undefined)
    if (end === 'leave') reader.destroy()
    else f.session.controller.abort(new ProxyError('cancelled'))
    await room
    other.destroy()
  }
})

test('no reader: the upstream is aborted with cancelled after graceMs, not a millisecond before', async (t) => {
  const hub = hubFor(t)
  const f = fake()
  const reader = attach(f.session, 0)
  hub.start(f.session, f.run)
  reader.destroy()
  await settle()
  await assertCancelledAfterGrace(t, f.session)
  assert.equal(f.session.ended, true, 'the stream ended with its own last events')
})

test('a reader that comes back within the grace period keeps the upstream running; the clock restarts when it leaves again', async (t) => {
  const hub = hubFor(t)
  const f = fake()
  const first = attach(f.session, 0)
  hub.start(f.session, f.run)
  first.destroy()
  await settle()
  t.mock.timers.tick(GRACE_MS - 1)
  const back = attach(f.session, 1)
  t.mock.timers.tick(GRACE_MS * 2)
  await settle()
  assert.equal(f.session.controller.signal.aborted, false)
  back.destroy()
  await settle()
  await assertCancelledAfterGrace(t, f.session)
})

test('a stream that is no longer resumable is aborted as soon as its last reader leaves', async (t) => {
  const hub = hubFor(t)
  const f = fake({ maxBytes: 10 })
  const reader = attach(f.session, 0)
  hub.start(f.session, f.run)
  f.emit({ type: 'text', data: { index: 0, text: 'more than ten bytes of JSON' } })
  assert.equal(f.session.resumable, false)
  reader.destroy()
  await settle()
  // At once, no grace; and as the client's leaving (the relay's summary says client_closed), not a cancel.
  const { signal } = f.session.controller
  assert.equal(signal.aborted, true)
  assert.ok(!(signal.reason instanceof ProxyError))
})

test('a reader on another instance (through the mirror) counts as a client that came back', async (t) => {
  const hub = hubFor(t)
  let remote = true
  const mirror: StreamMirror = { append: () => {}, finish: () => {}, hasRemoteReaders: async () => remote }
  const f = fake({ mirror })
  const reader = attach(f.session, 0)
  hub.start(f.session, f.run)
  reader.destroy()
  await settle()
  t.mock.timers.tick(GRACE_MS)
  await settle()
  assert.equal(f.session.controller.signal.aborted, false)
  remote = false
  t.mock.timers.tick(GRACE_MS)
  await settle()
  assertCancelled(f.session)
})

test('the mirror gets every event and the end', async (t) => {
  const hub = hubFor(t)
  const seen: number[] = []
  let finished: { lastSeq: number, resumable: boolean } | undefined
  const f = fake({ mirror: { append: (e) => { seen.push(e.seq) }, finish: (s) => { finished = { lastSeq: s.lastSeq, resumable: s.resumable } }, hasRemoteReaders: async () => false } })
  hub.start(f.session, f.run)
  f.finish()
  await settle()
  assert.deepEqual(seen, [1, 2, 3, 4])
  assert.deepEqual(finished, { lastSeq: 4, resumable: true })
})

test('cancel(): aborts a running stream with cancelled; false when unknown or already ended', async (t) => {
  const hub = hubFor(t)
  const f = fake()
  const reader = attach(f.session, 0)
  hub.start(f.session, f.run)
  assert.equal(hub.cancel('unknown'), false)
  assert.equal(hub.cancel(f.session.streamId), true)
  await settle()
  assertCancelled(f.session)
  assert.deepEqual(namesIn(reader), ['start', 'error', 'usage', 'done'])
  assert.equal(hub.cancel(f.session.streamId), false)
})

test('abortAll(): every running stream ends with the given reason; ended streams are left alone', async (t) => {
  const hub = hubFor(t)
  const running = fake()
  const done = fake()
  attach(running.session, 0)
  attach(done.session, 0)
  hub.start(running.session, running.run)
  hub.start(done.session, done.run)
  done.finish()
  await settle()
  hub.abortAll(new ProxyError('shutting_down'))
  await settle()
  assert.equal((running.session.controller.signal.reason as ProxyError).code, 'shutting_down')
  assert.equal(done.session.controller.signal.aborted, false)
})

test('an ended stream is kept for ttlMs, then forgotten', async (t) => {
  const hub = hubFor(t)
  const f = fake()
  hub.start(f.session, f.run)
  f.finish()
  await settle()
  t.mock.timers.tick(TTL_MS - 1)
  assert.equal(hub.get(f.session.streamId), f.session)
  t.mock.timers.tick(1)
  assert.equal(hub.get(f.session.streamId), undefined)
})

test('streams that end at different times are each forgotten ttlMs after their own end', async (t) => {
  const hub = hubFor(t)
  const a = fake()
  const b = fake()
  hub.start(a.session, a.run)
  hub.start(b.session, b.run)
  a.finish()
  await settle()
  t.mock.timers.tick(1000)
  b.finish()
  await settle()
  assert.deepEqual(hub.endedStreams.count, 2)
  t.mock.timers.tick(TTL_MS - 1000)
  assert.equal(hub.get(a.session.streamId), undefined)
  assert.equal(hub.get(b.session.streamId), b.session)
  t.mock.timers.tick(999)
  assert.equal(hub.get(b.session.streamId), b.session)
  t.mock.timers.tick(1)
  assert.equal(hub.get(b.session.streamId), undefined)
  assert.deepEqual(hub.endedStreams, { count: 0, bytes: 0, evicted: 0 })
})

test('past maxEndedBytes the oldest ended streams are forgotten first, before their TTL; running ones never are', async (t) => {
  // The bound's unit: what one ended stream holds (the same events make the same bytes).
  const probe = hubFor(t)
  const p = fake()
  probe.start(p.session, p.run)
  p.finish()
  await settle()
  const one = probe.endedStreams.bytes
  assert.ok(one > 0)
  probe.clear()

  const hub = new StreamHub({ ttlMs: TTL_MS, graceMs: GRACE_MS, maxEndedBytes: one * 2, log: { warn: () => {} } })
  t.after(() => hub.clear())
  const running = fake()
  hub.start(running.session, running.run)
  const ended = [fake(), fake(), fake()]
  for (const f of ended) {
    hub.start(f.session, f.run)
    f.finish()
    await settle()
  }
  assert.equal(hub.get(ended[0]?.session.streamId ?? ''), undefined, 'the oldest ended stream is forgotten')
  assert.equal(hub.get(ended[1]?.session.streamId ?? ''), ended[1]?.session)
  assert.equal(hub.get(ended[2]?.session.streamId ?? ''), ended[2]?.session)
  assert.equal(hub.get(running.session.streamId), running.session)
  assert.deepEqual(hub.endedStreams, { count: 2, bytes: one * 2, evicted: 1 })
  assert.equal(hub.running, 1)
})

test('a producer that throws still ends the stream with done, and the defect is logged', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const warnings: unknown[] = []
  const hub = new StreamHub({ ttlMs: TTL_MS, graceMs: GRACE_MS, log: { warn: (obj) => warnings.push(obj) } })
  t.after(() => hub.clear())
  const session = new StreamSession({ streamId: 'broken0000', model: 'm', owner: undefined, maxBytes: 1_000_000, mirror: undefined })
  const reader = attach(session, 0)
  hub.start(session, async () => { throw new Error('defect') })
  await settle()
  assert.equal(session.ended, true)
  assert.deepEqual(namesIn(reader), ['done'])
  assert.equal(warnings.length, 1)
})

test('a producer that throws before returning its promise: start() does not throw, the stream still ends with done', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const warnings: unknown[] = []
  const hub = new StreamHub({ ttlMs: TTL_MS, graceMs: GRACE_MS, log: { warn: (obj) => warnings.push(obj) } })
  t.after(() => hub.clear())
  const session = new StreamSession({ streamId: 'broken0001', model: 'm', owner: undefined, maxBytes: 1_000_000, mirror: undefined })
  const reader = attach(session, 0)
  hub.start(session, () => { throw new Error('defect') })
  await settle()
  assert.equal(session.ended, true)
  assert.deepEqual(namesIn(reader), ['done'])
  assert.equal(warnings.length, 1)
})
