// Every failure after `start` is an `error` event with a stable code, then `done`:
// never a cut connection, never a silent "completion".
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { textScenario, type Scenario, type StreamExceptionType } from '../src/emulator/index.js'
import { build, eventNames, joinText, lastEvent, postSse, type SseEvent } from './helper.js'

function errorOf (events: SseEvent[]): Record<string, unknown> {
  const error = events.find(e => e.event === 'error')
  assert.ok(error, `an error event in ${eventNames(events).join(',')}`)
  return error.data as Record<string, unknown>
}

/** `error`, then `done`; when the model had started, a partial (estimated) `usage` between them. */
function assertEndsWithErrorThenDone (events: SseEvent[]): void {
  assert.equal(events[0]?.event, 'start')
  const names = eventNames(events)
  const tail = names.slice(names.lastIndexOf('error'))
  assert.ok(['error,done', 'error,usage,done'].includes(tail.join(',')), names.join(','))
  assert.equal(events.filter(e => e.event === 'done').length, 1)
  const usage = events.at(-2)
  if (usage?.event === 'usage') assert.equal((usage.data as { partial?: boolean }).partial, true)
}

const partial = (steps: Scenario['steps']): Scenario => ({
  steps: [
    { event: { messageStart: { role: 'assistant' } } },
    { event: { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'partial ' } } } },
    ...steps,
  ],
})

const IN_STREAM: Array<[StreamExceptionType, string, boolean]> = [
  ['internalServerException', 'upstream_error', true],
  ['modelStreamErrorException', 'upstream_error', true],
  ['validationException', 'upstream_rejected', false],
  ['throttlingException', 'upstream_throttled', true],
  ['serviceUnavailableException', 'upstream_unavailable', true],
]

for (const [exception, code, retryable] of IN_STREAM) {
  test(`in-stream ${exception} -> error ${code} + done, text so far kept`, async (t) => {
    const h = await build(t)
    h.emulator.enqueue(partial([{ exception, message: 'arn:aws:bedrock:us-east-1:123456789012:secret detail' }]))
    const res = await postSse(h.url, { prompt: 'hi' })
    assert.equal(res.status, 200)
    assertEndsWithErrorThenDone(res.events)
    assert.equal(joinText(res.events), 'partial ')
    assert.deepEqual(eventNames(res.events).slice(-3), ['error', 'usage', 'done'])
    assert.deepEqual(res.events.at(-2)?.data, { inputTokens: 1, outputTokens: 2, totalTokens: 3, partial: true }, 'estimated from "hi" and "partial "')
    const error = errorOf(res.events)
    assert.equal(error.code, code)
    assert.equal(error.retryable, retryable)
    if (code !== 'upstream_rejected') {
      assert.ok(!JSON.stringify(error).includes('123456789012'), 'no account id or ARN in the event')
    }
    assert.equal(h.emulator.requests.length, 1)
  })
}

const BEFORE_STREAM: Array<[number, string, string]> = [
  [429, 'ThrottlingException', 'upstream_throttled'],
  [503, 'ServiceUnavailableException', 'upstream_unavailable'],
  [400, 'ValidationException', 'upstream_rejected'],
  [403, 'AccessDeniedException', 'upstream_denied'],
  [404, 'ResourceNotFoundException', 'upstream_denied'],
  [500, 'InternalServerException', 'upstream_error'],
]

for (const [status, type, code] of BEFORE_STREAM) {
  test(`HTTP ${status} ${type} before the stream -> error ${code} + done`, async (t) => {
    // maxAttempts 1: the SDK would retry throttling and 5xx; one scripted answer each.
    const h = await build(t, { client: { maxAttempts: 1 } })
    h.emulator.enqueue({ httpError: { status, type, message: 'The model arn:aws:bedrock:us-east-1:123456789012:foundation-model/x said no' }, steps: [] })
    const res = await postSse(h.url, { prompt: 'hi' })
    assert.equal(res.status, 200, 'the stream was already committed')
    assertEndsWithErrorThenDone(res.events)
    const error = errorOf(res.events)
    assert.equal(error.code, code)
    if (code === 'upstream_rejected') {
      assert.match(String(error.message), /said no/, "Bedrock's validation message is about the input and passes")
    } else {
      assert.ok(!JSON.stringify(error).includes('123456789012'), 'no ARN in the event')
    }
  })
}

