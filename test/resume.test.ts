// Resumable streams on one instance (in-memory buffer): a dropped connection costs
// nothing, no lost text, no second generation.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { textScenario } from '../src/emulator/index.js'
import { build, eventNames, fetchSse, joinText } from './helper.js'
import { countText, readThenDrop } from './support/sse.js'
import { eventually } from './support/wait.js'

const ANSWER = 'Resumable 👩‍👩‍👧 streams\r\ndo not lose\ra byte: \u2028 \u0000 done.'.repeat(5)
const paced = (ms = 15): ReturnType<typeof textScenario> => textScenario(ANSWER, { chunkChars: 7, frameDelayMs: ms })

test('an EventSource-style reconnect with Last-Event-ID resumes mid-stream: identical text, one upstream call', async (t) => {
  const h = await build(t)
  h.emulator.enqueue(paced())
  const first = await readThenDrop(`${h.url}/v1/converse-stream?prompt=hi`, countText(5))
  const rest = await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`, { headers: { 'last-event-id': first.lastId } })
  assert.equal(rest.status, 200)
  assert.equal(rest.events[0]?.event, 'text', 'no second start: the same stream continues')
  assert.equal(joinText(first.events) + joinText(rest.events), ANSWER)
  assert.deepEqual(eventNames(rest.events).slice(-4), ['block_stop', 'stop', 'usage', 'done'])
  const seqs = [...first.events, ...rest.events].map(e => Number(e.id?.split('-')[1]))
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'every event exactly once, in order')
  assert.equal(h.emulator.requests.length, 1, 'Bedrock was called once')
  assert.equal(await h.emulator.waitForOutcome(1), 'completed')
})

test('?lastEventId= resumes for fetch clients, on POST with the header too', async (t) => {
  const h = await build(t)
  h.emulator.enqueue(paced())
  const first = await readThenDrop(`${h.url}/v1/converse-stream`, countText(3), { method: 'POST', body: JSON.stringify({ prompt: 'hi' }) })
  const viaQuery = await fetchSse(`${h.url}/v1/converse-stream?prompt=hi&lastEventId=${first.lastId}`)
  assert.equal(joinText(first.events) + joinText(viaQuery.events), ANSWER)
  const viaPost = await fetchSse(`${h.url}/v1/converse-stream`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'last-event-id': first.lastId }, body: JSON.stringify({ prompt: 'hi' }),
  })
  assert.equal(joinText(viaPost.events), joinText(viaQuery.events))
  assert.equal(h.emulator.requests.length, 1)
})

test('after the end: a reconnect gets the remaining events then done; after full delivery 204; unknown id 204', async (t) => {
  const h = await build(t)
  h.emulator.enqueue(paced(0))
  const full = await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`)
  const ids = full.events.map(e => e.id ?? '')
  const resumed = await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`, { headers: { 'last-event-id': ids.at(-4) ?? '' } })
  assert.deepEqual(eventNames(resumed.events), ['stop', 'usage', 'done'])
  const afterDone = await fetch(`${h.url}/v1/converse-stream?prompt=hi`, { headers: { 'last-event-id': ids.at(-1) ?? '' } })
  assert.equal(afterDone.status, 204)
  const unknown = await fetch(`${h.url}/v1/converse-stream?prompt=hi`, { headers: { 'last-event-id': 'abcdefabcdefabcdefabcdef-3' } })
  assert.equal(unknown.status, 204)
  const forged = await fetch(`${h.url}/v1/converse-stream?prompt=hi`, { headers: { 'last-event-id': 'not-an-id' } })
  assert.equal(forged.status, 400)
  assert.equal(h.emulator.requests.length, 1, 'no reconnect re-ran the prompt')
})

test('GET /v1/streams/{id} follows a running stream from its first event (a second tab)', async (t) => {
  const h = await build(t)
  h.emulator.enqueue(paced())
  const first = await readThenDrop(`${h.url}/v1/converse-stream?prompt=hi`, countText(2))
  const streamId = (first.events[0]?.data as { streamId: string }).streamId
  const tab = await fetchSse(`${h.url}/v1/streams/${streamId}`)
  assert.equal(tab.events[0]?.event, 'start')
  assert.equal(joinText(tab.events), ANSWER)
  assert.equal(tab.events.at(-1)?.event, 'done')
  assert.equal((await fetch(`${h.url}/v1/streams/${'0'.repeat(24)}`)).status, 204)
  const other = await fetch(`${h.url}/v1/streams/${'0'.repeat(24)}`, { headers: { 'last-event-id': first.lastId } })
  assert.equal(other.status, 400, "another stream's id is refused")
  assert.equal(h.emulator.requests.length, 1)
})

test('a client that leaves and never comes back: upstream aborted after the grace period, not before', async (t) => {
  const h = await build(t, { env: { RESUME_GRACE_MS: '600' } })
  h.emulator.enqueue(textScenario('slow '.repeat(400), { frameDelayMs: 20 }))
  const first = await readThenDrop(`${h.url}/v1/converse-stream?prompt=hi`, countText(1))
  await new Promise(resolve => setTimeout(resolve, 300)) // the point: half the grace period with nobody attached
  assert.equal(h.emulator.requests[0]?.outcome, 'pending', 'still running inside the grace period')
  assert.equal(await h.emulator.waitForOutcome(1, 2000), 'aborted')
  // The stream's last events tell the truth to whoever asks later.
  const later = await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`, { headers: { 'last-event-id': first.lastId } })
  assert.deepEqual(eventNames(later.events).slice(-3), ['error', 'usage', 'done'])
  assert.equal((later.events.at(-3)?.data as { code: string }).code, 'cancelled')
  assert.equal((later.events.at(-2)?.data as { partial: boolean }).partial, true)
})

