// ReplayBuffer, the replay buffer of one stream: sequencing, one frame per event encoded
// once, the byte bound, replay from a position, compaction, sealing at `done`.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { RelayEvent } from '../../src/events.js'
import { nativeFraming } from '../../src/sse/framing.js'
import { ReplayBuffer } from '../../src/streams/replay-buffer.js'

const text = (t: string): RelayEvent => ({ type: 'text', data: { index: 0, text: t } })
const textJsonBytes = (n: number): number => JSON.stringify({ index: 0, text: 'x'.repeat(n) }).length
/** The sequence numbers of the frames a replay writes, from their `id:` lines. */
const seqsOf = (frames: Buffer[]): number[] => [...Buffer.concat(frames).toString().matchAll(/^id: [^\n]*-(\d+)$/gm)].map(m => Number(m[1]))

test('append numbers events from 1, serialises each once, and encodes its SSE frame once', () => {
  const buffer = new ReplayBuffer('s1', 1_000_000, nativeFraming({ streamId: 's1', model: 'm' }))
  const first = buffer.append({ type: 'start', data: { streamId: 's1', model: 'm' } })
  const second = buffer.append(text('a\rb'))
  assert.equal(first.seq, 1)
  assert.equal(second.seq, 2)
  assert.equal(second.json, '{"index":0,"text":"a\\rb"}', 'CR is escaped by JSON: no forged field')
  assert.equal(second.frame.toString(), 'id: s1-2\nevent: text\ndata: {"index":0,"text":"a\\rb"}\n\n')
  assert.equal(second.end, first.json.length + second.json.length)
  assert.equal(buffer.lastSeq, 2)
  assert.equal(buffer.resumable, true)
})

test('framesAfter(): the frames of the held events after a position, in order', () => {
  const buffer = new ReplayBuffer('s1', 1_000_000, nativeFraming({ streamId: 's1', model: 'm' }))
  for (const t of ['a', 'b', 'c']) buffer.append(text(t))
  assert.deepEqual(seqsOf(buffer.framesAfter(0)), [1, 2, 3])
  assert.deepEqual(seqsOf(buffer.framesAfter(2)), [3])
  assert.deepEqual(buffer.framesAfter(3), [])
})

test('past maxBytes the oldest events go, resumable turns false, and done says so', () => {
  const one = textJsonBytes(10)
  const buffer = new ReplayBuffer('s1', one * 3, nativeFraming({ streamId: 's1', model: 'm' }))
  for (let i = 0; i < 5; i++) buffer.append(text('x'.repeat(10)))
  assert.equal(buffer.resumable, false)
  assert.deepEqual(seqsOf(buffer.framesAfter(0)), [3, 4, 5])
  assert.equal(buffer.canReplayFrom(1), false)
  assert.equal(buffer.canReplayFrom(2), true)
  const done = buffer.append({ type: 'done', data: {} })
  assert.equal(done.json, '{"resumable":false}')
})

test('maxBytes 0 keeps nothing, but every appended event is still returned (readers get it live)', () => {
  const buffer = new ReplayBuffer('s1', 0, nativeFraming({ streamId: 's1', model: 'm' }))
  const entry = buffer.append(text('a'))
  assert.equal(entry.seq, 1)
  assert.deepEqual(buffer.framesAfter(0), [])
  assert.equal(buffer.lastSeq, 1)
  assert.equal(buffer.append(text('b')).seq, 2)
})

test('compaction: a long trimmed stream keeps its sequence and holds only the bound', () => {
  const one = textJsonBytes(10)
  const buffer = new ReplayBuffer('s1', one * 10, nativeFraming({ streamId: 's1', model: 'm' }))
  for (let i = 0; i < 5000; i++) buffer.append(text('x'.repeat(10)))
  assert.equal(buffer.lastSeq, 5000)
  assert.deepEqual(seqsOf(buffer.framesAfter(0)), Array.from({ length: 10 }, (_, i) => 4991 + i))
})

