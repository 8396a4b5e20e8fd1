// The public request -> Bedrock's Converse input: the model allowlist, the output cap
// (clamped, never passed through), messages and image blocks in Bedrock's own shape.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveModel, toConverseInput, type ModelPolicy } from '../../src/bedrock/converse-input.js'
import { loadConfig } from '../../src/config.js'
import { ProxyError } from '../../src/errors.js'

const POLICY: ModelPolicy = { defaultModelId: 'default.model', allowedModels: new Set(['default.model', 'other.model']), maxOutputTokens: 1000, features: loadConfig({}).features }

function refusal (fn: () => unknown): ProxyError {
  try { fn() } catch (err) { if (err instanceof ProxyError) return err; throw err }
  assert.fail('expected a ProxyError')
}

test('a prompt becomes one user message; the default model and the output cap apply', () => {
  assert.deepEqual(toConverseInput({ prompt: 'hi' }, POLICY), {
    modelId: 'default.model',
    messages: [{ role: 'user', content: [{ text: 'hi' }] }],
    inferenceConfig: { maxTokens: 1000 },
  })
})

test('maxTokens is clamped to the cap, never passed through above it', () => {
  assert.equal(toConverseInput({ prompt: 'hi', maxTokens: 50 }, POLICY).inferenceConfig?.maxTokens, 50)
  assert.equal(toConverseInput({ prompt: 'hi', maxTokens: 1_000_000 }, POLICY).inferenceConfig?.maxTokens, 1000)
})

test('system, temperature, topP and stop sequences are passed when given, absent otherwise', () => {
  const input = toConverseInput({ prompt: 'hi', system: 'be brief', temperature: 0, topP: 0.5, stopSequences: ['END'], model: 'other.model' }, POLICY)
  assert.equal(input.modelId, 'other.model')
  assert.deepEqual(input.system, [{ text: 'be brief' }])
  assert.deepEqual(input.inferenceConfig, { maxTokens: 1000, temperature: 0, topP: 0.5, stopSequences: ['END'] })
  assert.equal('system' in toConverseInput({ prompt: 'hi' }, POLICY), false)
})

test('messages: string content becomes a text block; images decode from base64 to bytes', () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47])
  const input = toConverseInput({
    messages: [
      { role: 'user', content: 'look' },
      { role: 'assistant', content: [{ text: 'ok' }] },
      { role: 'user', content: [{ text: 'this:' }, { image: { format: 'png', source: { bytes: png.toString('base64') } } }] },
    ],
  }, POLICY)
  assert.deepEqual(input.messages, [
    { role: 'user', content: [{ text: 'look' }] },
    { role: 'assistant', content: [{ text: 'ok' }] },
    { role: 'user', content: [{ text: 'this:' }, { image: { format: 'png', source: { bytes: png } } }] },
  ])
})

test('exactly one of prompt or messages', () => {
  for (const req of [{}, { prompt: 'a', messages: [] }]) {
    const err = refusal(() => toConverseInput(req, POLICY))
    assert.equal(err.code, 'bad_request')
    assert.equal(err.message, 'Send exactly one of "prompt" or "messages".')
  }
})

test('a model outside the allowlist is refused before Bedrock, its name cut to 200 characters', () => {
  const err = refusal(() => resolveModel('evil.model', POLICY))
  assert.equal(err.code, 'model_not_allowed')
  assert.equal(err.message, 'Model "evil.model" is not allowed on this server.')
  assert.equal(refusal(() => resolveModel('m'.repeat(500), POLICY)).message, `Model "${'m'.repeat(200)}" is not allowed on this server.`)
  assert.equal(resolveModel(undefined, POLICY), 'default.model')
})

// The image format is the schema's (src/requests.ts; test/bad-input.test.ts): here, the bytes.
test('image bytes that are not base64 are refused with their path', () => {
  const image = (format: 'png' | 'webp', bytes: string): Parameters<typeof toConverseInput>[0] => ({ messages: [{ role: 'user', content: [{ text: 'a' }, { image: { format, source: { bytes } } }] }] })
  for (const bytes of ['', 'AAA', 'AA=A', 'not base64!', 'AAAA====']) {
    const err = refusal(() => toConverseInput(image('png', bytes), POLICY))
    assert.equal(err.code, 'bad_request', JSON.stringify(bytes))
    assert.equal(err.message, 'messages/0/content/1/image/source/bytes must be base64.')
  }
  for (const bytes of ['AAAA', 'AA==', 'AAA=', '+/+/']) assert.doesNotThrow(() => toConverseInput(image('webp', bytes), POLICY), bytes)
})

