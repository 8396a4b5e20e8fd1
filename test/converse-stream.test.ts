// The native SSE surface end to end: real SDK over HTTP/2 to the emulator, real sockets.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { messageScenario, textScenario } from '../src/emulator/index.js'
import { build, eventNames, fetchSse, joinText, lastEvent, postSse } from './helper.js'

test('every event kind arrives in order, with unique ordered ids that carry the stream id', async (t) => {
  const h = await build(t)
  h.emulator.enqueue(messageScenario([
    { reasoning: { text: 'Let me think about this.', signature: 'sig-abc' } },
    { redactedReasoning: Buffer.from([0, 1, 2, 250, 255]) },
    { text: 'The answer is 42.' },
    { toolUse: { toolUseId: 'tool-1', name: 'lookup', input: '{"q":"forty two"}' } },
  ], { usage: { inputTokens: 30, outputTokens: 20, cacheReadInputTokens: 5, cacheWriteInputTokens: 7 }, latencyMs: 321 }))

  const res = await postSse(h.url, { prompt: 'what is the answer?' })
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/)
  assert.equal(res.headers.get('cache-control'), 'no-cache, no-transform')
  assert.equal(res.headers.get('x-accel-buffering'), 'no')
  assert.equal(res.headers.get('content-encoding'), null)

  const names = eventNames(res.events)
  assert.equal(names[0], 'start')
  assert.deepEqual(names.slice(-4), ['block_stop', 'stop', 'usage', 'done'])
  const start = res.events[0]?.data as { streamId: string, model: string }
  assert.equal(start.model, 'test.model-v1:0')

  const ids = res.events.map(e => e.id ?? '')
  assert.equal(new Set(ids).size, ids.length, 'ids are unique')
  assert.ok(ids.every(id => id.includes(start.streamId)), 'ids carry the stream id')
  const seqs = ids.map(id => Number(id.split('-').pop()))
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'ids are ordered')

  const reasoning = res.events.filter(e => e.event === 'reasoning').map(e => e.data)
  assert.equal(reasoning.filter(r => 'text' in (r as object)).map(r => (r as { text: string }).text).join(''), 'Let me think about this.')
  assert.deepEqual(reasoning.find(r => 'signature' in (r as object)), { index: 0, signature: 'sig-abc' })
  assert.deepEqual(reasoning.find(r => 'redacted' in (r as object)), { index: 1, redacted: Buffer.from([0, 1, 2, 250, 255]).toString('base64') })

  assert.equal(joinText(res.events), 'The answer is 42.')
  assert.ok(res.events.filter(e => e.event === 'text').every(e => (e.data as { index: number }).index === 2))
  assert.deepEqual(res.events.find(e => e.event === 'tool_use')?.data, { index: 3, toolUseId: 'tool-1', name: 'lookup' })
  const toolInput = res.events.filter(e => e.event === 'tool_input').map(e => (e.data as { input: string }).input).join('')
  assert.deepEqual(JSON.parse(toolInput), { q: 'forty two' })
  assert.deepEqual(res.events.filter(e => e.event === 'block_stop').map(e => e.data), [{ index: 0 }, { index: 1 }, { index: 2 }, { index: 3 }])
  assert.deepEqual(res.events.find(e => e.event === 'stop')?.data, { stopReason: 'tool_use' })
  assert.deepEqual(res.events.find(e => e.event === 'usage')?.data, {
    inputTokens: 30, outputTokens: 20, totalTokens: 50, cacheReadInputTokens: 5, cacheWriteInputTokens: 7, latencyMs: 321,
  })
  assert.deepEqual(lastEvent(res.events)?.data, {})
  assert.equal(h.emulator.requests.length, 1)
  assert.equal(h.emulator.requests[0]?.protocol, 'h2', 'BEDROCK_HTTP=http2-shared by default')
})

test('by default, concurrent streams share one upstream HTTP/2 connection, and the next stream reuses it', async (t) => {
  const h = await build(t, { env: { MAX_STREAMS_PER_KEY: '10' }, emulator: { frameDelayMs: 20 } })
  const side = await Promise.all(Array.from({ length: 5 }, async () => await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`)))
  for (const res of side) assert.equal(lastEvent(res.events)?.event, 'done')
  assert.equal(lastEvent((await fetchSse(`${h.url}/v1/converse-stream?prompt=again`)).events)?.event, 'done')
  assert.deepEqual(h.emulator.requests.map(r => r.protocol), Array(6).fill('h2'))
  assert.equal(new Set(h.emulator.requests.map(r => r.connection)).size, 1, 'six streams, one connection')
})

test('BEDROCK_HTTP: http1 reuses one warm upstream connection across streams; http2 opens one per stream (the SDK default)', async (t) => {
  for (const [mode, protocol, connections] of [['http1', 'http/1.1', 1], ['http2', 'h2', 3]] as const) {
    const h = await build(t, { env: { BEDROCK_HTTP: mode } })
    for (let i = 0; i < 3; i++) assert.equal(lastEvent((await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`)).events)?.event, 'done')
    assert.deepEqual(h.emulator.requests.map(r => r.protocol), [protocol, protocol, protocol])
    assert.equal(new Set(h.emulator.requests.map(r => r.connection)).size, connections, mode)
  }
})

const TRICKY = [
  'plain ',
  '\n\ndata: x\n\n',
  'lone\rcarriage ',
  'crlf\r\nline ',
  'event: admin\rid: 999\r',
  'sep\u2028para\u2029 ',
  'nul\u0000byte ',
  'emoji 👩‍👩‍👧 🚀 ',
  'é combining e\u0301 ',
  ': not a comment\n',
].join('')

