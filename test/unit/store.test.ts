// MemorySecurityStore: ticket claims, usage counters and stream slots, each with its own
// expiry. Time is mock.timers' Date, moved by hand.
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { MemorySecurityStore } from '../../src/security/store.js'

const T0 = Date.UTC(2026, 4, 1, 12, 0, 0)

function store (t: TestContext): MemorySecurityStore {
  t.mock.timers.enable({ apis: ['Date'], now: T0 })
  const s = new MemorySecurityStore()
  t.after(() => s.close())
  return s
}

test('claimTicket: claimed the first time, used after that, for its remaining life', async (t) => {
  const s = store(t)
  assert.equal(await s.claimTicket('jti-1', T0, 60_000), 'claimed')
  assert.equal(await s.claimTicket('jti-1', T0, 60_000), 'used')
  assert.equal(await s.claimTicket('jti-2', T0, 60_000), 'claimed', 'each ticket on its own')
  t.mock.timers.setTime(T0 + 59_999)
  assert.equal(await s.claimTicket('jti-1', T0, 60_000), 'used')
  // Past its life the ticket is expired anyway (the caller checks exp first); the claim is forgotten.
  t.mock.timers.setTime(T0 + 60_000)
  assert.equal(await s.claimTicket('jti-1', T0, 60_000), 'claimed')
})

test('addUsage: totals add up until the counter expires, then start again', async (t) => {
  const s = store(t)
  const expireAt = T0 + 3_600_000
  assert.equal(await s.addUsage('budget:a', 10, expireAt), 10)
  assert.equal(await s.addUsage('budget:a', 5, expireAt), 15)
  assert.equal(await s.addUsage('budget:a', -3, expireAt), 12, 'a settlement may give tokens back')
  assert.equal(await s.addUsage('budget:b', 1, expireAt), 1, 'keys are separate')
  assert.equal(await s.getUsage('budget:a'), 12)
  assert.equal(await s.getUsage('budget:none'), 0)
  t.mock.timers.setTime(expireAt - 1)
  assert.equal(await s.getUsage('budget:a'), 12)
  t.mock.timers.setTime(expireAt)
  assert.equal(await s.getUsage('budget:a'), 0, 'expired')
  assert.equal(await s.addUsage('budget:a', 4, expireAt + 3_600_000), 4, 'a new period starts from zero')
})

test('addUsage after the sweep interval: expired counters are gone, live ones kept', async (t) => {
  const s = store(t)
  await s.addUsage('short', 7, T0 + 1000)
  await s.addUsage('long', 9, T0 + 60_000)
  t.mock.timers.setTime(T0 + 30_000) // past the 10 s sweep interval: this call sweeps
  assert.equal(await s.addUsage('other', 1, T0 + 60_000), 1)
  assert.equal(await s.getUsage('short'), 0)
  assert.equal(await s.getUsage('long'), 9)
})

test('slots: up to max per key, refused beyond, given back on release', async (t) => {
  const s = store(t)
  assert.equal(await s.acquireSlot('slots:a', 's1', 2), true)
  assert.equal(await s.acquireSlot('slots:a', 's2', 2), true)
  assert.equal(await s.acquireSlot('slots:a', 's3', 2), false)
  assert.equal(await s.acquireSlot('slots:b', 's3', 2), true, 'another key has its own slots')
  await s.releaseSlot('slots:a', 's1')
  assert.equal(await s.acquireSlot('slots:a', 's3', 2), true)
  assert.equal(await s.acquireSlot('slots:a', 's4', 2), false)
  await s.releaseSlot('slots:a', 'never-held') // a no-op, not a free slot
  assert.equal(await s.acquireSlot('slots:a', 's4', 2), false)
  await s.releaseSlot('slots:none', 's1') // unknown key: no-op
  assert.equal(await s.acquireSlot('slots:a', 's2', 0), false, 'max 0: nothing')
})

test('close() forgets everything', async (t) => {
  const s = store(t)
  await s.claimTicket('jti', T0, 60_000)
  await s.addUsage('u', 5, T0 + 60_000)
  await s.acquireSlot('k', 'a', 1)
  s.close()
  assert.equal(await s.claimTicket('jti', T0, 60_000), 'claimed')
  assert.equal(await s.getUsage('u'), 0)
  assert.equal(await s.acquireSlot('k', 'b', 1), true)
})
