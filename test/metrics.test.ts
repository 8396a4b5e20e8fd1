// GET /metrics: values after real streams (completed, failed, timed out, cut by the
// client), refusals by code, heartbeats, SDK retries, bounded labels, and who may read it
// (METRICS_TOKEN, METRICS_PORT, off by default off loopback).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { textScenario, type Scenario } from '../src/emulator/index.js'
import { ConfigError, loadConfig, type Env } from '../src/config.js'
import { build, postSse, type SseEvent } from './helper.js'
import { parseExposition, scrape, valueOf } from './prometheus.js'
import { bearer, KEY_A } from './security-helper.js'
import { holdStream, rawRequest } from './support/net.js'
import { eventually } from './support/wait.js'

const MODEL = 'test.model-v1:0'
const METRICS_TOKEN = 'metrics-token-0123456789abcdef0123456789'

function dataOf (events: SseEvent[], name: string): Record<string, unknown> {
  const event = events.find(e => e.event === name)
  assert.ok(event !== undefined, `has a ${name} event`)
  return event.data as Record<string, unknown>
}

test('a completed stream: outcome, tokens (cache included), upstream call, histograms, heartbeats', async (t) => {
  const h = await build(t, { env: { HEARTBEAT_MS: '100' } })
  // A slow first token, so heartbeats are written before it.
  const scenario = textScenario('hello there', { usage: { inputTokens: 21, outputTokens: 4, cacheReadInputTokens: 5, cacheWriteInputTokens: 7 } })
  h.emulator.enqueue({ ...scenario, steps: [{ delayMs: 350 }, ...scenario.steps] })
  const res = await postSse(h.url, { prompt: 'hi' })
  assert.equal(res.events.at(-1)?.event, 'done')
  assert.ok(res.comments.length >= 2, 'heartbeats were sent')

  const m = await scrape(h.url)
  assert.equal(valueOf(m, 'bsp_streams_total', { outcome: 'completed', code: '' }), 1)
  assert.equal(valueOf(m, 'bsp_upstream_calls_total', { model: MODEL }), 1)
  assert.equal(valueOf(m, 'bsp_upstream_retries_total', { model: MODEL }), 0)
  assert.equal(valueOf(m, 'bsp_input_tokens_total', { model: MODEL }), 21)
  assert.equal(valueOf(m, 'bsp_output_tokens_total', { model: MODEL }), 4)
  assert.equal(valueOf(m, 'bsp_cache_read_input_tokens_total', { model: MODEL }), 5)
  assert.equal(valueOf(m, 'bsp_cache_write_input_tokens_total', { model: MODEL }), 7)
  assert.equal(valueOf(m, 'bsp_time_to_first_token_seconds_count', { model: MODEL }), 1)
  assert.equal(valueOf(m, 'bsp_stream_duration_seconds_count', { model: MODEL }), 1)
  assert.equal(valueOf(m, 'bsp_heartbeats_total'), res.comments.length)
  assert.equal(valueOf(m, 'bsp_open_streams'), 0)
  assert.ok(m.some(s => s.name === 'process_cpu_user_seconds_total'), 'default process metrics')
  assert.ok(m.some(s => s.name === 'nodejs_eventloop_lag_seconds'), 'event-loop lag')
  // No label carries the prompt, a stream id or an address.
  const streamId = String(dataOf(res.events, 'start')['streamId'])
  for (const s of m) {
    for (const value of Object.values(s.labels)) {
      assert.ok(!value.includes(streamId) && !value.includes('127.0.0.1') && value !== 'hi', `${s.name} label ${value}`)
    }
  }
})

test('ended streams held for replay: their count and bytes, and those forgotten past ENDED_STREAMS_MAX_BYTES', async (t) => {
  const h = await build(t, { env: { ENDED_STREAMS_MAX_BYTES: '1' } }) // room for none: each ended stream pushes out the one before
  for (const prompt of ['one', 'two', 'three']) assert.equal((await postSse(h.url, { prompt })).events.at(-1)?.event, 'done')
  const m = await scrape(h.url)
  assert.equal(valueOf(m, 'bsp_ended_streams'), 1, 'the latest is held (a bound never drops the stream that just ended unseen)')
  assert.ok((valueOf(m, 'bsp_ended_streams_bytes') ?? 0) > 0)
  assert.equal(valueOf(m, 'bsp_ended_streams_evicted_total'), 2)
})

