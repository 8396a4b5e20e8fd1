// Relay events -> SSE frames -> a Readable: ids carry the stream id, a defect in the reader
// still ends the stream truthfully, heartbeats are comments, and the headers are the SSE ones.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sequenced, type SequencedEvent } from '../../src/events.js'
import { SSE_HEADERS, toEventStream, toSseFrames } from '../../src/sse/event-stream.js'
import { parseSse } from '../helper.js'

const ID = 'abcdefabcdefabcdefabcdef'

async function * of (...events: SequencedEvent[]): AsyncGenerator<SequencedEvent> { yield * events }

test('each sequenced event becomes one frame whose id is <streamId>-<seq>', async () => {
  let wire = ''
  for await (const frame of toSseFrames(of(sequenced(7, { type: 'text', data: { index: 0, text: 'a' } }), sequenced(8, { type: 'done', data: {} })), ID)) wire += frame
  assert.equal(wire, `id: ${ID}-7\nevent: text\ndata: {"index":0,"text":"a"}\n\nid: ${ID}-8\nevent: done\ndata: {}\n\n`)
})

test('a reader that throws mid-stream still ends the stream with error internal + done, and is reported', async () => {
  async function * broken (): AsyncGenerator<SequencedEvent> {
    yield sequenced(1, { type: 'text', data: { index: 0, text: 'hi' } })
    throw new Error('defect')
  }
  const defects: unknown[] = []
  let wire = ''
  for await (const frame of toSseFrames(broken(), ID, err => defects.push(err))) wire += frame
  const { events } = parseSse(wire)
  assert.deepEqual(events.map(e => [e.id, e.event]), [[`${ID}-1`, 'text'], [`${ID}-2`, 'error'], [`${ID}-3`, 'done']])
  assert.deepEqual(events[1]?.data, { code: 'internal', message: 'Internal error.', retryable: false })
  assert.equal(defects.length, 1)
  assert.equal((defects[0] as Error).message, 'defect')
})

test('toEventStream: a Readable of the frames, with ": ping" comments while the source is silent', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  let release: (() => void) | undefined
  async function * slow (): AsyncGenerator<SequencedEvent> {
    yield sequenced(1, { type: 'start', data: { streamId: ID, model: 'm' } })
    await new Promise<void>(resolve => { release = resolve })
    yield sequenced(2, { type: 'done', data: {} })
  }
  let pings = 0
  const stream = toEventStream(slow(), ID, 1000, undefined, () => { pings++ })
  const chunks: string[] = []
  stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')))
  const ended = new Promise(resolve => stream.on('end', resolve))
  const settle = async (): Promise<void> => { for (let i = 0; i < 5; i++) await new Promise(resolve => setImmediate(resolve)) }
  await settle()
  t.mock.timers.tick(1000)
  await settle()
  t.mock.timers.tick(1000)
  await settle()
  release?.()
  await ended
  assert.equal(pings, 2)
  const { order } = parseSse(chunks.join(''))
  assert.deepEqual(order, ['start', ':ping', ':ping', 'done'])
})

test('SSE headers: event-stream, no caching or transforms, no proxy buffering', () => {
  assert.deepEqual(SSE_HEADERS, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
  })
})
