// Token estimates for streams whose Bedrock usage never came: about four characters a token.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { estimateTokens, outputCharsOf, partialUsage } from '../../src/usage-estimate.js'

test('estimateTokens: four characters a token, rounded up', () => {
  assert.deepEqual([0, 1, 4, 5, 8, 9, 400].map(estimateTokens), [0, 1, 1, 2, 2, 3, 100])
})

test('outputCharsOf counts text, reasoning text and tool input; nothing else', () => {
  assert.equal(outputCharsOf({ type: 'text', data: { index: 0, text: 'hello' } }), 5)
  assert.equal(outputCharsOf({ type: 'reasoning', data: { index: 0, text: 'abc' } }), 3)
  assert.equal(outputCharsOf({ type: 'tool_input', data: { index: 0, input: '{"a":1}' } }), 7)
  assert.equal(outputCharsOf({ type: 'reasoning', data: { index: 0, signature: 'long-signature' } }), 0)
  assert.equal(outputCharsOf({ type: 'reasoning', data: { index: 0, redacted: 'AAAA' } }), 0)
  assert.equal(outputCharsOf({ type: 'tool_use', data: { index: 0, toolUseId: 'tu', name: 'get_weather' } }), 0)
  assert.equal(outputCharsOf({ type: 'delta', data: { index: 0, kind: 'citation', value: 'text' } }), 0)
  assert.equal(outputCharsOf({ type: 'stop', data: { stopReason: 'end_turn' } }), 0)
})

test('partialUsage: estimated input and output, their sum, marked partial', () => {
  assert.deepEqual(partialUsage(9, 4), { inputTokens: 3, outputTokens: 1, totalTokens: 4, partial: true })
  assert.deepEqual(partialUsage(0, 0), { inputTokens: 0, outputTokens: 0, totalTokens: 0, partial: true })
})
