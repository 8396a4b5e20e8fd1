// Token budgets: calendar periods in UTC, reservations at admission, settlement with the
// real usage, across period boundaries. The store is the in-memory one; Date is mocked.
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { ProxyError } from '../../src/errors.js'
import { periodWindow, TokenBudget } from '../../src/security/budget.js'
import { MemorySecurityStore } from '../../src/security/store.js'

const LAST_MINUTE = Date.UTC(2026, 0, 31, 23, 59, 0) // of an hour, a day and a month

/** A budget whose period totals the test can read (white box: the counter's key). */
class ObservedBudget extends TokenBudget {
  readonly #store: MemorySecurityStore
  readonly #period: 'hour' | 'day' | 'month'
  constructor (store: MemorySecurityStore, period: 'hour' | 'day' | 'month') {
    super(store, period)
    this.#store = store
    this.#period = period
  }

  async used (principalId: string, nowMs = Date.now()): Promise<number> {
    return await this.#store.getUsage(`budget:${principalId}:${periodWindow(this.#period, nowMs).startMs}`)
  }
}

function budget (t: TestContext, period: 'hour' | 'day' | 'month', now = LAST_MINUTE): ObservedBudget {
  t.mock.timers.enable({ apis: ['Date'], now })
  const store = new MemorySecurityStore()
  t.after(() => store.close())
  return new ObservedBudget(store, period)
}

test('periods are calendar periods in UTC', () => {
  const at = Date.UTC(2026, 0, 31, 23, 30, 5)
  assert.deepEqual(periodWindow('hour', at), { startMs: Date.UTC(2026, 0, 31, 23), endMs: Date.UTC(2026, 1, 1, 0) })
  assert.deepEqual(periodWindow('day', at), { startMs: Date.UTC(2026, 0, 31), endMs: Date.UTC(2026, 1, 1) })
  assert.deepEqual(periodWindow('month', at), { startMs: Date.UTC(2026, 0, 1), endMs: Date.UTC(2026, 1, 1) })
  assert.deepEqual(periodWindow('month', Date.UTC(2026, 11, 15)), { startMs: Date.UTC(2026, 11, 1), endMs: Date.UTC(2027, 0, 1) })
  assert.deepEqual(periodWindow('month', Date.UTC(2028, 1, 29, 12)), { startMs: Date.UTC(2028, 1, 1), endMs: Date.UTC(2028, 2, 1) }, 'a leap February')
  const start = Date.UTC(2026, 5, 1)
  assert.deepEqual(periodWindow('day', start), { startMs: start, endMs: start + 86_400_000 }, 'the start belongs to its own period')
})

test('reserve: admitted while the period total is under the limit, even if the reservation goes past it', async (t) => {
  const b = budget(t, 'day')
  assert.deepEqual(await b.reserve('key:x', 100, 60), { windowStartMs: Date.UTC(2026, 0, 31), tokens: 60 })
  assert.deepEqual(await b.reserve('key:x', 100, 60), { windowStartMs: Date.UTC(2026, 0, 31), tokens: 60 }, '60 < 100 when it came')
  assert.equal(await b.used('key:x'), 120)
})

test('reserve: refused once the total reached the limit, with resetAt, Retry-After, and nothing kept', async (t) => {
  const b = budget(t, 'day')
  await b.debit('key:x', 100)
  await assert.rejects(b.reserve('key:x', 100, 10), (err: unknown) => {
    assert.ok(err instanceof ProxyError)
    assert.equal(err.code, 'budget_exhausted')
    assert.equal(err.resetAt, '2026-02-01T00:00:00.000Z')
    assert.equal(err.retryAfterMs, 60_000)
    assert.equal(err.message, 'The token budget of this key (100 tokens per day) is used up, or held by its open streams, until 2026-02-01T00:00:00.000Z.')
    return true
  })
  assert.equal(await b.used('key:x'), 100, 'a refused reservation leaves nothing behind')
  assert.equal(await b.used('key:y'), 0, 'other principals are not affected')
  assert.equal((await b.reserve('key:y', 100, 10)).tokens, 10)
})

test('reserve: no budget (0) or nothing to reserve takes nothing and is never refused', async (t) => {
  const b = budget(t, 'hour')
  await b.debit('key:x', 1_000_000)
  assert.deepEqual(await b.reserve('key:x', 0, 10), { windowStartMs: Date.UTC(2026, 0, 31, 23), tokens: 0 })
  assert.equal((await b.reserve('key:x', 5, 0)).tokens, 0)
  assert.equal(await b.used('key:x'), 1_000_000)
})

test('the budget resets with its period', async (t) => {
  const b = budget(t, 'hour')
  await b.debit('key:x', 500)
  await assert.rejects(b.reserve('key:x', 500, 10), { code: 'budget_exhausted', retryAfterMs: 60_000 })
  t.mock.timers.setTime(LAST_MINUTE + 60_000) // the next hour
  assert.equal(await b.used('key:x'), 0)
  assert.equal((await b.reserve('key:x', 500, 10)).tokens, 10)
})

test('settle in the same period replaces the reservation with the real usage', async (t) => {
  const b = budget(t, 'day')
  const first = await b.reserve('key:x', 100, 60)
  const second = await b.reserve('key:x', 100, 60)
  await assert.rejects(b.reserve('key:x', 100, 60), { code: 'budget_exhausted' }, 'held by open calls')
  assert.equal(await b.settle('key:x', first, 7), 67)
  assert.equal(await b.settle('key:x', second, 0), 7, 'a call that never reached Bedrock costs nothing')
  assert.equal(await b.used('key:x'), 7)
  assert.equal((await b.reserve('key:x', 100, 60)).tokens, 60, 'room again')
})

test('settle across the boundary: the reservation leaves the old period, the usage lands in the new one', async (t) => {
  const b = budget(t, 'day')
  await b.debit('key:x', 5)
  const late = await b.reserve('key:x', 100, 50)
  assert.equal(await b.used('key:x'), 55)
  t.mock.timers.setTime(Date.UTC(2026, 1, 1, 0, 0, 30)) // just after midnight, inside the old counter's extra minute
  assert.equal(await b.settle('key:x', late, 9), 9, 'the new day holds only the usage')
  assert.equal(await b.used('key:x'), 9)
  assert.equal(await b.used('key:x', LAST_MINUTE), 5, 'yesterday got its reservation back')
})

test('a counter is kept one minute past its period, then expires', async (t) => {
  const b = budget(t, 'hour')
  await b.debit('key:x', 42)
  const end = Date.UTC(2026, 1, 1, 0, 0, 0)
  t.mock.timers.setTime(end + 59_999)
  assert.equal(await b.used('key:x', LAST_MINUTE), 42)
  t.mock.timers.setTime(end + 60_000)
  assert.equal(await b.used('key:x', LAST_MINUTE), 0)
})