test('tricky text is byte-identical after reassembly, on GET and on POST', async (t) => {
  const h = await build(t)
  // Small chunks so separators and surrogate pairs straddle delta boundaries.
  h.emulator.enqueue(textScenario(TRICKY, { chunkChars: 3 }), textScenario(TRICKY, { chunkChars: 1 }))

  const post = await postSse(h.url, { prompt: 'tricky' })
  assert.deepEqual(eventNames(post.events).filter(n => n !== 'text'), ['start', 'block_stop', 'stop', 'usage', 'done'])
  assert.equal(joinText(post.events), TRICKY)

  const get = await fetchSse(`${h.url}/v1/converse-stream?prompt=${encodeURIComponent('tricky\r\ntoo')}`)
  assert.equal(joinText(get.events), TRICKY)
  assert.equal(get.events.filter(e => e.event === 'admin').length, 0, 'no forged event')
  assert.equal(h.emulator.requests.length, 2)
  // The prompt itself reached Bedrock intact.
  const body = h.emulator.requests[1]?.body as { messages: Array<{ content: Array<{ text: string }> }> }
  assert.equal(body.messages[0]?.content[0]?.text, 'tricky\r\ntoo')
})

test("curl's default Accept: */* gets the stream", async (t) => {
  const h = await build(t)
  h.emulator.enqueue(textScenario('hello curl'))
  const res = await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`, { headers: { accept: '*/*', 'user-agent': 'curl/8.5.0' } })
  assert.equal(res.status, 200)
  assert.equal(joinText(res.events), 'hello curl')
  assert.equal(lastEvent(res.events)?.event, 'done')
})

test('GET query parameters become the Converse input; maxTokens above the cap is clamped', async (t) => {
  const h = await build(t, { env: { MAX_OUTPUT_TOKENS: '500' } })
  h.emulator.enqueue(textScenario('ok'), textScenario('ok'))
  const q = new URLSearchParams({ prompt: 'hi', system: 'be brief', maxTokens: '100000', temperature: '0.2', topP: '0.9' })
  const res = await fetchSse(`${h.url}/v1/converse-stream?${q}`)
  assert.equal(res.status, 200)
  const body = h.emulator.requests[0]?.body as Record<string, unknown>
  assert.deepEqual(body.system, [{ text: 'be brief' }])
  assert.deepEqual(body.inferenceConfig, { maxTokens: 500, temperature: 0.2, topP: 0.9 })

  await postSse(h.url, { prompt: 'no max' })
  assert.deepEqual((h.emulator.requests[1]?.body as Record<string, unknown>).inferenceConfig, { maxTokens: 500 }, 'unset means the cap, never the model maximum')
})

test('a conversation with messages and an image block reaches Bedrock in its own shape', async (t) => {
  const h = await build(t)
  h.emulator.enqueue(textScenario('a red dot'))
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex').toString('base64')
  const res = await postSse(h.url, {
    messages: [
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi! Send me a picture.' },
      { role: 'user', content: [{ text: 'What is this?' }, { image: { format: 'png', source: { bytes: png } } }] },
    ],
    stopSequences: ['END'],
  })
  assert.equal(joinText(res.events), 'a red dot')
  const body = h.emulator.requests[0]?.body as { messages: unknown[], inferenceConfig: unknown }
  assert.deepEqual(body.messages, [
    { role: 'user', content: [{ text: 'Hello' }] },
    { role: 'assistant', content: [{ text: 'Hi! Send me a picture.' }] },
    { role: 'user', content: [{ text: 'What is this?' }, { image: { format: 'png', source: { bytes: png } } }] },
  ])
  assert.deepEqual(body.inferenceConfig, { maxTokens: 2048, stopSequences: ['END'] })
})

test('an EventSource reconnect (Last-Event-ID) gets 204 and never re-runs the prompt', async (t) => {
  const h = await build(t)
  const res = await fetch(`${h.url}/v1/converse-stream?prompt=again`, { headers: { 'last-event-id': 'abcdef0123456789abcdef01-9' } })
  assert.equal(res.status, 204)
  assert.equal(h.emulator.requests.length, 0)
})

test('HEAD on the stream route does not call Bedrock', async (t) => {
  const h = await build(t)
  const res = await fetch(`${h.url}/v1/converse-stream?prompt=hi`, { method: 'HEAD' })
  assert.equal(res.status, 404)
  assert.equal(h.emulator.requests.length, 0)
})

test('a stream log line records outcome, timings and tokens, and never the prompt or answer', async (t) => {
  const h = await build(t)
  h.emulator.enqueue(textScenario('secret answer text', { usage: { inputTokens: 11, outputTokens: 4 } }))
  await fetchSse(`${h.url}/v1/converse-stream?prompt=${encodeURIComponent('secret prompt text')}`)
  await new Promise(resolve => setImmediate(resolve))
  const lines = h.logs.filter(l => l.msg === 'stream finished')
  assert.equal(lines.length, 1, 'one line per stream')
  const stream = lines[0]?.stream as Record<string, unknown>
  assert.equal(stream.outcome, 'completed')
  assert.equal(stream.model, 'test.model-v1:0')
  assert.equal(stream.stopReason, 'end_turn')
  assert.equal(stream.inputTokens, 11)
  assert.equal(stream.outputTokens, 4)
  assert.equal(typeof stream.timeToFirstTokenMs, 'number')
  assert.equal(typeof stream.durationMs, 'number')
  const all = JSON.stringify(h.logs)
  assert.ok(!all.includes('secret prompt'), 'prompt not logged (URL query stripped)')
  assert.ok(!all.includes('secret answer'), 'answer not logged')
  assert.ok(!all.includes('test-secret-never-logged'), 'no AWS secret')
})
