// Issue 7, part 1: a client that connects and drops at once must not defeat the per-key
// stream cap or the token budget. Its upstream call keeps running through the resume
// grace period, so the slot and the budget reservation belong to that call, not to the
// connection. Real sockets destroyed right after the headers, the emulator counting
// upstream calls.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { build } from './helper.js'
import { bearer, KEY_A } from './security-helper.js'
import { holdStream } from './support/net.js'
import { eventually } from './support/wait.js'

/** `count` connect-and-drops in a row (curl -m 0.3 style): headers, then the socket is cut. */
async function connectAndDrop (base: string, path: string, count: number): Promise<number[]> {
  const statuses: number[] = []
  for (let i = 0; i < count; i++) {
    const held = await holdStream(base, path, bearer(KEY_A))
    statuses.push(held.response.statusCode ?? 0)
    held.cut()
  }
  return statuses
}

test('connect-and-drop cannot pass MAX_STREAMS_PER_KEY: a slot is held until the upstream call ends, grace included', async (t) => {
  const h = await build(t, { env: { API_KEYS: KEY_A, RATE_LIMIT_MAX: '0', MAX_STREAMS_PER_KEY: '2', TOKEN_BUDGET_PER_KEY: '0', RESUME_GRACE_MS: '3000' } })
  // /hang: Bedrock starts answering and then says nothing, so each call runs until it is aborted.
  const statuses = await connectAndDrop(h.url, '/v1/converse-stream?prompt=/hang', 10)
  assert.deepEqual(statuses, [200, 200, ...Array(8).fill(429)])
  assert.equal(h.emulator.requests.length, 2, 'two upstream calls, not ten')
  // Nobody came back: the grace period ends, the calls are aborted, and only then are the slots free.
  assert.equal(await h.emulator.waitForOutcome(1, 10_000), 'aborted')
  assert.equal(await h.emulator.waitForOutcome(2, 10_000), 'aborted')
  await eventually(async () => {
    const held = await holdStream(h.url, '/v1/converse-stream?prompt=again', bearer(KEY_A))
    held.cut()
    return held.response.statusCode === 200
  })
})

test('connect-and-drop cannot overspend the budget: each call reserves its input and output cap at admission', async (t) => {
  const h = await build(t, { env: { API_KEYS: KEY_A, RATE_LIMIT_MAX: '0', MAX_STREAMS_PER_KEY: '100', TOKEN_BUDGET_PER_KEY: '100', MAX_OUTPUT_TOKENS: '50', RESUME_GRACE_MS: '3000' } })
  // Each reserves about 2 (input) + 50 (output cap): the third finds 104 of 100 taken.
  const statuses = await connectAndDrop(h.url, '/v1/converse-stream?prompt=/hang', 10)
  assert.deepEqual(statuses, [200, 200, ...Array(8).fill(429)])
  assert.equal(h.emulator.requests.length, 2)
  // When the calls end their reservations are replaced by what they cost (a few input
  // tokens): the budget is free again.
  await eventually(async () => {
    const held = await holdStream(h.url, '/v1/converse-stream?prompt=again', bearer(KEY_A))
    held.cut()
    return held.response.statusCode === 200
  }, 10_000)
})

test('the issue\'s numbers: 30 connect-and-drops with MAX_STREAMS_PER_KEY=2, TOKEN_BUDGET_PER_KEY=100, MAX_OUTPUT_TOKENS=50', async (t) => {
  // Answers that take about a second (20 ms a frame), as the emulator's demo default.
  const h = await build(t, {
    emulator: { frameDelayMs: 20 },
    env: { API_KEYS: KEY_A, RATE_LIMIT_MAX: '0', MAX_STREAMS_PER_KEY: '2', TOKEN_BUDGET_PER_KEY: '100', MAX_OUTPUT_TOKENS: '50', LOG_LEVEL: 'debug' },
  })
  const statuses = await connectAndDrop(h.url, '/v1/converse-stream?prompt=hello', 30)
  assert.equal(statuses.filter(s => s === 200).length, 2, `statuses: ${statuses.join(' ')}`)
  assert.ok(statuses.every(s => s === 200 || s === 429))
  assert.equal(h.emulator.requests.length, 2, 'at most MAX_STREAMS_PER_KEY upstream calls')
  await h.emulator.waitForOutcome(2, 10_000)
  // The README's promise: at most one call's reservation past the budget.
  let total = 0
  await eventually(async () => {
    const settled = h.logs.filter(l => l['msg'] === 'usage settled')
    total = (settled.at(-1)?.['budget'] as { total?: number } | undefined)?.total ?? 0
    return settled.length === 2
  }, 10_000)
  assert.ok(total > 0 && total <= 100 + 2 * 50, `debited ${total} tokens`)
})
