// Client goes away -> the upstream Bedrock call is aborted (nobody pays for tokens no
// one reads). Real sockets: the client destroys its connection mid-stream.
import assert from 'node:assert/strict'
import http from 'node:http'
import { test } from 'node:test'
import { textScenario } from '../src/emulator/index.js'
import { build, joinText, parseSse, postSse } from './helper.js'
import { framesSent, untilStalled } from './support/scenario.js'
import { readToEnd } from './support/net.js'
import { countText, readThenDrop } from './support/sse.js'
import { eventually } from './support/wait.js'

/** Opens a stream over a raw socket and destroys it once the first `text` event arrived. */
async function leaveAfterFirstToken (url: string, init: { method: string, body?: string }): Promise<void> {
  await readThenDrop(url, countText(1), init)
}

async function readiness (base: string): Promise<{ openStreams: number, runningStreams: number }> {
  return await (await fetch(`${base}/readyz`)).json() as { openStreams: number, runningStreams: number }
}

// A long answer paced at 20 ms a delta: it would take ~4 s to complete.
const LONG = textScenario('word '.repeat(200), { chunkChars: 5, frameDelayMs: 20 })

// RESUME_GRACE_MS=0: no wait for a reconnect (test/resume.test.ts covers the grace period).
test('GET: client disconnect aborts the upstream call within 1 s', async (t) => {
  const h = await build(t, { env: { RESUME_GRACE_MS: '0' } })
  h.emulator.enqueue(LONG)
  await leaveAfterFirstToken(`${h.url}/v1/converse-stream?prompt=hi`, { method: 'GET' })
  assert.equal(await h.emulator.waitForOutcome(1, 1000), 'aborted')
  await eventually(() => h.logs.some(l => l.msg === 'stream finished'))
  const lines = h.logs.filter(l => l.msg === 'stream finished')
  assert.equal(lines.length, 1)
  assert.equal((lines[0]?.stream as Record<string, unknown>).outcome, 'cancelled')
  // Nothing is left running or open on the proxy for the client that left.
  const ready = await readiness(h.url)
  assert.equal(ready.runningStreams, 0)
  assert.equal(ready.openStreams, 0)
})

test('POST: client disconnect aborts the upstream call within 1 s', async (t) => {
  const h = await build(t, { env: { RESUME_GRACE_MS: '0' } })
  h.emulator.enqueue(LONG)
  await leaveAfterFirstToken(`${h.url}/v1/converse-stream`, { method: 'POST', body: JSON.stringify({ prompt: 'hi' }) })
  assert.equal(await h.emulator.waitForOutcome(1, 1000), 'aborted')
})

test('POST: a slow stream is not aborted when the request body has been read', async (t) => {
  // FIELD-NOTES 10: request.signal fires ~3 ms after a POST body is read; a proxy that
  // listened to it would abort every POST stream at once.
  const h = await build(t)
  h.emulator.enqueue({ steps: [{ delayMs: 300 }, ...textScenario('still here after a pause', { frameDelayMs: 10 }).steps] })
  const res = await postSse(h.url, { prompt: 'hi' })
  assert.equal(joinText(res.events), 'still here after a pause')
  assert.equal(res.events.at(-1)?.event, 'done')
  assert.equal(await h.emulator.waitForOutcome(1, 1000), 'completed')
})

test('heartbeat comments arrive before a slow first token', async (t) => {
  const h = await build(t, { env: { HEARTBEAT_MS: '100' } })
  h.emulator.enqueue({ steps: [{ delayMs: 650 }, ...textScenario('finally').steps] })
  const res = await postSse(h.url, { prompt: 'hi' })
  const firstText = res.order.indexOf('text')
  const pingsBefore = res.order.slice(0, firstText).filter(o => o === ':ping').length
  assert.equal(res.order[0], 'start', 'start is flushed before Bedrock answers')
  assert.ok(pingsBefore >= 3, `expected >= 3 pings before the first token, got ${pingsBefore} (${res.order.join(' ')})`)
  assert.equal(joinText(res.events), 'finally')
})

test('start and heartbeats reach the client before Bedrock answers at all', async (t) => {
  const h = await build(t, { env: { HEARTBEAT_MS: '100', RESUME_GRACE_MS: '0' } })
  h.emulator.enqueue({ steps: [{ hang: true }] })
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    http.get(`${h.url}/v1/converse-stream?prompt=hi`, resolve).on('error', reject)
  })
  assert.equal(res.statusCode, 200)
  let text = ''
  for await (const chunk of res) {
    text += (chunk as Buffer).toString('utf8')
    if (text.includes(': ping\n\n')) break // leaves the loop and destroys the response
  }
  assert.match(text, /^id: [0-9a-f]{24}-1\nevent: start\n/)
  // Only `start` and pings so far, while the one upstream call is still waiting for Bedrock.
  const { order } = parseSse(text)
  assert.equal(order[0], 'start')
  assert.ok(order.length >= 2 && order.slice(1).every(o => o === ':ping'), order.join(' '))
  assert.equal(h.emulator.requests.length, 1)
  assert.equal(h.emulator.requests[0]?.outcome, 'pending', 'Bedrock has not answered')
  assert.equal(await h.emulator.waitForOutcome(1, 1000), 'aborted')
})

test('a slow reader holds back the upstream (backpressure), then gets every byte', async (t) => {
  const h = await build(t)
  // ~24 MB of deltas with no pacing: far more than socket buffers hold.
  const chunk = 'x'.repeat(1000)
  const text = Array.from({ length: 24_000 }, (_, i) => `${i}:${chunk}\n`).join('')
  const scenario = textScenario(text, { chunkChars: 1008, frameDelayMs: 0 })
  const total = scenario.steps.length // one frame each
  h.emulator.enqueue(scenario)
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    http.get(`${h.url}/v1/converse-stream?prompt=big`, resolve).on('error', reject)
  })
  res.pause() // read nothing until the emulator stops sending
  const playedWhilePaused = await untilStalled(framesSent(h.emulator))
  t.diagnostic(`frames the emulator sent while the client read nothing: ${playedWhilePaused} of ${total}`)
  // Socket buffers, the h2 window and one reader window hold a few MB, never most of the 24.
  assert.ok(playedWhilePaused < total / 2, `upstream held back: ${playedWhilePaused} of ${total} frames sent`)
  assert.equal(h.emulator.requests[0]?.outcome, 'pending', 'upstream is held back while the client does not read')
  const parsed = parseSse(await readToEnd(res))
  assert.equal(joinText(parsed.events), text)
  assert.equal(parsed.events.at(-1)?.event, 'done')
  assert.equal(await h.emulator.waitForOutcome(1, 1000), 'completed')
  assert.equal(framesSent(h.emulator)(), total)
})
