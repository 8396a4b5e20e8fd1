// Client goes away -> the upstream Bedrock call is aborted (nobody pays for tokens no
// one reads). Real sockets: the client destroys its connection mid-stream.
import assert from 'node:assert/strict'
import http from 'node:http'
import { test } from 'node:test'
import { textScenario } from '../src/emulator/index.js'
import { build, joinText, postSse } from './helper.js'

/** Opens a stream over a raw socket and destroys it once the first `text` frame arrives. */
async function leaveAfterFirstToken (url: string, init: { method: string, body?: string }): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const req = http.request(url, {
      method: init.method,
      headers: init.body !== undefined ? { 'content-type': 'application/json' } : {},
    }, (res) => {
      let seen = ''
      res.on('data', (chunk: Buffer) => {
        seen += chunk.toString('utf8')
        if (seen.includes('event: text')) {
          req.destroy()
          resolve()
        }
      })
      res.on('error', () => {})
      res.on('end', () => reject(new Error('stream ended before the client left')))
    })
    req.on('error', () => {})
    req.end(init.body)
  })
}

// A long answer paced at 20 ms a delta: it would take ~4 s to complete.
const LONG = textScenario('word '.repeat(200), { chunkChars: 5, frameDelayMs: 20 })

// RESUME_GRACE_MS=0: no wait for a reconnect (test/resume.test.ts covers the grace period).
test('GET: client disconnect aborts the upstream call within 1 s', async (t) => {
  const h = await build(t, { env: { RESUME_GRACE_MS: '0' } })
  h.emulator.enqueue(LONG)
  await leaveAfterFirstToken(`${h.url}/v1/converse-stream?prompt=hi`, { method: 'GET' })
  assert.equal(await h.emulator.waitForOutcome(1, 1000), 'aborted')
  await waitFor(() => h.logs.some(l => l.msg === 'stream finished'))
  const line = h.logs.find(l => l.msg === 'stream finished')
  assert.equal((line?.stream as Record<string, unknown>).outcome, 'cancelled')
  assert.equal(h.app.printRoutes().length > 0, true)
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
  assert.ok(text.includes(': ping\n\n'))
  assert.equal(await h.emulator.waitForOutcome(1, 1000), 'aborted')
})

test('a slow reader holds back the upstream (backpressure), then gets every byte', async (t) => {
  const h = await build(t)
  // ~24 MB of deltas with no pacing: far more than socket buffers hold.
  const chunk = 'x'.repeat(1000)
  const text = Array.from({ length: 24_000 }, (_, i) => `${i}:${chunk}\n`).join('')
  h.emulator.enqueue(textScenario(text, { chunkChars: 1008, frameDelayMs: 0 }))
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    http.get(`${h.url}/v1/converse-stream?prompt=big`, resolve).on('error', reject)
  })
  res.pause() // read nothing for a while
  await new Promise(resolve => setTimeout(resolve, 1500))
  assert.equal(h.emulator.requests[0]?.outcome, 'pending', 'upstream is held back while the client does not read')
  const rss = process.memoryUsage().rss
  const chunks: Buffer[] = []
  res.on('data', (c: Buffer) => chunks.push(c))
  res.resume()
  await new Promise(resolve => res.on('end', resolve))
  const { parseSse } = await import('./helper.js')
  const parsed = parseSse(Buffer.concat(chunks).toString('utf8'))
  assert.equal(joinText(parsed.events), text)
  assert.equal(parsed.events.at(-1)?.event, 'done')
  assert.equal(await h.emulator.waitForOutcome(1, 1000), 'completed')
  assert.ok(rss > 0)
})

async function waitFor (cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}