test('SDK retries of a throttled call are counted', async (t) => {
  const h = await build(t)
  const throttle: Scenario = { httpError: { status: 429, type: 'ThrottlingException' }, steps: [] }
  h.emulator.enqueue(throttle, throttle, textScenario('third time lucky'))
  await postSse(h.url, { prompt: 'hi' })
  const m = await scrape(h.url)
  assert.equal(valueOf(m, 'bsp_upstream_calls_total', { model: MODEL }), 1)
  assert.equal(valueOf(m, 'bsp_upstream_retries_total', { model: MODEL }), 2)
  assert.equal(valueOf(m, 'bsp_streams_total', { outcome: 'completed', code: '' }), 1)
})

test('an upstream error and an upstream timeout are counted with their codes', async (t) => {
  const h = await build(t, { env: { UPSTREAM_FIRST_EVENT_TIMEOUT_MS: '200' } })
  const failed = await postSse(h.url, { prompt: '/error' })
  const code = String(dataOf(failed.events, 'error')['code'])
  h.emulator.enqueue({ steps: [{ hang: true }] }) // headers, then nothing: no first event
  const timedOut = await postSse(h.url, { prompt: 'hi' })
  assert.equal(dataOf(timedOut.events, 'error')['code'], 'upstream_timeout')

  const m = await scrape(h.url)
  assert.equal(valueOf(m, 'bsp_streams_total', { outcome: 'error', code }), 1)
  assert.equal(valueOf(m, 'bsp_streams_total', { outcome: 'error', code: 'upstream_timeout' }), 1)
  assert.equal(valueOf(m, 'bsp_streams_total', { outcome: 'completed', code: '' }), 0)
  assert.equal(valueOf(m, 'bsp_upstream_calls_total', { model: MODEL }), 2)
  assert.equal(valueOf(m, 'bsp_open_streams'), 0)
})

test('a client that cuts its connection: the stream is cancelled and the gauge goes back to 0', async (t) => {
  const h = await build(t, { env: { RESUME_GRACE_MS: '0' } })
  const held = await holdStream(h.url, `/v1/converse-stream?prompt=${encodeURIComponent('/hang')}`)
  await h.emulator.waitForRequests(1)
  assert.equal(valueOf(await scrape(h.url), 'bsp_open_streams'), 1)
  held.cut()
  await eventually(async () => valueOf(await scrape(h.url), 'bsp_streams_total', { outcome: 'cancelled', code: 'cancelled' }) === 1)
  const m = await scrape(h.url)
  assert.equal(valueOf(m, 'bsp_open_streams'), 0)
  assert.equal(await h.emulator.waitForOutcome(1), 'aborted')
})

test('a /v1/converse call is counted apart from streams, its tokens with the rest', async (t) => {
  const h = await build(t)
  const res = await fetch(`${h.url}/v1/converse`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'hi' }) })
  const { usage } = await res.json() as { usage: { inputTokens: number, outputTokens: number } }
  const m = await scrape(h.url)
  assert.equal(valueOf(m, 'bsp_converse_calls_total', { outcome: 'completed', code: '' }), 1)
  assert.equal(valueOf(m, 'bsp_streams_total', { outcome: 'completed', code: '' }), 0)
  assert.equal(valueOf(m, 'bsp_stream_duration_seconds_count', { model: MODEL }), 0)
  assert.equal(valueOf(m, 'bsp_upstream_calls_total', { model: MODEL }), 1)
  assert.equal(valueOf(m, 'bsp_input_tokens_total', { model: MODEL }), usage.inputTokens)
  assert.equal(valueOf(m, 'bsp_output_tokens_total', { model: MODEL }), usage.outputTokens)
})