test('buffered frames keep only their own bytes: a held frame does not pin a shared 64 KiB pool slab (issue 10)', () => {
  // Every waiting stream keeps its `start` frame for its whole life. Buffer.from() slices
  // small strings out of Node's shared pool (64 KiB on Node 24), so a frame made between
  // other short-lived allocations kept a whole slab of garbage alive with it.
  const frames: Buffer[] = []
  const garbage: Buffer[] = []
  for (let i = 0; i < 2000; i++) {
    const id = `stream${String(i).padStart(8, '0')}`
    const buffer = new ReplayBuffer(id, 1_000_000, nativeFraming({ streamId: id, model: 'm' }))
    frames.push(buffer.append({ type: 'start', data: { streamId: id, model: 'bench.model-v1:0' } }).frame)
    garbage.push(Buffer.from('x'.repeat(1000))) // what the rest of the process allocates meanwhile
  }
  garbage.length = 0
  const held = new Set(frames.map(f => f.buffer))
  const heldBytes = [...held].reduce((sum, ab) => sum + ab.byteLength, 0)
  const frameBytes = frames.reduce((sum, f) => sum + f.length, 0)
  assert.ok(heldBytes < frameBytes * 1.5, `frames of ${frameBytes} bytes keep ${heldBytes} bytes of ArrayBuffers alive`)
})

test('frames keep their exact bytes whatever their size and characters', () => {
  const id = 'stream00000001'
  const buffer = new ReplayBuffer(id, 10_000_000, nativeFraming({ streamId: id, model: 'm' }))
  for (const t of ['é 😀 \u2028', 'x'.repeat(3000), 'ü'.repeat(5000), '']) {
    const entry = buffer.append(text(t))
    assert.equal(entry.frame.toString(), `id: ${id}-${entry.seq}\nevent: text\ndata: ${entry.json}\n\n`)
    assert.equal(JSON.parse(entry.json).text, t)
  }
})

test('at done the buffer is sealed: replay gives the same bytes from any position, in one Buffer, and holds less', () => {
  const id = 'stream00000002'
  const buffer = new ReplayBuffer(id, 1_000_000, nativeFraming({ streamId: id, model: 'm' }))
  const frames = [buffer.append({ type: 'start', data: { streamId: id, model: 'm' } }).frame]
  for (const t of ['a', 'é😀', '', 'x'.repeat(3000)]) frames.push(buffer.append(text(t)).frame)
  const liveBytes = buffer.heldBytes
  frames.push(buffer.append({ type: 'done', data: {} }).frame)
  assert.ok(buffer.heldBytes < liveBytes, `sealed ${buffer.heldBytes} bytes, ${liveBytes} before`)
  assert.equal(buffer.lastSeq, 6)
  for (let after = 0; after <= 6; after++) {
    const replay = buffer.framesAfter(after)
    assert.ok(replay.length <= 1, 'one write per replay')
    assert.equal(Buffer.concat(replay).toString(), Buffer.concat(frames.slice(after)).toString(), `after ${after}`)
  }
  assert.deepEqual(seqsOf(buffer.framesAfter(3)), [4, 5, 6])
})

test('a sealed trimmed buffer replays only what it held, and says it cannot resume from before', () => {
  const one = textJsonBytes(10)
  const buffer = new ReplayBuffer('s1', one * 3, nativeFraming({ streamId: 's1', model: 'm' }))
  for (let i = 0; i < 5; i++) buffer.append(text('x'.repeat(10)))
  buffer.append({ type: 'done', data: {} })
  assert.equal(buffer.canReplayFrom(2), false)
  assert.deepEqual(seqsOf(buffer.framesAfter(0)), [4, 5, 6])
  assert.deepEqual(seqsOf(buffer.framesAfter(5)), [6])
  assert.deepEqual(buffer.framesAfter(6), [])
})
