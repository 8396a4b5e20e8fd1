// Overload (@fastify/under-pressure): past PRESSURE_MAX_HEAP_BYTES a new stream gets 503
// server_overloaded with Retry-After, while a stream already open keeps flowing and the
// health endpoints answer. The heap bound is really crossed: the test allocates past it,
// live, and the bound judges the heap after V8's next major GC.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { textScenario } from '../src/emulator/index.js'
import { build, parseSse } from './helper.js'
import { scrape, valueOf } from './prometheus.js'
import { errorOf } from './security-helper.js'
import { eventually } from './support/wait.js'

test('over the heap bound: new streams get 503 server_overloaded, the open stream goes on to done', async (t) => {
  const boundBytes = process.memoryUsage().heapUsed + 32 * 1024 * 1024
  const h = await build(t, { env: { PRESSURE_MAX_HEAP_BYTES: String(boundBytes), PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0' } })
  // About 4 s of tokens: long enough to be still running once the next sample sees the pressure.
  h.emulator.enqueue(textScenario('lorem ipsum dolor sit amet '.repeat(30), { frameDelayMs: 40 }))
  const open = await fetch(`${h.url}/v1/converse-stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'hi' }) })
  assert.equal(open.status, 200)
  const reader = open.body?.getReader()
  assert.ok(reader !== undefined)
  const decoder = new TextDecoder()
  let body = ''
  const readSome = async (): Promise<boolean> => {
    const { done, value } = await reader.read()
    if (value !== undefined) body += decoder.decode(value, { stream: true })
    return done
  }
  await readSome()

  // Cross the bound for real: about 96 MB of live JS heap (kept small: other test files run alongside).
  const hog: number[][] = Array.from({ length: 3 }, () => new Array<number>(4_000_000).fill(1.5))
  t.after(() => { hog.length = 0 })
  // The allocation makes V8 collect soon enough; a major GC forced now makes it certain.
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
  await eventually(async () => ((await (await fetch(`${h.url}/readyz`)).json()) as { pressure: string }).pressure === 'overloaded', 10_000)

  const refused = await fetch(`${h.url}/v1/converse-stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'hi' }) })
  assert.equal(refused.status, 503)
  assert.ok(Number(refused.headers.get('retry-after')) > 0)
  const error = await errorOf(refused)
  assert.equal(error.code, 'server_overloaded')
  assert.equal((await fetch(`${h.url}/healthz`)).status, 200)
  const ready = await fetch(`${h.url}/readyz`)
  assert.equal(ready.status, 200)
  const m = await scrape(h.url)
  assert.equal(valueOf(m, 'bsp_under_pressure'), 1)
  assert.equal(valueOf(m, 'bsp_refusals_total', { code: 'server_overloaded' }), 1)
  assert.equal(h.emulator.requests.length, 1, 'the refused stream never reached Bedrock')

  const textBeforeRefusal = parseSse(body).events.filter(e => e.event === 'text').length
  while (!await readSome()) { /* read to the end */ }
  const { events } = parseSse(body)
  assert.ok(events.filter(e => e.event === 'text').length > textBeforeRefusal, 'text kept flowing after the refusal')
  assert.deepEqual(events.slice(-3).map(e => e.event), ['stop', 'usage', 'done'])
  assert.equal(hog.length, 3) // keeps the allocation alive (and the pressure on) until here
})
