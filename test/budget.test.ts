// Token budgets: debited from Bedrock's usage (or an estimate when a client left before
// usage came), refused with 429 budget_exhausted and the reset time once spent.
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { tokensOf } from '../src/plugins/limits.js'
import { build, fetchSse, lastEvent } from './helper.js'
import { bearer, errorOf, KEY_A, KEY_B } from './security-helper.js'
import { holdStream } from './support/net.js'
import { eventually } from './support/wait.js'

function usageOf (events: Array<{ event: string, data: unknown }>): number {
  const usage = events.find(e => e.event === 'usage')?.data as { inputTokens: number, outputTokens: number }
  return usage.inputTokens + usage.outputTokens
}

test('a spent budget answers 429 budget_exhausted with Retry-After and resetAt (next UTC midnight); Bedrock not called', async (t) => {
  const h = await build(t, { env: { TOKEN_BUDGET_PER_KEY: '50', TOKEN_BUDGET_PERIOD: 'day' } })
  const first = await fetchSse(`${h.url}/v1/converse-stream?prompt=hello`)
  assert.equal(lastEvent(first.events)?.event, 'done')
  assert.ok(usageOf(first.events) >= 50, 'the emulator\'s answer costs more than the budget')
  let res: Response | undefined
  await eventually(async () => {
    res = await fetch(`${h.url}/v1/converse`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"again"}' })
    return res.status === 429
  })
  assert.ok(res !== undefined)
  const error = await errorOf(res)
  assert.equal(error.code, 'budget_exhausted')
  const tomorrow = new Date()
  tomorrow.setUTCHours(24, 0, 0, 0)
  assert.equal(error.resetAt, tomorrow.toISOString())
  const retryAfter = Number(res.headers.get('retry-after'))
  assert.ok(Math.abs(retryAfter - (tomorrow.getTime() - Date.now()) / 1000) < 5, `Retry-After ${retryAfter} s is the time to the reset`)
  assert.equal(h.emulator.requests.length, 1)
})

test('a stream the client left before usage came is still debited (its input, estimated)', async (t) => {
  const h = await build(t, { env: { API_KEYS: `${KEY_A},${KEY_B}`, TOKEN_BUDGET_PER_KEY: '100', RESUME_GRACE_MS: '0' } })
  // /hang: Bedrock starts and then says nothing, so no usage ever arrives.
  const held = await holdStream(h.url, `/v1/converse-stream?prompt=${encodeURIComponent('/hang ' + 'x'.repeat(400))}`, bearer(KEY_A))
  await h.emulator.waitForRequests(1)
  held.cut()
  await eventually(async () => h.logs.some(l => l['msg'] === 'stream finished'))
  const res = await fetch(`${h.url}/v1/converse-stream?prompt=a`, { headers: bearer(KEY_A) })
  assert.equal(res.status, 429)
  assert.equal((await errorOf(res)).code, 'budget_exhausted')
  assert.equal(h.emulator.requests.length, 1)
  assert.equal((await fetchSse(`${h.url}/v1/converse-stream?prompt=a`, { headers: bearer(KEY_B) })).status, 200, 'the other key has its own budget')
})

test('per-key budgets from the key file; tokenBudget 0 means none', async (t) => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'bsp-keys-')), 'keys.json')
  writeFileSync(file, JSON.stringify({ keys: [{ name: 'tight', key: KEY_A, tokenBudget: 10 }, { name: 'free', key: KEY_B, tokenBudget: 0 }] }))
  const h = await build(t, { env: { API_KEYS_FILE: file, TOKEN_BUDGET_PER_KEY: '1000000' } })
  h.secrets.add(KEY_A).add(KEY_B)
  for (const key of [KEY_A, KEY_B]) assert.equal((await fetchSse(`${h.url}/v1/converse-stream?prompt=a`, { headers: bearer(key) })).status, 200)
  await eventually(async () => (await fetch(`${h.url}/v1/converse-stream?prompt=a`, { headers: bearer(KEY_A) })).status === 429)
  for (let i = 0; i < 2; i++) assert.equal((await fetchSse(`${h.url}/v1/converse-stream?prompt=a`, { headers: bearer(KEY_B) })).status, 200)
  assert.equal(h.emulator.requests.length, 4)
})

// periodWindow and TokenBudget on their own: test/unit/budget.test.ts.

test('what a finished call costs: usage when it came, else the estimated input if Bedrock may have read it', () => {
  const base = { streamId: 's', model: 'm', durationMs: 1 }
  const w = { budgetCacheReadPercent: 10, budgetCacheWritePercent: 125 }
  assert.equal(tokensOf({ ...base, outcome: 'completed', inputTokens: 10, outputTokens: 5 }, 400, w), 15)
  assert.equal(tokensOf({ ...base, outcome: 'client_closed', inputTokens: 10, outputTokens: 3 }, 400, w), 13, 'a partial usage is taken as is')
  assert.equal(tokensOf({ ...base, outcome: 'client_closed' }, 400, w), 100)
  assert.equal(tokensOf({ ...base, outcome: 'error', errorCode: 'upstream_truncated', timeToFirstTokenMs: 5 }, 400, w), 100)
  assert.equal(tokensOf({ ...base, outcome: 'error', errorCode: 'upstream_throttled' }, 400, w), 0, 'refused by Bedrock before it read anything')
})

test('prompt-cache tokens are settled in the budget at their weight (BUDGET_CACHE_*_PERCENT)', async (t) => {
  const h = await build(t, { env: { LOG_LEVEL: 'debug', BUDGET_CACHE_WRITE_PERCENT: '200', BUDGET_CACHE_READ_PERCENT: '50' } })
  const body = { system: [{ text: 'Stable instructions. '.repeat(50) }, { cachePoint: { type: 'default' } }], prompt: 'hi' }
  const post = async (): Promise<Record<string, number>> => {
    const res = await fetchSse(`${h.url}/v1/converse-stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return res.events.find(e => e.event === 'usage')?.data as Record<string, number>
  }
  const settled = async (n: number): Promise<number[]> => {
    await eventually(async () => h.logs.filter(l => l['msg'] === 'usage settled').length >= n)
    return h.logs.filter(l => l['msg'] === 'usage settled').map(l => (l['budget'] as { tokens: number }).tokens)
  }
  const write = await post()
  assert.ok((write['cacheWriteInputTokens'] ?? 0) > 0)
  assert.deepEqual(await settled(1), [(write['inputTokens'] ?? 0) + (write['outputTokens'] ?? 0) + 2 * (write['cacheWriteInputTokens'] ?? 0)])
  const read = await post()
  assert.ok((read['cacheReadInputTokens'] ?? 0) > 0)
  assert.equal((await settled(2))[1], (read['inputTokens'] ?? 0) + (read['outputTokens'] ?? 0) + Math.ceil((read['cacheReadInputTokens'] ?? 0) / 2))
})
