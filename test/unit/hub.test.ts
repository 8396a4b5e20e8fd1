// StreamHub: the producer loop, the resume grace period, cancel, shutdown and expiry.
// The upstream is a fake async generator the test feeds by hand; time is mock.timers,
// so a 30 s grace period takes microseconds and "not before" is exact.
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { ProxyError } from '../../src/errors.js'
import type { RelayEvent } from '../../src/events.js'
import { StreamHub, type HubOptions } from '../../src/streams/hub.js'
import { LiveStream } from '../../src/streams/live-stream.js'
import type { StreamMirror } from '../../src/streams/mirror.js'

const GRACE_MS = 30_000
const TTL_MS = 600_000

/** Lets promise callbacks (the producer loop, readers) run; setImmediate is not mocked. */
const settle = async (): Promise<void> => { for (let i = 0; i < 3; i++) await new Promise(resolve => setImmediate(resolve)) }

interface FakeUpstream {
  events: AsyncGenerator<RelayEvent, void, undefined>
  /** Hands the producer more events. */
  push: (...events: RelayEvent[]) => void
  /** The answer completes: stop, usage, done. */
  finish: () => void
}

/** Like relayConverseStream: yields what it is given; on abort ends with error (the abort reason), usage, done. */
function fakeUpstream (signal: AbortSignal): FakeUpstream {
  const queue: RelayEvent[] = []
  let wake: (() => void) | undefined
  const push = (...events: RelayEvent[]): void => { queue.push(...events); wake?.() }
  signal.addEventListener('abort', () => wake?.(), { once: true })
  async function * events (): AsyncGenerator<RelayEvent, void, undefined> {
    yield { type: 'start', data: { streamId: 'x', model: 'm' } }
    while (true) {
      if (queue.length === 0 && !signal.aborted) await new Promise<void>(resolve => { wake = resolve })
      if (signal.aborted) {
        const reason = signal.reason instanceof ProxyError ? signal.reason : new ProxyError('internal')
        yield { type: 'error', data: reason.toEventData() }
        yield { type: 'usage', data: { inputTokens: 1, outputTokens: 0, totalTokens: 1, partial: true } }
        yield { type: 'done', data: {} }
        return
      }
      const event = queue.shift() as RelayEvent
      yield event
      if (event.type === 'done') return
    }
  }
  return {
    events: events(),
    push,
    finish: () => push({ type: 'stop', data: { stopReason: 'end_turn' } }, { type: 'usage', data: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } }, { type: 'done', data: {} }),
  }
}

let nextId = 0

function setup (t: TestContext, opts: Partial<HubOptions> = {}): { hub: StreamHub, warnings: unknown[], start: (o?: { maxBytes?: number, mirror?: StreamMirror }) => { live: LiveStream, controller: AbortController, upstream: FakeUpstream } } {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const warnings: unknown[] = []
  const hub = new StreamHub({ ttlMs: TTL_MS, maxBytes: 1_000_000, graceMs: GRACE_MS, log: { warn: (obj) => warnings.push(obj) }, ...opts })
  t.after(() => hub.clear())
  const start = (o: { maxBytes?: number, mirror?: StreamMirror } = {}): { live: LiveStream, controller: AbortController, upstream: FakeUpstream } => {
    const live = new LiveStream(`stream${++nextId}`, 'm', o.maxBytes ?? 1_000_000)
    const controller = new AbortController()
    const upstream = fakeUpstream(controller.signal)
    hub.start(live, controller, upstream.events, o.mirror)
    return { live, controller, upstream }
  }
  return { hub, warnings, start }
}

/** Attaches a reader that consumes everything (as an SSE response would); `leave` detaches it. */
function attach (live: LiveStream): { leave: () => void, events: RelayEvent['type'][] } {
  const gone = new AbortController()
  const events: RelayEvent['type'][] = []
  const reading = (async () => { for await (const e of live.read(live.lastSeq, gone.signal)) events.push(e.type) })()
  reading.catch(() => {})
  return { leave: () => gone.abort(), events }
}

function assertCancelled (controller: AbortController): void {
  assert.equal(controller.signal.aborted, true)
  assert.ok(controller.signal.reason instanceof ProxyError)
  assert.equal(controller.signal.reason.code, 'cancelled')
}

test('the producer pulls every event into the buffer; the stream counts as running until done', async (t) => {
  const { hub, start } = setup(t)
  const { live, upstream, controller } = start()
  const reader = attach(live)
  await settle()
  assert.equal(hub.get(live.streamId), live)
  assert.equal(hub.running, 1)
  upstream.push({ type: 'text', data: { index: 0, text: 'hi' } })
  upstream.finish()
  await settle()
  assert.deepEqual(reader.events, ['start', 'text', 'stop', 'usage', 'done'])
  assert.equal(live.ended, true)
  assert.equal(hub.running, 0)
  assert.equal(controller.signal.aborted, false)
})

test('no reader: the upstream is aborted with cancelled after graceMs, not a millisecond before', async (t) => {
  const { hub, start } = setup(t)
  const { live, controller } = start()
  const reader = attach(live)
  await settle()
  reader.leave()
  t.mock.timers.tick(GRACE_MS - 1)
  await settle()
  assert.equal(controller.signal.aborted, false, 'still inside the grace period')
  t.mock.timers.tick(1)
  assertCancelled(controller)
  assert.match(controller.signal.reason.message, /grace period/)
  await settle()
  assert.equal(live.ended, true, 'the stream ends with its last events')
  assert.equal(hub.running, 0)
})

