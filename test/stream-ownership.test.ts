// A stream started with a key belongs to that key: another key can neither follow,
// resume nor cancel it, and is told nothing about it (204 / 404, as for an unknown id).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { textScenario } from '../src/emulator/index.js'
import { build, fetchSse, joinText, type Harness } from './helper.js'
import { redisTestOptions, twoInstances } from './redis-helper.js'
import { bearer, KEY_A, KEY_B, TICKET_SECRET } from './security-helper.js'
import { countText, readThenDrop } from './support/sse.js'

const ENV = { API_KEYS: `${KEY_A},${KEY_B}`, TICKET_SECRET }
const TEXT = 'owned '.repeat(150)

async function startOwned (h: Harness): Promise<{ streamId: string, lastId: string }> {
  h.emulator.enqueue(textScenario(TEXT, { chunkChars: 6, frameDelayMs: 10 }))
  const first = await readThenDrop(`${h.url}/v1/converse-stream?prompt=hi`, countText(2), { headers: bearer(KEY_A) })
  return { streamId: (first.events[0]?.data as { streamId: string }).streamId, lastId: first.lastId }
}

async function assertOnlyOwnerHasAccess (other: Harness, owner: Harness, streamId: string, lastId: string): Promise<void> {
  assert.equal((await fetch(`${other.url}/v1/streams/${streamId}`, { headers: bearer(KEY_B) })).status, 204, 'B cannot follow')
  const resume = await fetch(`${other.url}/v1/converse-stream?prompt=hi`, { headers: { ...bearer(KEY_B), 'last-event-id': lastId } })
  assert.equal(resume.status, 204, 'B cannot resume')
  const del = await fetch(`${other.url}/v1/streams/${streamId}`, { method: 'DELETE', headers: bearer(KEY_B) })
  assert.equal(del.status, 404, 'B cannot cancel, and learns nothing')
  const mine = await fetchSse(`${owner.url}/v1/streams/${streamId}`, { headers: bearer(KEY_A) })
  assert.equal(joinText(mine.events), TEXT, 'A follows its own stream')
}

test('another key cannot follow, resume or cancel a stream; its owner can', async (t) => {
  const h = await build(t, { env: ENV })
  const { streamId, lastId } = await startOwned(h)
  await assertOnlyOwnerHasAccess(h, h, streamId, lastId)
  assert.equal(await h.emulator.waitForOutcome(1), 'completed', "B's DELETE did not cancel it")
  assert.equal(h.emulator.requests.length, 1)
})

test('ownership holds across instances sharing Redis', redisTestOptions(), async (t) => {
  const { emulator, a, b } = await twoInstances(t, ENV)
  const { streamId, lastId } = await startOwned(a)
  await assertOnlyOwnerHasAccess(b, b, streamId, lastId)
  assert.equal(await emulator.waitForOutcome(1), 'completed')
})
