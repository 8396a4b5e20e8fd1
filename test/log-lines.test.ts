// Issue 8, item 6: log lines that tell the truth. A stream we ended ourselves (DELETE,
// a timeout) is logged with our reason, not with the "ended before the answer was
// complete" that the SDK's cut-off iteration produces as a consequence.
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { test } from 'node:test'
import { textScenario } from '../src/emulator/index.js'
import { build, fetchSse } from './helper.js'
import { countText, readThenDrop } from './support/sse.js'
import { eventually } from './support/wait.js'

const TRUNCATED = /ended before the answer was complete/

test('a cancelled stream logs "stream ended early" with code cancelled, and no truncation error', async (t) => {
  const h = await build(t)
  h.emulator.enqueue(textScenario('long '.repeat(400), { frameDelayMs: 20 }))
  const first = await readThenDrop(`${h.url}/v1/converse-stream?prompt=hi`, countText(1))
  const streamId = (first.events[0]?.data as { streamId: string }).streamId
  assert.equal((await fetch(`${h.url}/v1/streams/${streamId}`, { method: 'DELETE' })).status, 202)
  await eventually(async () => h.logs.some(l => l['msg'] === 'stream finished'))
  const ended = h.logs.find(l => l['msg'] === 'stream ended early')
  assert.equal(ended?.['code'], 'cancelled')
  assert.ok(!h.logs.some(l => TRUNCATED.test(JSON.stringify(l))), 'no line blames Bedrock for our own cancel')
  const finished = h.logs.find(l => l['msg'] === 'stream finished')
  assert.equal((finished?.['stream'] as { outcome: string }).outcome, 'cancelled')
})

test('a timed-out stream logs upstream_timeout with the deadline that fired', async (t) => {
  const h = await build(t, { env: { UPSTREAM_IDLE_TIMEOUT_MS: '200' } })
  const res = await fetchSse(`${h.url}/v1/converse-stream?prompt=/hang`)
  assert.equal((res.events.find(e => e.event === 'error')?.data as { code: string } | undefined)?.code, 'upstream_timeout')
  const failed = h.logs.find(l => l['msg'] === 'stream failed')
  assert.equal(failed?.['code'], 'upstream_timeout')
  assert.match(JSON.stringify(failed?.['err']), /no event from Bedrock within 200 ms/)
  assert.ok(!h.logs.some(l => TRUNCATED.test(JSON.stringify(l))))
})

test('a client that leaves before any answer still gets its one access line: "request aborted"', async (t) => {
  const h = await build(t)
  const { hostname, port } = new URL(h.url)
  // A body that never finishes: the request is still being read when its client leaves.
  const socket = connect(Number(port), hostname)
  socket.on('error', () => {})
  await new Promise<void>(resolve => socket.once('connect', resolve))
  const received = new Promise(resolve => h.app.server.once('request', resolve))
  socket.write('POST /v1/converse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"prompt":')
  await received // the server has the request and is reading its body
  socket.destroy()
  await eventually(async () => h.logs.some(l => l['msg'] === 'request aborted'))
  const line = h.logs.find(l => l['msg'] === 'request aborted')
  assert.equal((line?.['req'] as { url: string }).url, '/v1/converse')
  assert.equal(h.emulator.requests.length, 0)
})

test("a stream's lines carry its request's reqId, and its streamId; a /v1/converse call's its callId", async (t) => {
  const h = await build(t)
  const streamed = await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`)
  const streamId = (streamed.events[0]?.data as { streamId: string }).streamId
  await eventually(async () => h.logs.some(l => l['msg'] === 'request completed'))
  const finished = h.logs.find(l => l['msg'] === 'stream finished')
  const access = h.logs.find(l => l['msg'] === 'request completed')
  assert.equal(finished?.['streamId'], streamId)
  assert.equal(typeof access?.['reqId'], 'string')
  assert.equal(finished?.['reqId'], access?.['reqId'], 'the same request')

  const res = await fetch(`${h.url}/v1/converse`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'hi' }) })
  assert.equal(res.status, 200)
  await eventually(async () => h.logs.some(l => l['msg'] === 'call finished'))
  const call = h.logs.find(l => l['msg'] === 'call finished')
  assert.equal(typeof call?.['callId'], 'string')
  assert.equal(typeof call?.['reqId'], 'string')
  assert.notEqual(call?.['reqId'], access?.['reqId'])
})
