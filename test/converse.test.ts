// POST /v1/converse: the same body, one JSON answer; upstream failures keep their codes.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { messageScenario, textScenario } from '../src/emulator/index.js'
import { build } from './helper.js'

async function converse (url: string, body: unknown): Promise<{ status: number, headers: Headers, json: Record<string, unknown> }> {
  const res = await fetch(`${url}/v1/converse`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, headers: res.headers, json: await res.json() as Record<string, unknown> }
}

test('answers { text, content, stopReason, usage, metrics }', async (t) => {
  const h = await build(t)
  h.emulator.enqueue(messageScenario([
    { reasoning: { text: 'hmm', signature: 'sig' } },
    { text: 'Forty-two. 👩‍👩‍👧\r\n' },
  ], { usage: { inputTokens: 9, outputTokens: 3 }, latencyMs: 77 }))
  const res = await converse(h.url, { prompt: 'answer?', maxTokens: 99999 })
  assert.equal(res.status, 200)
  assert.equal(res.json.text, 'Forty-two. 👩‍👩‍👧\r\n')
  assert.equal(res.json.stopReason, 'end_turn')
  assert.deepEqual(res.json.usage, { inputTokens: 9, outputTokens: 3, totalTokens: 12 })
  assert.deepEqual(res.json.metrics, { latencyMs: 77 })
  const content = res.json.content as Array<Record<string, unknown>>
  assert.deepEqual(content[1], { text: 'Forty-two. 👩‍👩‍👧\r\n' })
  assert.deepEqual((content[0]?.reasoningContent as Record<string, unknown>).reasoningText, { text: 'hmm', signature: 'sig' })
  // One pipeline: the document is gathered from the ConverseStream call.
  assert.equal(h.emulator.requests[0]?.operation, 'converse-stream')
  assert.deepEqual((h.emulator.requests[0]?.body as Record<string, unknown>).inferenceConfig, { maxTokens: 2048 })
})

const FAILURES: Array<[string, { status: number, type: string }, number, string]> = [
  ['throttled', { status: 429, type: 'ThrottlingException' }, 429, 'upstream_throttled'],
  ['unavailable', { status: 503, type: 'ServiceUnavailableException' }, 503, 'upstream_unavailable'],
  ['rejected', { status: 400, type: 'ValidationException' }, 400, 'upstream_rejected'],
  ['denied', { status: 403, type: 'AccessDeniedException' }, 502, 'upstream_denied'],
  ['internal', { status: 500, type: 'InternalServerException' }, 502, 'upstream_error'],
]

for (const [name, httpError, status, code] of FAILURES) {
  test(`upstream ${name} -> ${status} ${code}`, async (t) => {
    const h = await build(t, { client: { maxAttempts: 1 } })
    h.emulator.enqueue({ httpError: { ...httpError, message: 'arn:aws:iam::123456789012:role/secret' }, steps: [] })
    const res = await converse(h.url, { prompt: 'x' })
    assert.equal(res.status, status)
    assert.equal((res.json.error as Record<string, unknown>).code, code)
    if (status === 429 || status === 503) assert.match(res.headers.get('retry-after') ?? '', /^\d+$/)
    if (code !== 'upstream_rejected') assert.ok(!JSON.stringify(res.json).includes('123456789012'))
  })
}

test('a Converse call slower than CONVERSE_TIMEOUT_MS is 504 upstream_timeout and aborted', async (t) => {
  const h = await build(t, { env: { CONVERSE_TIMEOUT_MS: '300' } })
  h.emulator.enqueue({ steps: [{ delayMs: 5000 }, ...textScenario('late').steps] })
  const res = await converse(h.url, { prompt: 'x' })
  assert.equal(res.status, 504)
  assert.equal((res.json.error as Record<string, unknown>).code, 'upstream_timeout')
  assert.equal(await h.emulator.waitForOutcome(1, 2000), 'aborted')
})