// Issue 12: the blocks and options beyond a plain conversation, in Bedrock's shapes.
const OPEN: ModelPolicy = {
  ...POLICY,
  features: { ...POLICY.features, allowedModelRequestFields: new Set(['top_k', 'thinking']), allowLatencyOptimized: true, allowedServiceTiers: new Set(['flex']) },
}

test('tool use and results, reasoning, documents and cache points map to Bedrock\'s blocks, bytes decoded', () => {
  const pdf = Buffer.from('%PDF-1.7')
  const input = toConverseInput({
    system: [{ text: 'rules' }, { cachePoint: { type: 'default' } }],
    messages: [
      { role: 'user', content: [{ document: { format: 'pdf', name: 'Spec', source: { bytes: pdf.toString('base64') }, citations: { enabled: true } } }, { text: 'read it' }] },
      {
        role: 'assistant',
        content: [
          { reasoningContent: { reasoningText: { text: 'hmm', signature: 'sig' } } },
          { reasoningContent: { redactedContent: 'AAEC' } },
          { toolUse: { toolUseId: 't1', name: 'f', input: { a: 1 } } },
        ],
      },
      { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ json: { ok: true } }, { text: 'done' }], status: 'success' } }] },
    ],
    toolConfig: { tools: [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object' } } } }, { cachePoint: { type: 'default' } }], toolChoice: { tool: { name: 'f' } } },
  }, POLICY)
  assert.deepEqual(input.system, [{ text: 'rules' }, { cachePoint: { type: 'default' } }])
  assert.deepEqual(input.messages?.[0]?.content?.[0], { document: { format: 'pdf', name: 'Spec', source: { bytes: pdf }, citations: { enabled: true } } })
  assert.deepEqual(input.messages?.[1]?.content, [
    { reasoningContent: { reasoningText: { text: 'hmm', signature: 'sig' } } },
    { reasoningContent: { redactedContent: Buffer.from([0, 1, 2]) } },
    { toolUse: { toolUseId: 't1', name: 'f', input: { a: 1 } } },
  ])
  assert.deepEqual(input.messages?.[2]?.content, [{ toolResult: { toolUseId: 't1', content: [{ json: { ok: true } }, { text: 'done' }], status: 'success' } }])
  assert.deepEqual(input.toolConfig, { tools: [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object' } } } }, { cachePoint: { type: 'default' } }], toolChoice: { tool: { name: 'f' } } })
})

test('options: allowed raw fields, latency and tier pass; reasoning is merged as thinking, never next to a raw one', () => {
  const input = toConverseInput({ prompt: 'a', maxTokens: 3000, reasoning: { budgetTokens: 2000 }, additionalModelRequestFields: { top_k: 5 }, performanceConfig: { latency: 'optimized' }, serviceTier: { type: 'flex' } }, { ...OPEN, maxOutputTokens: 4096 })
  assert.deepEqual(input.additionalModelRequestFields, { top_k: 5, thinking: { type: 'enabled', budget_tokens: 2000 } })
  assert.deepEqual([input.performanceConfig, input.serviceTier], [{ latency: 'optimized' }, { type: 'flex' }])
  const both = refusal(() => toConverseInput({ prompt: 'a', reasoning: {}, additionalModelRequestFields: { thinking: {} } }, OPEN))
  assert.equal(both.code, 'bad_request')
})

test('the guardrail: the key\'s own wins over the server\'s; requestMetadata names the call with safe characters', () => {
  const server = { identifier: 'gr-s', version: '1', streamProcessingMode: 'sync' as const }
  const policy = { ...POLICY, features: { ...POLICY.features, guardrail: server } }
  assert.deepEqual(toConverseInput({ prompt: 'a' }, policy).guardrailConfig, { guardrailIdentifier: 'gr-s', guardrailVersion: '1', streamProcessingMode: 'sync' })
  assert.equal(toConverseInput({ prompt: 'a' }, POLICY).guardrailConfig, undefined)
  const input = toConverseInput({ prompt: 'a' }, policy, { streamId: 'abc123', principalName: 'team ä!', guardrail: { identifier: 'gr-k', version: 'DRAFT' } })
  assert.deepEqual(input.guardrailConfig, { guardrailIdentifier: 'gr-k', guardrailVersion: 'DRAFT' })
  assert.deepEqual(input.requestMetadata, { proxyStreamId: 'abc123', proxyKey: 'team __' })
})
