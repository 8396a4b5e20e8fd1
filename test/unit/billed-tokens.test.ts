// What a call weighs in the token budget (issue 12): prompt-cache tokens, which Bedrock
// reports apart from inputTokens, at their weight; the reservation at admission bounds
// thinking by maxTokens and takes a caching request's input at the cache-write weight.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { reservationOf } from '../../src/plugins/limits.js'
import { billedTokens } from '../../src/security/budget.js'

const WEIGHTS = { budgetCacheReadPercent: 10, budgetCacheWritePercent: 125 }

test('cache reads count a tenth, writes 1.25 times an input token (rounded up); absent counts are 0', () => {
  assert.equal(billedTokens({ inputTokens: 10, outputTokens: 5 }, WEIGHTS), 15)
  assert.equal(billedTokens({ inputTokens: 10, outputTokens: 5, cacheReadInputTokens: 1000 }, WEIGHTS), 115)
  assert.equal(billedTokens({ inputTokens: 10, outputTokens: 5, cacheWriteInputTokens: 1000 }, WEIGHTS), 1265)
  assert.equal(billedTokens({ cacheReadInputTokens: 1, cacheWriteInputTokens: 1 }, WEIGHTS), 3)
  assert.equal(billedTokens({ inputTokens: 10, cacheReadInputTokens: 1000 }, { budgetCacheReadPercent: 0, budgetCacheWritePercent: 0 }), 10)
})

test('the reservation: input estimate plus the clamped output cap; caching requests at the write weight', () => {
  assert.equal(reservationOf({ prompt: 'x' }, 400, 2048, WEIGHTS), 100 + 2048)
  assert.equal(reservationOf({ prompt: 'x', maxTokens: 50, reasoning: { budgetTokens: 2000 } }, 400, 2048, WEIGHTS), 100 + 50)
  assert.equal(reservationOf({ prompt: 'x', maxTokens: 99_999 }, 400, 2048, WEIGHTS), 100 + 2048)
  const cached = { prompt: 'x', system: [{ text: 'long' }, { cachePoint: { type: 'default' as const } }] }
  assert.equal(reservationOf(cached, 400, 2048, WEIGHTS), 125 + 2048)
  assert.equal(reservationOf(cached, 400, 2048, { ...WEIGHTS, budgetCacheWritePercent: 50 }), 100 + 2048, 'never below the input itself')
})

test('binary documents count in the reservation at a byte per character (MAX_PROMPT_CHARS cannot see them)', () => {
  const pdf = { document: { format: 'pdf' as const, name: 'Spec', source: { bytes: Buffer.alloc(4000).toString('base64') } } }
  const inResult = { toolResult: { toolUseId: 't', content: [pdf] } }
  assert.equal(reservationOf({ messages: [{ role: 'user', content: [pdf, { text: 'x' }] }] }, 400, 2048, WEIGHTS), 100 + 1000 + 2048)
  assert.equal(reservationOf({ messages: [{ role: 'user', content: [inResult] }] }, 0, 2048, WEIGHTS), 1000 + 2048)
})
