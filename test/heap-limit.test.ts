// A process near its heap limit refuses new streams instead of dying (issue 10). In a
// container with a memory limit, Node sets V8's heap from it (an old generation of 256 MiB
// in a 512 MiB container), and each waiting stream holds some 27 KiB of heap: past a few
// thousand streams a proxy without a heap bound died with "JavaScript heap out of memory",
// losing every stream it carried. By default new streams now get 503 server_overloaded
// once the heap in use passes PRESSURE_MAX_HEAP_PERCENT of that limit, and the open ones go
// on. The real server process runs with a small heap (--max-old-space-size, as a container
// would give it) and real streams fill it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { churn, fillUntilRefused, refusalCause, startServerProcess, unfinished } from './support/fill.js'

test('near its heap limit the proxy refuses new streams with 503 server_overloaded, stays up, and the open streams finish', { timeout: 150_000 }, async (t) => {
  const server = await startServerProcess(t, { nodeArgs: ['--max-old-space-size=64'] })
  // Without a heap bound the process dies before 4000 are open (about 20 KiB of live heap
  // each, in 64 MiB). 100 streams every 250 ms: the bound is sampled once a second, so a
  // second's worth of streams (some 8 MiB) may pass it before a sample sees it; the 20 %
  // left of 64 MiB holds them.
  const { held, refused } = await fillUntilRefused(t, server, { firstTokenMs: 30_000, maxStreams: 4000, batch: 100 })
  assert.ok(server.running(), `the proxy is still running after ${held.length} streams; stderr:\n${server.stderr()}`)
  assert.ok(refused !== undefined, `a new stream was refused before 4000 were open (${held.length} open)`)
  assert.equal(refused.status, 503)
  assert.equal((JSON.parse(refused.body) as { error: { code: string } }).error.code, 'server_overloaded')
  assert.equal(refusalCause(server), 'heapUsedBytes', 'the heap bound refused it (the log line says which bound)')
  assert.ok(held.length >= 100, `${held.length} streams were open before the refusal`)
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200)

  // Every stream open before the refusal gets its tokens and ends normally.
  const cut = await unfinished(held)
  assert.deepEqual(cut.length, 0, `${cut.length} of ${held.length} open streams did not end with done; the first:\n${cut[0]?.body.slice(-600) ?? ''}`)
  assert.ok(server.running(), `stderr:\n${server.stderr()}`)
  await server.stop()
})

test('a steady flow of streams whose garbage passes the bound, with the live heap under it, is never refused', { timeout: 150_000 }, async (t) => {
  // heapUsed counts garbage not yet collected: V8 lets it grow to about 1.4 times the live
  // heap before a major GC. The bound judges the heap left after each major GC, so streams
  // that only churn garbage are served. Judged on heapUsed, a 100 MiB heap with 1,000
  // clients refused half the streams (5,892 of 11,892) while every one of them fit (the
  // process stays up either way).
  const server = await startServerProcess(t, { nodeArgs: ['--max-old-space-size=100'] })
  // 400 clients, 50 tokens 2 ms apart: judged on heapUsed, 2,556 of these 4,000 were refused.
  const run = await churn(t, server, { clients: 400, streams: 4000, prompt: '/stamped 50 2 0' })
  assert.ok(server.running(), `stderr:\n${server.stderr()}`)
  assert.deepEqual(run.statuses, { 200: 4000 }, `refused by ${refusalCause(server) ?? 'nothing'}`)
  assert.equal(run.cut, 0)
  await server.stop()
})