test('a reader that comes back within the grace period keeps the upstream running', async (t) => {
  const { start } = setup(t)
  const { live, controller, upstream } = start()
  attach(live).leave()
  await settle()
  t.mock.timers.tick(GRACE_MS - 1)
  const back = attach(live)
  t.mock.timers.tick(GRACE_MS * 10)
  await settle()
  assert.equal(controller.signal.aborted, false)
  upstream.finish()
  await settle()
  assert.deepEqual(back.events.slice(-3), ['stop', 'usage', 'done'])
})

test('the grace clock restarts each time the last reader leaves', async (t) => {
  const { start } = setup(t)
  const { live, controller } = start()
  attach(live).leave()
  t.mock.timers.tick(GRACE_MS - 10)
  attach(live).leave() // came back briefly, left again: a full grace period from here
  t.mock.timers.tick(GRACE_MS - 1)
  assert.equal(controller.signal.aborted, false)
  t.mock.timers.tick(1)
  assertCancelled(controller)
})

test('a stream that is no longer resumable is aborted as soon as its last reader leaves', async (t) => {
  const { start } = setup(t)
  const { live, controller, upstream } = start({ maxBytes: 50 })
  const reader = attach(live)
  upstream.push({ type: 'text', data: { index: 0, text: 'x'.repeat(100) } })
  await settle()
  assert.equal(live.resumable, false)
  assert.equal(controller.signal.aborted, false, 'a reader is attached: the stream goes on live')
  reader.leave()
  assertCancelled(controller)
  assert.match(controller.signal.reason.message, /can no longer be resumed/)
})

test('a reader on another instance (through the mirror) counts as a client that came back', async (t) => {
  const { start } = setup(t)
  let remoteReaders = true
  const mirror: StreamMirror = { append: () => {}, finish: () => {}, hasRemoteReaders: async () => remoteReaders }
  const { live, controller } = start({ mirror })
  attach(live).leave()
  t.mock.timers.tick(GRACE_MS)
  await settle()
  assert.equal(controller.signal.aborted, false, 'the remote reader keeps it running')
  remoteReaders = false
  t.mock.timers.tick(GRACE_MS - 1)
  await settle()
  assert.equal(controller.signal.aborted, false, 'a new grace period was armed')
  t.mock.timers.tick(1)
  await settle()
  assertCancelled(controller)
})

test('cancel(): aborts a running stream with cancelled; false when unknown or already ended', async (t) => {
  const { hub, start } = setup(t)
  const { live, controller } = start()
  const reader = attach(live)
  assert.equal(hub.cancel('nope'), false)
  assert.equal(hub.cancel(live.streamId), true)
  assertCancelled(controller)
  assert.equal(controller.signal.reason.message, 'The stream was cancelled.')
  await settle()
  assert.deepEqual(reader.events.slice(-3), ['error', 'usage', 'done'])
  assert.equal(hub.cancel(live.streamId), false, 'already ended')
})

test('abortAll(): every running stream ends with the given reason; ended streams are left alone', async (t) => {
  const { hub, start } = setup(t)
  const a = start()
  const b = start()
  const finished = start()
  for (const s of [a, b, finished]) attach(s.live)
  finished.upstream.finish()
  await settle()
  assert.equal(hub.running, 2)
  const reason = new ProxyError('shutting_down')
  hub.abortAll(reason)
  assert.equal(a.controller.signal.reason, reason)
  assert.equal(b.controller.signal.reason, reason)
  assert.equal(finished.controller.signal.aborted, false)
  await settle()
  assert.equal(hub.running, 0)
})

test('an ended stream is kept for ttlMs, then forgotten', async (t) => {
  const { hub, start } = setup(t)
  const { live, upstream } = start()
  attach(live)
  upstream.finish()
  await settle()
  t.mock.timers.tick(TTL_MS - 1)
  assert.equal(hub.get(live.streamId), live, 'still there to resume or replay')
  t.mock.timers.tick(1)
  assert.equal(hub.get(live.streamId), undefined)
})

test('the grace timer stops when the stream ends on its own', async (t) => {
  const { start } = setup(t)
  const { live, controller, upstream } = start()
  attach(live).leave()
  upstream.finish()
  await settle()
  assert.equal(live.ended, true)
  t.mock.timers.tick(GRACE_MS * 2)
  await settle()
  assert.equal(controller.signal.aborted, false, 'nothing to abort after the end')
})

test('a producer that throws still ends the stream with done, and the defect is logged', async (t) => {
  const { hub, warnings } = setup(t)
  const live = new LiveStream('broken0000', 'm', 1_000_000)
  async function * failing (): AsyncGenerator<RelayEvent> {
    yield { type: 'start', data: { streamId: 'broken0000', model: 'm' } }
    throw new Error('defect')
  }
  const reader = attach(live)
  hub.start(live, new AbortController(), failing(), undefined)
  await settle()
  assert.deepEqual(reader.events, ['start', 'done'])
  assert.equal(warnings.length, 1)
  assert.deepEqual(Object.keys(warnings[0] as object).sort(), ['err', 'streamId'])
})