test('OpenAI chat completions count as what they are: a stream with stream: true, a non-streaming call without', async (t) => {
  const h = await build(t)
  const chat = async (stream: boolean): Promise<void> => {
    const res = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, stream, messages: [{ role: 'user', content: 'hi' }] }) })
    assert.equal(res.status, 200)
    await res.text()
  }
  await chat(false)
  await chat(true)
  const m = await scrape(h.url)
  assert.equal(valueOf(m, 'bsp_converse_calls_total', { outcome: 'completed', code: '' }), 1)
  assert.equal(valueOf(m, 'bsp_streams_total', { outcome: 'completed', code: '' }), 1)
  assert.equal(valueOf(m, 'bsp_upstream_calls_total', { model: MODEL }), 2)
})

test('refusals before a stream are counted by error code', async (t) => {
  const h = await build(t)
  const post = async (body: unknown): Promise<number> => (await fetch(`${h.url}/v1/converse-stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).status
  assert.equal(await post({ prompt: 'hi', model: 'not.allowed-v1:0' }), 400)
  assert.equal(await post({ prompt: 'hi', unknown: 1 }), 400)
  assert.equal(await post({ prompt: 'hi', unknown: 2 }), 400)
  assert.equal((await fetch(`${h.url}/nowhere`)).status, 404)
  const m = await scrape(h.url)
  assert.equal(valueOf(m, 'bsp_refusals_total', { code: 'model_not_allowed' }), 1)
  assert.equal(valueOf(m, 'bsp_refusals_total', { code: 'bad_request' }), 2)
  assert.equal(valueOf(m, 'bsp_refusals_total', { code: 'not_found' }), 1)
  assert.equal(h.emulator.requests.length, 0)
})

test('with API keys: off unless configured; with METRICS_TOKEN, 401 without or with a wrong token, key names as labels', async (t) => {
  const off = await build(t, { env: { API_KEYS: KEY_A } })
  assert.equal((await rawRequest(`${off.url}/metrics`)).json.error.code, 'not_found')

  const h = await build(t, { env: { API_KEYS: KEY_A, METRICS_TOKEN, RATE_LIMIT_MAX: '1' } })
  h.secrets.add(METRICS_TOKEN)
  const none = await rawRequest(`${h.url}/metrics`)
  assert.equal(none.status, 401)
  assert.equal(none.json.error.code, 'unauthorized')
  assert.equal((await rawRequest(`${h.url}/metrics`, { headers: bearer(`${METRICS_TOKEN}x`) })).status, 401)
  assert.equal((await rawRequest(`${h.url}/metrics`, { headers: bearer(KEY_A) })).status, 401, 'an API key is not the metrics token')

  await postSse(h.url, { prompt: 'hi' }, { headers: { ...bearer(KEY_A), 'content-type': 'application/json' } })
  // RATE_LIMIT_MAX=1 was spent by that stream: scrapes never count against it.
  for (let i = 0; i < 3; i++) await scrape(h.url, bearer(METRICS_TOKEN))
  const m = await scrape(h.url, bearer(METRICS_TOKEN))
  const input = m.filter(s => s.name === 'bsp_input_tokens_total')
  assert.equal(input.length, 1)
  assert.match(input[0]?.labels['key'] ?? '', /^key-[0-9a-f]{8}$/, 'the key name, never the key')
  assert.equal(valueOf(m, 'bsp_refusals_total', { code: 'unauthorized' }), 3, 'the three refused scrapes')
  const text = await (await fetch(`${h.url}/metrics`, { headers: bearer(METRICS_TOKEN) })).text()
  assert.ok(!text.includes(KEY_A))
})

test('METRICS_PORT: served on its own listener, 404 on the main port; the token applies there', async (t) => {
  const h = await build(t, { env: { METRICS_PORT: '0', METRICS_TOKEN } })
  h.secrets.add(METRICS_TOKEN)
  const metricsUrl = h.app.bedrockSse.metricsUrl
  assert.ok(metricsUrl !== undefined)
  assert.notEqual(metricsUrl, h.url)
  const main = await rawRequest(`${h.url}/metrics`, { headers: bearer(METRICS_TOKEN) })
  assert.equal(main.status, 404)
  assert.equal(main.json.error.code, 'not_found')
  assert.equal((await rawRequest(`${metricsUrl}/metrics`)).status, 401)
  assert.equal((await rawRequest(`${metricsUrl}/metrics`, { headers: bearer('wrong') })).status, 401)
  assert.equal((await rawRequest(`${metricsUrl}/other`, { headers: bearer(METRICS_TOKEN) })).status, 404)
  await postSse(h.url, { prompt: 'hi' })
  const m = await scrape(metricsUrl, bearer(METRICS_TOKEN))
  assert.equal(valueOf(m, 'bsp_streams_total', { outcome: 'completed', code: '' }), 1)
})

test('a soak of connect/disconnect cycles ends with no open stream and no handle growth', async (t) => {
  const h = await build(t, { env: { RESUME_GRACE_MS: '0', RATE_LIMIT_MAX: '0', MAX_STREAMS_PER_KEY: '1000' } })
  const path = `/v1/converse-stream?prompt=${encodeURIComponent('/hang')}`
  const cycle = async (): Promise<void> => { (await holdStream(h.url, path)).cut() }
  const settle = async (expectedCancelled: number): Promise<void> => {
    await eventually(async () => {
      const m = await scrape(h.url)
      return valueOf(m, 'bsp_open_streams') === 0 && valueOf(m, 'bsp_streams_total', { outcome: 'cancelled', code: 'cancelled' }) === expectedCancelled
    }, 15_000)
  }
  for (let i = 0; i < 10; i++) await cycle() // warm-up: connection pools, lazy modules
  await settle(10)
  const before = process.getActiveResourcesInfo().length
  const CYCLES = 300
  const PARALLEL = 10
  for (let i = 0; i < CYCLES; i += PARALLEL) await Promise.all(Array.from({ length: PARALLEL }, cycle))
  await settle(10 + CYCLES)
  const m = await scrape(h.url)
  assert.equal(valueOf(m, 'bsp_upstream_calls_total', { model: MODEL }), 10 + CYCLES)
  await eventually(async () => process.getActiveResourcesInfo().length <= before + 5, 10_000)
})

test('config: metrics on in loopback mode only; unsafe combinations refused', () => {
  const base: Env = { AWS_REGION: 'us-east-1' }
  assert.equal(loadConfig(base).metrics.enabled, true, 'loopback, no keys')
  assert.equal(loadConfig({ ...base, API_KEYS: KEY_A }).metrics.enabled, false)
  assert.equal(loadConfig({ ...base, HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED: 'true' }).metrics.enabled, false)
  assert.deepEqual(loadConfig({ ...base, HOST: '0.0.0.0', API_KEYS: KEY_A, METRICS_PORT: '9464', METRICS_HOST: '10.0.0.5' }).metrics,
    { enabled: true, port: 9464, host: '10.0.0.5', token: undefined })
  const problems = (env: Env): readonly string[] => {
    try { loadConfig({ ...base, ...env }) } catch (err) { if (err instanceof ConfigError) return err.problems }
    return []
  }
  assert.equal(problems({ METRICS_TOKEN: 'short' }).length, 1)
  assert.equal(problems({ METRICS_HOST: '127.0.0.1' }).length, 1)
  assert.equal(problems({ METRICS_PORT: '3000' }).length, 1)
  assert.match(problems({ HOST: '0.0.0.0', API_KEYS: KEY_A, METRICS_PORT: '9464' }).join(), /METRICS_TOKEN/)
  assert.deepEqual(problems({ HOST: '0.0.0.0', API_KEYS: KEY_A, METRICS_PORT: '9464', METRICS_TOKEN }), [])
})

test('the exposition parser reads escapes and rejects garbage', () => {
  const [s] = parseExposition('# HELP x y\nx_total{a="q\\"uo\\\\te",b="n\\nl"} 3\n')
  assert.deepEqual(s, { name: 'x_total', labels: { a: 'q"uo\\te', b: 'n\nl' }, value: 3 })
  assert.throws(() => parseExposition('x{a=1} 2'))
})
