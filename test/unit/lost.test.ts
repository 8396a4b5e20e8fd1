// The last events of a stream whose producer is gone: error, usage (Bedrock's if it came,
// else an estimate marked partial), done.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ProxyError } from '../../src/errors.js'
import type { RelayEvent } from '../../src/events.js'
import { estimateFromEvents, lostEvents } from '../../src/streams/lost.js'

test('estimateFromEvents: Bedrock\'s usage when it came', () => {
  const usage = { inputTokens: 5, outputTokens: 6, totalTokens: 11, latencyMs: 3 }
  const events: RelayEvent[] = [{ type: 'text', data: { index: 0, text: 'x'.repeat(400) } }, { type: 'usage', data: usage }]
  assert.deepEqual(estimateFromEvents(events), usage)
})

test('estimateFromEvents: otherwise the output seen so far, estimated and partial', () => {
  const events: RelayEvent[] = [
    { type: 'start', data: { streamId: 's', model: 'm' } },
    { type: 'text', data: { index: 0, text: 'abcdefgh' } },
    { type: 'tool_input', data: { index: 1, input: 'ab' } },
  ]
  assert.deepEqual(estimateFromEvents(events), { inputTokens: 0, outputTokens: 3, totalTokens: 3, partial: true })
  assert.deepEqual(estimateFromEvents([]), { inputTokens: 0, outputTokens: 0, totalTokens: 0, partial: true })
})

test('lostEvents: error (the given code), usage, done, in that order', () => {
  const usage = { inputTokens: 0, outputTokens: 2, totalTokens: 2, partial: true as const }
  assert.deepEqual(lostEvents(new ProxyError('stream_lost'), usage), [
    { type: 'error', data: { code: 'stream_lost', message: 'The instance producing this stream stopped; the rest of the answer is lost.', retryable: true } },
    { type: 'usage', data: usage },
    { type: 'done', data: {} },
  ])
})
