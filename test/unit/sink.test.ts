// SseSink, one SSE response of a stream produced here: frames queued until the response
// is committed, then written straight to it in order; one heartbeat timer refreshed by
// every frame; the reader's window; the end. The response is a real Writable that the
// test reads from by hand (test/support/slow-socket.ts).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { READER_WINDOW_BYTES, SseSink } from '../../src/sse/sink.js'
import { SlowSocket } from '../support/slow-socket.js'

const frame = (s: string): Buffer => Buffer.from(`data: ${s}\n\n`)
const settle = async (): Promise<void> => { for (let i = 0; i < 3; i++) await new Promise(resolve => setImmediate(resolve)) }

test('a ping after each heartbeat interval of silence, not before; a frame resets the clock', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  let pings = 0
  const sink = new SseSink(1000, () => { pings++ })
  const socket = new SlowSocket()
  sink.open(socket)
  t.after(() => sink.destroy())
  t.mock.timers.tick(999)
  assert.equal(pings, 0)
  t.mock.timers.tick(1)
  assert.equal(pings, 1)
  assert.equal(socket.take(), ': ping\n\n')
  t.mock.timers.tick(600)
  sink.send(frame('a'))
  t.mock.timers.tick(999)
  assert.equal(pings, 1, 'the frame restarted the silence clock')
  t.mock.timers.tick(1)
  assert.equal(pings, 2)
  assert.equal(socket.take(), 'data: a\n\n: ping\n\n')
})

test('frames (and pings) before the response is committed are written, in order, when it is', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const sink = new SseSink(1000)
  t.after(() => sink.destroy())
  sink.send(frame('start'))
  t.mock.timers.tick(1000)
  const socket = new SlowSocket()
  sink.open(socket)
  sink.send(frame('text'))
  assert.equal(socket.take(), 'data: start\n\n: ping\n\ndata: text\n\n')
})

test('full past the window; room() resolves when the socket takes it', async () => {
  const sink = new SseSink(60_000)
  const socket = new SlowSocket()
  sink.open(socket)
  assert.equal(sink.full, false)
  assert.equal(sink.send(Buffer.alloc(READER_WINDOW_BYTES, 'x')), false)
  assert.equal(sink.full, true)
  let released = false
  const room = sink.room().then(() => { released = true })
  await settle()
  assert.equal(released, false)
  socket.take()
  await room
  assert.equal(released, true)
  assert.equal(sink.full, false)
  assert.equal(socket.listenerCount('drain'), 0, 'no listener left behind')
  sink.destroy()
})

test('a reader a window behind before its response is committed waits until it is, and the socket takes it', async () => {
  const sink = new SseSink(60_000)
  sink.send(Buffer.alloc(READER_WINDOW_BYTES, 'x'))
  assert.equal(sink.full, true)
  const socket = new SlowSocket()
  let released = false
  const room = sink.room().then(() => { released = true })
  sink.open(socket)
  await room
  assert.equal(released, true, 'released by the commit, to look again')
  assert.equal(sink.full, true, 'the socket has not taken it yet')
  const again = sink.room()
  socket.take()
  await again
  assert.equal(sink.full, false)
  sink.destroy()
})

test('room() is released when the response goes away; the owner hears of it once', async () => {
  const sink = new SseSink(60_000)
  let closes = 0
  sink.onClose(() => { closes++ })
  sink.open(new SlowSocket())
  sink.send(Buffer.alloc(READER_WINDOW_BYTES, 'x'))
  const room = sink.room()
  sink.destroy()
  sink.destroy()
  await room
  assert.equal(closes, 1)
  assert.equal(sink.full, false)
  assert.equal(sink.send(frame('late')), false)
})

test('finish(): the response ends after what was written, the heartbeat stops, later frames are refused', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  let pings = 0
  const sink = new SseSink(1000, () => { pings++ })
  const socket = new SlowSocket()
  sink.open(socket)
  sink.send(frame('last'))
  sink.finish()
  assert.equal(sink.send(frame('late')), false)
  t.mock.timers.tick(5000)
  assert.equal(pings, 0)
  assert.equal(socket.writableEnded, true)
  assert.equal(socket.take(), 'data: last\n\n')
})

test('finished before its response is committed: the queued frames, then the end', () => {
  const sink = new SseSink(60_000)
  sink.send(frame('start'))
  sink.send(frame('done'))
  sink.finish()
  const socket = new SlowSocket()
  sink.open(socket)
  assert.equal(socket.writableEnded, true)
  assert.equal(socket.take(), 'data: start\n\ndata: done\n\n')
})