test('a reconnect inside the grace period keeps the upstream running', async (t) => {
  const h = await build(t, { env: { RESUME_GRACE_MS: '400' } })
  h.emulator.enqueue(textScenario('x'.repeat(600), { chunkChars: 10, frameDelayMs: 15 })) // ~900 ms
  const first = await readThenDrop(`${h.url}/v1/converse-stream?prompt=hi`, countText(1))
  await new Promise(resolve => setTimeout(resolve, 200)) // the point: away for half the grace period while tokens keep coming
  const rest = await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`, { headers: { 'last-event-id': first.lastId } })
  assert.equal(joinText(first.events) + joinText(rest.events), 'x'.repeat(600))
  assert.equal(await h.emulator.waitForOutcome(1), 'completed')
})

test('DELETE /v1/streams/{id} cancels at once: cancelled, partial usage, done', async (t) => {
  const h = await build(t)
  h.emulator.enqueue(textScenario('long '.repeat(400), { frameDelayMs: 20 }))
  const first = await readThenDrop(`${h.url}/v1/converse-stream?prompt=hi`, countText(1))
  const streamId = (first.events[0]?.data as { streamId: string }).streamId
  const del = await fetch(`${h.url}/v1/streams/${streamId}`, { method: 'DELETE' })
  assert.equal(del.status, 202)
  assert.equal(await h.emulator.waitForOutcome(1, 1000), 'aborted')
  const again = await fetch(`${h.url}/v1/streams/${streamId}`, { method: 'DELETE' })
  assert.deepEqual(await again.json(), { streamId, status: 'ended' })
  const tab = await fetchSse(`${h.url}/v1/streams/${streamId}`)
  assert.deepEqual(eventNames(tab.events).slice(-3), ['error', 'usage', 'done'])
  assert.equal((await fetch(`${h.url}/v1/streams/${'f'.repeat(24)}`, { method: 'DELETE' })).status, 404)
})

test('past STREAM_BUFFER_MAX_BYTES the stream goes on live, says resumable: false, and a reconnect gets 204', async (t) => {
  const h = await build(t, { env: { STREAM_BUFFER_MAX_BYTES: '500' } })
  const text = 'y'.repeat(3000)
  h.emulator.enqueue(textScenario(text, { chunkChars: 50 }))
  const res = await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`)
  assert.equal(joinText(res.events), text, 'the live reader lost nothing')
  assert.deepEqual(res.events.at(-1)?.data, { resumable: false })
  const again = await fetch(`${h.url}/v1/converse-stream?prompt=hi`, { headers: { 'last-event-id': res.events[3]?.id ?? '' } })
  assert.equal(again.status, 204)
})

test('with no replay buffer at all (STREAM_BUFFER_MAX_BYTES=0) the live reader still gets every event', async (t) => {
  const h = await build(t, { env: { STREAM_BUFFER_MAX_BYTES: '0' } })
  h.emulator.enqueue(textScenario(ANSWER, { chunkChars: 3 }))
  const res = await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`)
  assert.equal(res.events[0]?.event, 'start')
  assert.equal(joinText(res.events), ANSWER)
  assert.deepEqual(res.events.at(-1)?.data, { resumable: false })
})

test('after STREAM_TTL_MS the stream is forgotten: 204', async (t) => {
  const h = await build(t, { env: { STREAM_TTL_MS: '100' } })
  h.emulator.enqueue(textScenario('short'))
  const res = await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`)
  // Polled rather than slept past: the buffer is dropped when its TTL timer fires (exact
  // timing: test/unit/hub.test.ts); until then a reconnect still resumes.
  await eventually(async () => {
    const again = await fetch(`${h.url}/v1/converse-stream?prompt=hi`, { headers: { 'last-event-id': res.events[1]?.id ?? '' } })
    await again.arrayBuffer()
    return again.status === 204
  }, 5000, 'a 204 for the expired stream')
})
