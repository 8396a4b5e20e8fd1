// Graceful shutdown: open streams end with `error` shutting_down + `done` (instead of
// holding fastify.close() forever, FIELD-NOTES 11), and their upstream calls are aborted.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { build, eventNames, fetchSse } from './helper.js'

test('close() ends open streams with shutting_down + done and aborts their upstream calls', async (t) => {
  const h = await build(t)
  h.emulator.enqueue({ steps: [{ event: { messageStart: { role: 'assistant' } } }, { hang: true }], frameDelayMs: 0 })
  const pending = fetchSse(`${h.url}/v1/converse-stream?prompt=hi`)
  await h.emulator.waitForRequests(1)
  const ready = await fetch(`${h.url}/readyz`)
  assert.deepEqual(await ready.json(), { status: 'ready', openStreams: 1, runningStreams: 1, redis: 'off', credentials: 'unchecked', pressure: 'ok' })

  await h.app.close() // resolves only if the open stream was ended
  const res = await pending
  assert.deepEqual(eventNames(res.events), ['start', 'error', 'usage', 'done'])
  assert.deepEqual(res.events[1]?.data, { code: 'shutting_down', message: 'The server is shutting down; retry on another instance.', retryable: true })
  assert.equal(await h.emulator.waitForOutcome(1, 1000), 'aborted')
})

test('liveness answers without calling Bedrock', async (t) => {
  const h = await build(t)
  const res = await fetch(`${h.url}/healthz`)
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), { status: 'ok' })
  assert.equal(h.emulator.requests.length, 0)
})