test('the SDK retries a throttled first frame before giving up; one stream, one error', async (t) => {
  const h = await build(t) // default retry strategy: 3 attempts
  const throttle: Scenario = { httpError: { status: 429, type: 'ThrottlingException' }, steps: [] }
  h.emulator.enqueue(throttle, throttle, textScenario('third time lucky'))
  const res = await postSse(h.url, { prompt: 'hi' })
  assert.equal(joinText(res.events), 'third time lucky')
  assert.equal(lastEvent(res.events)?.event, 'done')
  assert.equal(h.emulator.requests.length, 3)
})

test('a stream that ends without messageStop is upstream_truncated, never a completion', async (t) => {
  const h = await build(t)
  h.emulator.enqueue(partial([{ end: true }]))
  const res = await postSse(h.url, { prompt: 'hi' })
  assertEndsWithErrorThenDone(res.events)
  assert.equal(errorOf(res.events).code, 'upstream_truncated')
  assert.ok(!eventNames(res.events).includes('stop'))
})

test('a stream with messageStop but no metadata is upstream_truncated', async (t) => {
  const h = await build(t)
  h.emulator.enqueue(partial([{ event: { contentBlockStop: { contentBlockIndex: 0 } } }, { event: { messageStop: { stopReason: 'end_turn' } } }, { end: true }]))
  const res = await postSse(h.url, { prompt: 'hi' })
  assertEndsWithErrorThenDone(res.events)
  assert.equal(errorOf(res.events).code, 'upstream_truncated')
})

test('a connection reset mid-stream ends with a retryable error + done', async (t) => {
  const h = await build(t)
  // After a pause, so the SDK has the first events and is reading the stream: a reset
  // before that is retried by the SDK (nothing was streamed yet), which is fine too.
  h.emulator.enqueue(partial([{ delayMs: 100 }, { reset: true }]))
  const res = await postSse(h.url, { prompt: 'hi' })
  assertEndsWithErrorThenDone(res.events)
  assert.equal(h.emulator.requests.length, 1, 'a stream cut mid-way is not retried (it would bill twice)')
  assert.equal(res.events.find(e => e.event === 'text') !== undefined, true)
  const error = errorOf(res.events)
  assert.ok(['upstream_error', 'upstream_truncated'].includes(String(error.code)), String(error.code))
  assert.equal(error.retryable, true)
})

test('an unreachable Bedrock endpoint is upstream_unavailable + done', async (t) => {
  const h = await build(t, { client: { maxAttempts: 1 } })
  await h.emulator.close()
  const res = await postSse(h.url, { prompt: 'hi' })
  assertEndsWithErrorThenDone(res.events)
  assert.equal(errorOf(res.events).code, 'upstream_unavailable')
})

test('silence after the first event times out (upstream_timeout) and aborts the upstream call', async (t) => {
  const h = await build(t, { env: { UPSTREAM_IDLE_TIMEOUT_MS: '300' } })
  h.emulator.enqueue(partial([{ hang: true }]))
  const res = await postSse(h.url, { prompt: 'hi' })
  assertEndsWithErrorThenDone(res.events)
  assert.equal(errorOf(res.events).code, 'upstream_timeout')
  assert.equal(await h.emulator.waitForOutcome(1, 2000), 'aborted')
})

test('no first event within the deadline is upstream_timeout', async (t) => {
  const h = await build(t, { env: { UPSTREAM_FIRST_EVENT_TIMEOUT_MS: '300' } })
  h.emulator.enqueue({ steps: [{ delayMs: 5000 }, ...textScenario('too late').steps] })
  const res = await postSse(h.url, { prompt: 'hi' })
  assertEndsWithErrorThenDone(res.events)
  assert.equal(errorOf(res.events).code, 'upstream_timeout')
  assert.equal(await h.emulator.waitForOutcome(1, 2000), 'aborted')
})
