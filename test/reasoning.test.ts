// Extended thinking (issue 12): `reasoning` maps to Anthropic's `thinking` with a budget
// the operator bounds; reasoning blocks (text and signature) come back as events and go
// back to Bedrock unchanged, which it requires when thinking and tools are combined (the
// emulator verifies the signature, as Anthropic does).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError, loadConfig } from '../src/config.js'
import { messageScenario, verifySignature } from '../src/emulator/index.js'
import { build, postSse } from './helper.js'
import { assistantContentOf, dataOf, errorIn, postJson, upstreamBody } from './support/converse.js'

const toolConfig = {
  tools: [{ toolSpec: { name: 'get_time', inputSchema: { json: { type: 'object', properties: { timezone: { type: 'string' } }, required: ['timezone'] } } } }],
}

test('reasoning is relayed: thinking text and its signature as reasoning events, before the answer', async (t) => {
  const h = await build(t, { env: { MAX_OUTPUT_TOKENS: '4096' } })
  const res = await postSse(h.url, { prompt: 'think first', reasoning: { budgetTokens: 2000 } })
  assert.equal(res.status, 200)
  assert.deepEqual(upstreamBody(h.emulator.requests).additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 2000 } })
  const reasoning = res.events.filter(e => e.event === 'reasoning').map(e => e.data as Record<string, string>)
  const text = reasoning.filter(r => 'text' in r).map(r => r['text']).join('')
  const signature = reasoning.find(r => 'signature' in r)?.['signature']
  assert.ok(text.length > 0)
  assert.ok(verifySignature(text, signature), 'the signature arrives intact, for the text it signs')
  assert.ok(res.events.findIndex(e => e.event === 'reasoning') < res.events.findIndex(e => e.event === 'text'))
})

test('the thinking budget is clamped to REASONING_MAX_BUDGET_TOKENS (also when unset) and kept below maxTokens', async (t) => {
  const h = await build(t, { env: { REASONING_MAX_BUDGET_TOKENS: '3000', MAX_OUTPUT_TOKENS: '8000' } })
  for (const [body, budget] of [
    [{ prompt: 'a', reasoning: { budgetTokens: 100_000 } }, 3000],
    [{ prompt: 'a', reasoning: {} }, 3000],
    [{ prompt: 'a', reasoning: { budgetTokens: 2500 }, maxTokens: 2000 }, 1999],
  ] as const) {
    assert.equal((await postSse(h.url, body)).status, 200)
    const sent = upstreamBody(h.emulator.requests, h.emulator.requests.length - 1)
    assert.deepEqual(sent.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: budget } }, JSON.stringify(body))
  }
  const small = await postJson(`${h.url}/v1/converse-stream`, { prompt: 'a', reasoning: {}, maxTokens: 1000 })
  assert.equal(small.status, 400)
  assert.equal(errorIn(small.json).code, 'bad_request')
  assert.match(errorIn(small.json).message, /raise maxTokens above 1024/)
  assert.equal(h.emulator.requests.length, 3)
})

test('REASONING_MAX_BUDGET_TOKENS=0 refuses reasoning (option_not_allowed), and raw thinking stays refused unless allowed; Bedrock not called', async (t) => {
  const h = await build(t, { env: { REASONING_MAX_BUDGET_TOKENS: '0' } })
  const res = await postJson(`${h.url}/v1/converse`, { prompt: 'a', reasoning: { budgetTokens: 2000 } })
  assert.equal(res.status, 400)
  assert.equal(errorIn(res.json).code, 'option_not_allowed')
  assert.match(errorIn(res.json).message, /reasoning/)
  const raw = await postJson(`${h.url}/v1/converse-stream`, { prompt: 'a', additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 50_000 } } })
  assert.equal(errorIn(raw.json).code, 'option_not_allowed')
  assert.match(errorIn(raw.json).message, /additionalModelRequestFields\.thinking/)
  assert.equal(h.emulator.requests.length, 0)
})

test('ALLOWED_MODEL_REQUEST_FIELDS passes the keys it names as sent, and only those', async (t) => {
  const h = await build(t, { env: { ALLOWED_MODEL_REQUEST_FIELDS: 'top_k' } })
  assert.equal((await postSse(h.url, { prompt: 'a', additionalModelRequestFields: { top_k: 5 } })).status, 200)
  assert.deepEqual(upstreamBody(h.emulator.requests).additionalModelRequestFields, { top_k: 5 })
  const other = await postJson(`${h.url}/v1/converse-stream`, { prompt: 'a', additionalModelRequestFields: { top_k: 5, anthropic_beta: ['x'] } })
  assert.equal(errorIn(other.json).code, 'option_not_allowed')
  assert.equal(h.emulator.requests.length, 1)
})

