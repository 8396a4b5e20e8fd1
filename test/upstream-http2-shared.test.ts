// BEDROCK_HTTP=http2-shared (issue 10): upstream calls multiplexed on HTTP/2 connections,
// at most BEDROCK_HTTP2_STREAMS_PER_CONNECTION at once on each. Real SDK, real h2c to the
// emulator, real sockets on both sides.
import assert from 'node:assert/strict'
import http from 'node:http'
import { test, type TestContext } from 'node:test'
import { ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime'
import { textScenario, type EmulatorRequest, type Scenario } from '../src/emulator/index.js'
import type { Env } from '../src/config.js'
import { build, emulatorClient, fetchSse, joinText, lastEvent, parseSse, startTestEmulator, type Harness } from './helper.js'
import { framesSent, untilStalled } from './support/scenario.js'
import { readToEnd, startTcpRelay, type TcpRelay } from './support/net.js'
import { eventually } from './support/wait.js'

/** The most requests that were open at once on one connection, from the emulator's log. */
function peakPerConnection (requests: EmulatorRequest[]): number {
  let peak = 0
  for (const r of requests) {
    const open = requests.filter(o => o.connection === r.connection && o.startedAt <= r.startedAt && (o.endedAt ?? Infinity) > r.startedAt)
    peak = Math.max(peak, open.length)
  }
  return peak
}

test('concurrent streams share HTTP/2 connections, never more at once on one than the setting, and every one completes', async (t) => {
  const h = await build(t, { env: { BEDROCK_HTTP: 'http2-shared', BEDROCK_HTTP2_STREAMS_PER_CONNECTION: '4', MAX_STREAMS_PER_KEY: '20' }, emulator: { frameDelayMs: 20 } })
  const results = await Promise.all(Array.from({ length: 10 }, async (_, i) => await fetchSse(`${h.url}/v1/converse-stream?prompt=${encodeURIComponent(`stream number ${i}`)}`)))
  for (const res of results) {
    assert.equal(res.status, 200)
    assert.deepEqual(res.events.slice(-3).map(e => e.event), ['stop', 'usage', 'done'])
  }
  const requests = h.emulator.requests
  assert.equal(requests.length, 10)
  assert.ok(requests.every(r => r.protocol === 'h2'))
  const connections = new Set(requests.map(r => r.connection)).size
  assert.ok(connections < 10, `10 streams shared ${connections} connections`)
  assert.ok(peakPerConnection(requests) <= 4, `at most 4 streams at once on a connection (saw ${peakPerConnection(requests)})`)
  assert.ok(peakPerConnection(requests) >= 2, 'streams did run side by side on one connection')
})

test('a stream held back by a slow reader does not stall the other streams on its connection', async (t) => {
  const h = await build(t, { env: { BEDROCK_HTTP: 'http2-shared' } })
  // ~24 MB without pacing for the reader that reads nothing: far more than any window holds.
  const chunk = 'x'.repeat(1000)
  const big = Array.from({ length: 24_000 }, (_, i) => `${i}:${chunk}\n`).join('')
  const scenario = textScenario(big, { chunkChars: 1008, frameDelayMs: 0 })
  h.emulator.enqueue(scenario)
  const slow = await new Promise<http.IncomingMessage>((resolve, reject) => {
    http.get(`${h.url}/v1/converse-stream?prompt=big`, resolve).on('error', reject)
  })
  slow.pause()
  const played = await untilStalled(framesSent(h.emulator))
  assert.ok(played < scenario.steps.length / 2, `the big stream is held back (${played} frames sent)`)

  // Meanwhile, on the same connection, other streams run to their end.
  const others = await Promise.all([0, 1, 2].map(async () => await fetchSse(`${h.url}/v1/converse-stream?prompt=hello`)))
  for (const res of others) assert.deepEqual(res.events.slice(-3).map(e => e.event), ['stop', 'usage', 'done'])
  const [first, ...rest] = h.emulator.requests
  assert.ok(rest.every(r => r.connection === first?.connection), 'they shared the held stream\'s connection')
  assert.equal(first?.outcome, 'pending', 'the big stream is still held back')

  const parsed = parseSse(await readToEnd(slow))
  assert.equal(joinText(parsed.events), big)
  assert.equal(lastEvent(parsed.events)?.event, 'done')
})

test('a connection that drops fails every stream on it with an error event, and the next call opens a new connection', async (t) => {
  const h = await build(t, { env: { BEDROCK_HTTP: 'http2-shared' } })
  const dropping = (): Scenario => ({ steps: [...textScenario('before the drop').steps.slice(0, 3), { delayMs: 300 }, { reset: true, scope: 'connection' }] })
  h.emulator.enqueue(dropping(), dropping(), dropping())
  const cut = await Promise.all([0, 1, 2].map(async () => await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`)))
  for (const res of cut) {
    assert.ok(res.events.some(e => e.event === 'text'), 'the text before the drop arrived')
    const error = res.events.find(e => e.event === 'error')?.data as { code?: string } | undefined
    assert.ok(error?.code === 'upstream_truncated' || error?.code === 'upstream_error', `an error event, not a completion (got ${JSON.stringify(error)})`)
    assert.equal(res.events.some(e => e.event === 'stop'), false)
    assert.equal(lastEvent(res.events)?.event, 'done')
  }
  const dropped = h.emulator.requests[0]?.connection
  assert.ok(h.emulator.requests.every(r => r.connection === dropped), 'the three shared one connection')

  const next = await fetchSse(`${h.url}/v1/converse-stream?prompt=again`)
  assert.deepEqual(next.events.slice(-3).map(e => e.event), ['stop', 'usage', 'done'])
  assert.notEqual(h.emulator.requests.at(-1)?.connection, dropped, 'a new connection')
})

test('an endpoint that allows fewer streams per connection than the setting: once a connection has its limit, calls past it open another connection, and all complete', async (t) => {
  // The endpoint allows 2 at once; the proxy would put 100 on a connection. Calls held
  // back on a full connection would wait for a free stream (a long answer holds one for
  // minutes), so the proxy lowers its own bound to what the endpoint advertises.
  const h = await build(t, { env: { BEDROCK_HTTP: 'http2-shared', MAX_STREAMS_PER_KEY: '20' }, emulator: { frameDelayMs: 20, h2MaxConcurrentStreams: 2 } })
  // One call first: its connection brings the endpoint's settings.
  assert.equal(lastEvent((await fetchSse(`${h.url}/v1/converse-stream?prompt=warm`)).events)?.event, 'done')
  const results = await Promise.all(Array.from({ length: 6 }, async (_, i) => await fetchSse(`${h.url}/v1/converse-stream?prompt=${encodeURIComponent(`call ${i}`)}`)))
  for (const res of results) {
    assert.equal(res.events.some(e => e.event === 'error'), false, JSON.stringify(res.events.find(e => e.event === 'error')?.data))
    assert.deepEqual(res.events.slice(-3).map(e => e.event), ['stop', 'usage', 'done'])
  }
  const requests = h.emulator.requests.slice(1)
  assert.ok(peakPerConnection(requests) <= 2, 'never more than the endpoint allows at once')
  assert.ok(new Set(requests.map(r => r.connection)).size >= 3, `six calls at two per connection took ${new Set(requests.map(r => r.connection)).size} connections`)
})

test('a burst on a new connection, before it has the endpoint\'s settings: the streams the endpoint refuses are retried by the SDK, and all complete', async (t) => {
  const emulator = await startTestEmulator(t, { frameDelayMs: 20, h2MaxConcurrentStreams: 2 })
  const client = emulatorClient(emulator, {}, { bedrockHttp: 'http2-shared' })
  t.after(() => client.destroy())
  // Six calls at once on a client with no connection yet: all six go out before the endpoint's SETTINGS arrive.
  const results = await Promise.all(Array.from({ length: 6 }, async () => {
    const response = await client.send(new ConverseStreamCommand({ modelId: 'm', messages: [{ role: 'user', content: [{ text: 'hello there' }] }] }))
    const kinds: string[] = []
    for await (const event of response.stream ?? []) kinds.push(Object.keys(event)[0] ?? '')
    return { kinds, attempts: response.$metadata.attempts ?? 1 }
  }))
  for (const { kinds } of results) assert.deepEqual(kinds.slice(-2), ['messageStop', 'metadata'])
  t.diagnostic(`attempts: ${results.map(r => r.attempts).join(', ')}`)
  assert.ok(peakPerConnection(emulator.requests) <= 2)
})

/** The proxy (default upstream, PINGs answered within 300 ms) reaching the emulator through a TCP relay a test can silence. */
async function behindRelay (t: TestContext, env: Env): Promise<{ h: Harness, relay: TcpRelay }> {
  const emulator = await startTestEmulator(t)
  const relay = await startTcpRelay(emulator.url)
  t.after(async () => await relay.close())
  const h = await build(t, { sharedEmulator: emulator, client: { endpoint: relay.url }, upstream: { http2PingTimeoutMs: 300 }, env })
  return { h, relay }
}

test('a connection that goes silent without closing is pinged once a call on it times out, and closed: the next call opens a new connection and completes', async (t) => {
  const { h, relay } = await behindRelay(t, { UPSTREAM_FIRST_EVENT_TIMEOUT_MS: '500' })
  assert.equal(lastEvent((await fetchSse(`${h.url}/v1/converse-stream?prompt=before`)).events)?.event, 'done')
  assert.equal(relay.accepted(), 1)

  relay.silence()
  const stalled = await fetchSse(`${h.url}/v1/converse-stream?prompt=into+the+void`)
  assert.equal((stalled.events.find(e => e.event === 'error')?.data as { code?: string } | undefined)?.code, 'upstream_timeout')
  // The ping goes unanswered: the proxy closes the connection instead of leasing it again.
  await eventually(() => relay.closedByClient() === 1, 5000, 'the silent connection closed by the proxy')

  const next = await fetchSse(`${h.url}/v1/converse-stream?prompt=after`)
  assert.deepEqual(next.events.slice(-3).map(e => e.event), ['stop', 'usage', 'done'])
  assert.equal(relay.accepted(), 2, 'a new connection')
})

test('a connection that answers its ping stays: a client that leaves does not cost the others their connection', async (t) => {
  const { h, relay } = await behindRelay(t, { RESUME_GRACE_MS: '0' })
  assert.equal(lastEvent((await fetchSse(`${h.url}/v1/converse-stream?prompt=warm`)).events)?.event, 'done')
  const leaving = new AbortController()
  const left = fetch(`${h.url}/v1/converse-stream?prompt=${encodeURIComponent('/stamped 500 20')}`, { signal: leaving.signal }).then(async (res) => await res.text()).catch(() => 'aborted')
  await eventually(() => h.emulator.requests.length === 2)
  await new Promise(resolve => setTimeout(resolve, 100))
  leaving.abort()
  await left
  await eventually(() => h.emulator.requests[1]?.outcome === 'aborted', 5000, 'the upstream call aborted')
  await new Promise(resolve => setTimeout(resolve, 600))
  assert.equal(lastEvent((await fetchSse(`${h.url}/v1/converse-stream?prompt=again`)).events)?.event, 'done')
  assert.equal(relay.accepted(), 1, 'one connection all along')
  assert.equal(relay.closedByClient(), 0)
})

test('a connection the endpoint retires (GOAWAY) carries its open streams to their end; calls after it open a new connection', async (t) => {
  const h = await build(t, { env: { MAX_STREAMS_PER_KEY: '20' }, emulator: { frameDelayMs: 20 } })
  const text = 'every word of this answer arrives, before and after the goaway'
  const retiring = (): Scenario => {
    const steps = textScenario(text, { chunkChars: 8 }).steps
    return { steps: [...steps.slice(0, 3), { goaway: true }, ...steps.slice(3)] }
  }
  h.emulator.enqueue(retiring(), textScenario(text), textScenario(text))
  const open = [0, 1, 2].map(async () => await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`))
  await eventually(() => h.emulator.requests.length === 3)
  const retired = h.emulator.requests[0]?.connection
  assert.ok(h.emulator.requests.every(r => r.connection === retired), 'the three share one connection')
  for (const res of await Promise.all(open)) {
    assert.equal(res.events.some(e => e.event === 'error'), false, JSON.stringify(res.events.find(e => e.event === 'error')?.data))
    assert.equal(joinText(res.events), text)
    assert.deepEqual(res.events.slice(-3).map(e => e.event), ['stop', 'usage', 'done'])
  }
  const next = await fetchSse(`${h.url}/v1/converse-stream?prompt=after`)
  assert.deepEqual(next.events.slice(-3).map(e => e.event), ['stop', 'usage', 'done'])
  assert.notEqual(h.emulator.requests.at(-1)?.connection, retired, 'a new connection')
})
