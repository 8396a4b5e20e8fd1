// Prompt caching, documents, latency and service tier, inference profiles, and the
// requestMetadata the proxy sets (issue 12): each option refused when the operator has not
// allowed it (Bedrock not called), bounded, and relayed when allowed.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { build, postSse } from './helper.js'
import { dataOf, errorIn, postJson, upstreamBody } from './support/converse.js'

const LONG_SYSTEM = 'You are a careful assistant. '.repeat(40)
const cached = { system: [{ text: LONG_SYSTEM }, { cachePoint: { type: 'default' } }], prompt: 'hello' }

test('prompt caching: cachePoint reaches Bedrock; the first call writes the cache, the next reads it, both in usage', async (t) => {
  const h = await build(t)
  const first = dataOf((await postSse(h.url, cached)).events, 'usage')
  const second = dataOf((await postSse(h.url, cached)).events, 'usage')
  assert.deepEqual(upstreamBody(h.emulator.requests).system, cached.system)
  assert.ok(Number(first?.['cacheWriteInputTokens']) > 100, JSON.stringify(first))
  assert.equal(first?.['cacheReadInputTokens'], 0)
  assert.equal(second?.['cacheReadInputTokens'], first?.['cacheWriteInputTokens'])
  assert.equal(second?.['cacheWriteInputTokens'], 0)
})

test('a cachePoint with nothing before it is Bedrock\'s ValidationException', async (t) => {
  const h = await build(t)
  const res = await postJson(`${h.url}/v1/converse`, { messages: [{ role: 'user', content: [{ cachePoint: { type: 'default' } }, { text: 'hi' }] }] })
  assert.equal(res.status, 400)
  assert.equal(errorIn(res.json).code, 'upstream_rejected')
  assert.match(errorIn(res.json).message, /messages\.0\.content\.0: a cachePoint block must follow/)
})

