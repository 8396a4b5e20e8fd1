// SseSink, the body of one SSE response of a stream produced here: frames pushed in
// order, one heartbeat timer refreshed by every frame, the reader's window, the end.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { READER_WINDOW_BYTES, SseSink } from '../../src/sse/sink.js'

const frame = (s: string): Buffer => Buffer.from(`data: ${s}\n\n`)
const readAll = (sink: SseSink): string => {
  let out = ''
  for (let chunk = sink.read() as Buffer | null; chunk !== null; chunk = sink.read() as Buffer | null) out += chunk.toString()
  return out
}

test('a ping after each heartbeat interval of silence, not before; a frame resets the clock', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  let pings = 0
  const sink = new SseSink(1000, () => { pings++ })
  t.after(() => sink.destroy())
  t.mock.timers.tick(999)
  assert.equal(pings, 0)
  t.mock.timers.tick(1)
  assert.equal(pings, 1)
  assert.equal(readAll(sink), ': ping\n\n')
  t.mock.timers.tick(600)
  sink.send(frame('a'))
  t.mock.timers.tick(999)
  assert.equal(pings, 1, 'the frame restarted the silence clock')
  t.mock.timers.tick(1)
  assert.equal(pings, 2)
  assert.equal(readAll(sink), 'data: a\n\n: ping\n\n')
})

test('full past the window; room() resolves when the socket reads', async () => {
  const sink = new SseSink(60_000)
  const big = Buffer.alloc(READER_WINDOW_BYTES, 'x')
  assert.equal(sink.full, false)
  sink.send(big)
  assert.equal(sink.full, true)
  let released = false
  const room = sink.room().then(() => { released = true })
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(released, false)
  sink.read() // the socket takes it
  await room
  assert.equal(released, true)
  sink.destroy()
})

test('room() is released when the response goes away', async () => {
  const sink = new SseSink(60_000)
  sink.send(Buffer.alloc(READER_WINDOW_BYTES, 'x'))
  const room = sink.room()
  sink.destroy()
  await room
})

test('finish(): the stream ends after what was queued, the heartbeat stops, later frames are refused', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  let pings = 0
  const sink = new SseSink(1000, () => { pings++ })
  sink.send(frame('last'))
  sink.finish()
  assert.equal(sink.send(frame('late')), false)
  t.mock.timers.tick(5000)
  assert.equal(pings, 0)
  const chunks: string[] = []
  for await (const chunk of sink) chunks.push((chunk as Buffer).toString())
  assert.deepEqual(chunks, ['data: last\n\n'])
})
