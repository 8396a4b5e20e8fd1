// In a container with a memory limit, the proxy refuses new streams before the kernel kills
// it (issue 10). The heap bound (test/heap-limit.test.ts) holds at Node's own heap sizing;
// an operator who raises the heap toward the container's limit (--max-old-space-size, as
// README's Overload section suggests for more streams) would otherwise see the kernel's OOM
// killer end the process and every stream it carries. By default new streams get 503
// server_overloaded once the resident memory passes PRESSURE_MAX_RSS_PERCENT (90) of the
// limit. The real server runs in a real memory cgroup (root only: skipped with the reason
// elsewhere, unless REQUIRE_CGROUP=1, which .ci/run sets).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { cgroupUnavailable, memoryCgroup } from '../bench/cgroup.js'
import { fillUntilRefused, refusalCause, startServerProcess, unfinished } from './support/fill.js'

const unavailable = cgroupUnavailable()
if (unavailable !== undefined && process.env.REQUIRE_CGROUP === '1') throw new Error(`REQUIRE_CGROUP=1 but ${unavailable}`)

test('in a 256 MiB container with a heap raised past it, the proxy refuses new streams before the kernel kills it, and the open streams finish', { timeout: 180_000, skip: unavailable }, async (t) => {
  const cgroup = memoryCgroup(256, 'bsp-test-memory-limit')
  t.after(() => cgroup.remove())
  const server = await startServerProcess(t, { nodeArgs: ['--max-old-space-size=1024'], wrap: (command, args) => cgroup.wrap(command, args) })
  // Without the bound the kernel kills the process before 6000 are open (some 45 KiB of
  // resident memory each, from about 120 MiB idle).
  const { held, refused } = await fillUntilRefused(t, server, { firstTokenMs: 45_000, maxStreams: 6000, batch: 100 })
  assert.ok(server.running(), `the proxy is still running after ${held.length} streams (cgroup: ${cgroup.events()}); stderr:\n${server.stderr()}`)
  assert.ok(refused !== undefined, `a new stream was refused before 6000 were open (${held.length} open)`)
  assert.equal(refused.status, 503)
  assert.equal((JSON.parse(refused.body) as { error: { code: string } }).error.code, 'server_overloaded')
  assert.equal(refusalCause(server), 'rssBytes', 'the resident-memory bound refused it (the log line says which bound)')
  assert.ok(held.length >= 100, `${held.length} streams were open before the refusal`)
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200)

  const cut = await unfinished(held)
  assert.equal(cut.length, 0, `${cut.length} of ${held.length} open streams did not end with done; the first:\n${cut[0]?.body.slice(-600) ?? ''}`)
  assert.ok(server.running(), `stderr:\n${server.stderr()}`)
  assert.equal(cgroup.oomKills(), 0)
  await server.stop()
})
