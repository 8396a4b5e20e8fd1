// A process near its heap limit refuses new streams instead of dying (issue 10). In a
// container with a memory limit, Node sets V8's heap limit from it (about half: 259 MiB in
// a 512 MiB container), and each open stream holds some 30 KiB of heap: past a few
// thousand streams a proxy without a heap bound died with "JavaScript heap out of memory",
// losing every stream it carried. By default new streams now get 503 server_overloaded
// once the heap in use passes PRESSURE_MAX_HEAP_PERCENT of the limit, and the open ones go
// on. The real server process runs with a small heap (--max-old-space-size, as a container
// would give it) and real streams fill it.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { Agent, request as httpRequest } from 'node:http'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startTestEmulator } from './helper.js'
import { freePort } from './support/net.js'
import { eventually } from './support/wait.js'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
// Each stream's first token comes this long after its request: the streams stay open
// while the heap fills, then all of them finish.
const FIRST_TOKEN_MS = 30_000
// Without a heap bound the process dies before this many are open (about 20 KiB of live
// heap each, 64 MiB of old generation).
const MAX_STREAMS = 4000
const BATCH = 100

interface Answer { status: number, body: string }

function openStream (url: string, agent: Agent): { head: Promise<number>, answer: Promise<Answer> } {
  let onHead: (status: number) => void = () => {}
  const head = new Promise<number>(resolve => { onHead = resolve })
  const answer = new Promise<Answer>((resolve) => {
    const req = httpRequest(`${url}/v1/converse-stream?prompt=${encodeURIComponent(`/stamped 2 0 ${FIRST_TOKEN_MS}`)}`, { agent }, (res) => {
      onHead(res.statusCode ?? 0)
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body: `${body}\n(cut)` }))
    })
    req.on('error', (err) => { onHead(0); resolve({ status: 0, body: err.message }) })
    req.end()
  })
  return { head, answer }
}

test('near its heap limit the proxy refuses new streams with 503 server_overloaded, stays up, and the open streams finish', { timeout: 120_000 }, async (t) => {
  const emulator = await startTestEmulator(t)
  const port = await freePort()
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
    AWS_ACCESS_KEY_ID: 'AKIDHEAPLIMITTEST',
    AWS_SECRET_ACCESS_KEY: 'heap-limit-test-secret',
    BEDROCK_MODEL_ID: 'test.model-v1:0',
    PORT: String(port),
    LOG_LEVEL: 'error',
    // Only the heap bound is under test: no rate limit or stream caps, no loop-delay bound.
    RATE_LIMIT_MAX: '0',
    MAX_STREAMS_PER_KEY: '100000',
    MAX_OPEN_STREAMS: '100000',
    TOKEN_BUDGET_PER_KEY: '0',
    PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
    UPSTREAM_FIRST_EVENT_TIMEOUT_MS: '60000',
    UPSTREAM_IDLE_TIMEOUT_MS: '60000',
  }
  const child = spawn(process.execPath, ['--max-old-space-size=64', '--import', 'tsx', 'src/server.ts'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString('utf8')).slice(-4000) })
  const exited = new Promise<{ code: number | null, signal: string | null }>(resolve => child.on('exit', (code, signal) => resolve({ code, signal })))
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const url = `http://127.0.0.1:${port}`
  await eventually(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200, 20_000)

  const agent = new Agent({ keepAlive: false, maxSockets: Infinity })
  t.after(() => agent.destroy())
  const held: Array<Promise<Answer>> = []
  let refused: Answer | undefined
  // 100 streams every 250 ms: the bound is sampled once a second, so a second's worth of
  // streams (some 8 MiB of heap) may pass it before the sample sees it; the 20 % left of
  // 64 MiB holds them.
  while (refused === undefined && held.length < MAX_STREAMS && child.exitCode === null) {
    const batch = Array.from({ length: BATCH }, () => openStream(url, agent))
    const heads = await Promise.all(batch.map(async s => await s.head))
    for (const [i, status] of heads.entries()) {
      const stream = batch[i]
      if (stream === undefined) continue
      if (status === 200) held.push(stream.answer)
      else refused ??= await stream.answer
    }
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  assert.equal(child.exitCode, null, `the proxy is still running after ${held.length} streams; stderr:\n${stderr}`)
  assert.ok(refused !== undefined, `a new stream was refused before ${MAX_STREAMS} were open (${held.length} open)`)
  assert.equal(refused.status, 503)
  assert.equal((JSON.parse(refused.body) as { error: { code: string } }).error.code, 'server_overloaded')
  t.diagnostic(`${held.length} streams open when the first was refused`)
  assert.ok(held.length >= 100, `${held.length} streams were open before the refusal`)
  assert.equal((await fetch(`${url}/healthz`)).status, 200)

  // Every stream open before the refusal gets its tokens and ends normally.
  const answers = await Promise.all(held)
  const unfinished = answers.filter(a => !/\nevent: done\n/.test(a.body) || /\nevent: error\n/.test(a.body))
  assert.deepEqual(unfinished.slice(0, 3), [], `${unfinished.length} of ${answers.length} open streams did not end with done; the first:\n${unfinished[0]?.body.slice(-600) ?? ''}`)
  assert.equal(child.exitCode, null, `stderr:\n${stderr}`)
  child.kill('SIGTERM')
  await exited
})
