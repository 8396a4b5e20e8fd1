// A steady flow of streams does not fill the heap with ended ones (issue 10). Each ended
// stream stays replayable for STREAM_TTL_MS (5 minutes) after a life of seconds, so under a
// steady flow the ended streams are most of what the proxy holds. Unbounded, they filled
// the heap: with a 64 MiB heap the old main refused every new stream (503
// server_overloaded) after some 1,500 short ones, and with a 256 MiB heap 1,000 clients
// killed it within a minute. Now they are sealed into one Buffer each at `done` and held
// within ENDED_STREAMS_MAX_PERCENT of the heap limit, oldest forgotten first. The real
// server process runs with a small heap, as a small container would give it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { churn, startServerProcess } from './support/fill.js'

test('a steady flow of short streams on a small heap: every one is served, the latest still replay, the oldest are forgotten', { timeout: 150_000 }, async (t) => {
  const server = await startServerProcess(t, { nodeArgs: ['--max-old-space-size=64'] })
  // 50 tokens each, sent at once: about 5 KiB of frames per ended stream, so 4,000 of them
  // need more than the 16 MiB (25 % of 64) the ended streams may hold.
  const run = await churn(t, server, { clients: 20, streams: 4000, prompt: '/stamped 50 0 0' })
  assert.ok(server.running(), `stderr:\n${server.stderr()}`)
  assert.deepEqual(run.statuses, { 200: 4000 }, 'every stream was served')
  assert.equal(run.cut, 0, 'every stream ended with done')

  // A reconnect right after the end still replays the whole stream...
  const latest = run.streamIds.at(-1) ?? ''
  const replay = await fetch(`${server.url}/v1/streams/${latest}`)
  assert.equal(replay.status, 200)
  const body = await replay.text()
  assert.equal(body.match(/^event: text$/gm)?.length, 50)
  assert.match(body, /\nevent: done\n/)
  // ...and the oldest, past the bound, answers 204 as after the TTL: EventSource stops, nothing re-runs.
  const oldest = await fetch(`${server.url}/v1/streams/${run.streamIds[0] ?? ''}`)
  assert.equal(oldest.status, 204)
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200)
  await server.stop()
})
