// Random ids drawn from a pooled CSPRNG (src/security/random.ts): the formats the stream
// ids and slot ids promise, and no id twice across many pool refills.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { randomBase64url, randomHex } from '../../src/security/random.js'
import { newStreamId } from '../../src/streams/registry.js'

test('stream ids are 24 hex characters, slot ids 12 base64url characters, none repeated over many pool refills', () => {
  const seen = new Set<string>()
  // 12 + 9 bytes each, 20,000 times: about 100 refills of the 4 KiB pool.
  for (let i = 0; i < 20_000; i++) {
    const id = newStreamId()
    assert.match(id, /^[0-9a-f]{24}$/)
    const slot = randomBase64url(9)
    assert.match(slot, /^[A-Za-z0-9_-]{12}$/)
    assert.ok(!seen.has(id) && !seen.has(slot))
    seen.add(id).add(slot)
  }
})

test('the bytes are spread evenly (every hex digit about equally often), and a draw larger than the pool is refused', () => {
  const counts = new Map<string, number>()
  for (let i = 0; i < 2_000; i++) for (const c of randomHex(64)) counts.set(c, (counts.get(c) ?? 0) + 1)
  assert.equal(counts.size, 16)
  // 256,000 digits: 16,000 expected each; a fixed or repeating pool would be far off.
  for (const [digit, n] of counts) assert.ok(n > 15_000 && n < 17_000, `${digit}: ${n}`)
  assert.throws(() => randomHex(5000), RangeError)
})