test('MAX_CACHE_POINTS: 0 refuses caching (option_not_allowed), more than the bound is input_too_large; Bedrock not called', async (t) => {
  const off = await build(t, { env: { MAX_CACHE_POINTS: '0' } })
  const refused = await postJson(`${off.url}/v1/converse-stream`, cached)
  assert.equal(errorIn(refused.json).code, 'option_not_allowed')
  assert.match(errorIn(refused.json).message, /cachePoint/)
  const one = await build(t, { env: { MAX_CACHE_POINTS: '1' } })
  const point = { cachePoint: { type: 'default' } }
  const tools = { tools: [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object' } } } }, point] }
  const many = await postJson(`${one.url}/v1/converse`, { ...cached, toolConfig: tools })
  assert.equal(errorIn(many.json).code, 'input_too_large')
  assert.match(errorIn(many.json).message, /At most 1 cachePoint blocks per request \(got 2\)/)
  assert.equal(off.emulator.requests.length + one.emulator.requests.length, 0)
})

const doc = (text: string, citations = true): Record<string, unknown> => ({
  document: { format: 'txt', name: 'Opening hours', source: { bytes: Buffer.from(text).toString('base64') }, citations: { enabled: citations } },
})
const HOURS = 'The shop opens at nine. It closes at six on weekdays and at noon on Saturdays.'

test('documents with citations: the document reaches Bedrock as bytes, the answer comes with citation events', async (t) => {
  const h = await build(t)
  const res = await postSse(h.url, { messages: [{ role: 'user', content: [doc(HOURS), { text: 'When does it open?' }] }] })
  assert.equal(res.status, 200)
  const sent = (upstreamBody(h.emulator.requests).messages as Array<{ content: Array<Record<string, { source: { bytes: string } }>> }>)[0]?.content[0]
  assert.equal(Buffer.from(sent?.['document']?.source.bytes ?? '', 'base64').toString(), HOURS)
  assert.deepEqual(dataOf(res.events, 'citation'), {
    index: 0, title: 'Opening hours', sourceContent: [{ text: 'The shop opens at nine.' }], location: { documentChar: { documentIndex: 0, start: 0, end: 23 } },
  })
})

test('POST /v1/converse returns a cited answer as Bedrock\'s citationsContent block', async (t) => {
  const h = await build(t)
  const res = await postJson(`${h.url}/v1/converse`, { messages: [{ role: 'user', content: [doc(HOURS), { text: 'When?' }] }] })
  assert.equal(res.status, 200)
  const block = (res.json['content'] as Array<Record<string, { content: unknown, citations: Array<Record<string, unknown>> }>>)[0]
  assert.deepEqual(block?.['citationsContent']?.content, [{ text: 'According to Opening hours: The shop opens at nine.' }])
  assert.equal(block?.['citationsContent']?.citations[0]?.['title'], 'Opening hours')
  assert.equal(res.json['text'], 'According to Opening hours: The shop opens at nine.', 'text joins the cited text too')
})

test('MAX_DOCUMENTS and MAX_DOCUMENT_BYTES: 0 refuses documents, more or larger ones are input_too_large; Bedrock not called', async (t) => {
  const off = await build(t, { env: { MAX_DOCUMENTS: '0' } })
  const refused = await postJson(`${off.url}/v1/converse-stream`, { messages: [{ role: 'user', content: [doc(HOURS), { text: '?' }] }] })
  assert.equal(errorIn(refused.json).code, 'option_not_allowed')
  const h = await build(t, { env: { MAX_DOCUMENTS: '1', MAX_DOCUMENT_BYTES: '50' } })
  const two = await postJson(`${h.url}/v1/converse-stream`, { messages: [{ role: 'user', content: [doc('a'), doc('b'), { text: '?' }] }] })
  assert.equal(errorIn(two.json).code, 'input_too_large')
  assert.match(errorIn(two.json).message, /At most 1 documents/)
  const big = await postJson(`${h.url}/v1/converse-stream`, { messages: [{ role: 'user', content: [doc(HOURS), { text: '?' }] }] })
  assert.equal(errorIn(big.json).code, 'input_too_large')
  assert.equal(errorIn(big.json).message, `messages/0/content/0/document is ${Buffer.byteLength(HOURS)} bytes; at most 50 per document.`)
  assert.equal(off.emulator.requests.length + h.emulator.requests.length, 0)
})

test('latency "optimized" and service tiers: refused by default, relayed (and echoed in usage) when allowed', async (t) => {
  const closed = await build(t)
  for (const body of [{ prompt: 'a', performanceConfig: { latency: 'optimized' } }, { prompt: 'a', serviceTier: { type: 'priority' } }]) {
    const res = await postJson(`${closed.url}/v1/converse-stream`, body)
    assert.equal(errorIn(res.json).code, 'option_not_allowed', JSON.stringify(body))
  }
  assert.equal(closed.emulator.requests.length, 0)
  const standard = await postSse(closed.url, { prompt: 'a', performanceConfig: { latency: 'standard' }, serviceTier: { type: 'default' } })
  assert.equal(standard.status, 200, 'the defaults are always allowed')

  const open = await build(t, { env: { ALLOW_LATENCY_OPTIMIZED: 'true', ALLOWED_SERVICE_TIERS: 'flex,priority' } })
  const res = await postSse(open.url, { prompt: 'a', performanceConfig: { latency: 'optimized' }, serviceTier: { type: 'flex' } })
  const sent = upstreamBody(open.emulator.requests)
  assert.deepEqual([sent.performanceConfig, sent.serviceTier], [{ latency: 'optimized' }, { type: 'flex' }])
  const usage = dataOf(res.events, 'usage')
  assert.deepEqual([usage?.['performanceConfig'], usage?.['serviceTier']], [{ latency: 'optimized' }, { type: 'flex' }])
  const json = await postJson(`${open.url}/v1/converse`, { prompt: 'a', serviceTier: { type: 'priority' } })
  assert.deepEqual(json.json['serviceTier'], { type: 'priority' })
  const reserved = await postJson(`${open.url}/v1/converse`, { prompt: 'a', serviceTier: { type: 'reserved' } })
  assert.equal(errorIn(reserved.json).code, 'option_not_allowed')
})

test('requestMetadata names the stream and the key, so AWS invocation logs join the proxy\'s; clients cannot set it', async (t) => {
  const h = await build(t)
  const res = await postSse(h.url, { prompt: 'a' })
  const start = dataOf(res.events, 'start')
  assert.deepEqual(upstreamBody(h.emulator.requests).requestMetadata, { proxyStreamId: start?.['streamId'], proxyKey: 'anonymous' })
  const spoof = await postJson(`${h.url}/v1/converse`, { prompt: 'a', requestMetadata: { proxyKey: 'someone' } })
  assert.equal(errorIn(spoof.json).code, 'bad_request')
})

test('cross-region inference profile ids and application inference profile ARNs work in model and BEDROCK_ALLOWED_MODELS', async (t) => {
  const arn = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6'
  const h = await build(t, { env: { BEDROCK_ALLOWED_MODELS: `global.anthropic.claude-sonnet-4-5-20250929-v1:0,${arn}` } })
  for (const model of ['global.anthropic.claude-sonnet-4-5-20250929-v1:0', arn]) {
    const res = await postSse(h.url, { prompt: 'a', model })
    assert.equal(dataOf(res.events, 'start')?.['model'], model)
  }
  assert.deepEqual(h.emulator.requests.map(r => r.modelId), ['global.anthropic.claude-sonnet-4-5-20250929-v1:0', arn])
})