test('thinking and tools across two requests: the reasoning block goes back first, signature intact; dropped or altered, Bedrock refuses', async (t) => {
  const h = await build(t, { env: { MAX_OUTPUT_TOKENS: '4096' } })
  const question = { role: 'user', content: 'What time is it in UTC? use get_time' }
  const first = await postSse(h.url, { messages: [question], toolConfig, reasoning: { budgetTokens: 1024 } })
  assert.deepEqual(dataOf(first.events, 'stop'), { stopReason: 'tool_use' })
  const content = assistantContentOf(first.events)
  assert.deepEqual(content.map(b => Object.keys(b)[0]), ['reasoningContent', 'text', 'toolUse'])
  const toolUseId = (content[2]?.['toolUse'] as { toolUseId: string }).toolUseId
  const result = { role: 'user', content: [{ toolResult: { toolUseId, content: [{ text: '12:00 UTC' }] } }] }
  const next = (assistant: unknown[]): unknown => ({ messages: [question, { role: 'assistant', content: assistant }, result], toolConfig, reasoning: { budgetTokens: 1024 } })

  const second = await postSse(h.url, next(content))
  assert.equal(second.status, 200)
  assert.deepEqual(dataOf(second.events, 'stop'), { stopReason: 'end_turn' })
  assert.deepEqual((upstreamBody(h.emulator.requests, 1).messages as Array<{ content: unknown[] }>)[1]?.content[0], content[0], 'sent back unchanged')

  // A stream has committed to 200 before Bedrock answers: its refusal is an `error` event.
  const dropped = dataOf((await postSse(h.url, next(content.slice(1)))).events, 'error')
  assert.equal(dropped?.['code'], 'upstream_rejected')
  assert.match(String(dropped?.['message']), /must start with a thinking block/)
  const reasoning = content[0]?.['reasoningContent'] as { reasoningText: { text: string, signature: string } }
  const altered = { reasoningContent: { reasoningText: { ...reasoning.reasoningText, text: reasoning.reasoningText.text + ' (edited)' } } }
  const tampered = await postJson(`${h.url}/v1/converse`, next([altered, ...content.slice(1)]))
  assert.equal(tampered.status, 400)
  assert.equal(errorIn(tampered.json).code, 'upstream_rejected')
  assert.match(errorIn(tampered.json).message, /Invalid `signature`/)
})

test('POST /v1/converse returns the reasoning block with its signature, in Bedrock\'s shape', async (t) => {
  const h = await build(t, { env: { MAX_OUTPUT_TOKENS: '4096' } })
  const res = await postJson(`${h.url}/v1/converse`, { prompt: 'think', reasoning: { budgetTokens: 1024 } })
  assert.equal(res.status, 200)
  const block = (res.json['content'] as Array<Record<string, unknown>>)[0] as { reasoningContent: { reasoningText: { text: string, signature: string } } }
  assert.ok(verifySignature(block.reasoningContent.reasoningText.text, block.reasoningContent.reasoningText.signature))
})

test('a redacted reasoning block goes back to Bedrock as the same bytes the `redacted` event gave', async (t) => {
  const h = await build(t)
  const bytes = Buffer.from([0, 1, 2, 250, 255])
  h.emulator.enqueue(messageScenario([{ redactedReasoning: bytes }, { text: 'ok' }]))
  const first = await postSse(h.url, { prompt: 'a' })
  const content = assistantContentOf(first.events)
  assert.deepEqual(content[0], { reasoningContent: { redactedContent: bytes.toString('base64') } })
  await postSse(h.url, { messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content }, { role: 'user', content: 'b' }] })
  const sent = (upstreamBody(h.emulator.requests, 1).messages as Array<{ content: Array<{ reasoningContent?: { redactedContent: string } }> }>)[1]
  assert.equal(sent?.content[0]?.reasoningContent?.redactedContent, bytes.toString('base64'), 'the wire carries it base64, as Bedrock sent it')
})

test('REASONING_MAX_BUDGET_TOKENS is 0 or at least 1024, checked at start-up', () => {
  assert.throws(() => loadConfig({ AWS_REGION: 'us-east-1', REASONING_MAX_BUDGET_TOKENS: '500' }), (err: unknown) => {
    assert.ok(err instanceof ConfigError)
    assert.deepEqual(err.problems, ['REASONING_MAX_BUDGET_TOKENS must be 0 (off) or at least 1024, the smallest thinking budget Bedrock accepts (got 500)'])
    return true
  })
  assert.equal(loadConfig({ AWS_REGION: 'us-east-1', REASONING_MAX_BUDGET_TOKENS: '0' }).features.reasoningMaxBudgetTokens, 0)
})
