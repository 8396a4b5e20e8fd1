// Property-based: random bodies, query strings and credentials thrown at every /v1
// endpoint. Never a 5xx, never a crash, and a refused request never reaches Bedrock.
// One proxy per property, bounded runs, so the file stays within a few seconds.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { build, type Harness } from './helper.js'
import { bearer, KEY_A, mintTicket, TICKET_SECRET } from './security-helper.js'

const RUNS = 150
// Rate limit off, small caps so random input also crosses them.
const ENV = { API_KEYS: KEY_A, TICKET_SECRET, RATE_LIMIT_MAX: '0', MAX_MESSAGES: '4', MAX_PROMPT_CHARS: '200', BODY_LIMIT_BYTES: '4096', BEDROCK_ALLOWED_MODELS: 'other.model-v1:0' }

// Prompts starting with "/" pick emulator scenarios (some hang or fail on purpose).
const text = fc.string({ maxLength: 40 }).filter(s => !s.trimStart().startsWith('/'))
const scalar = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null))
const block = fc.oneof(
  fc.record({ text }),
  fc.record({ image: fc.record({ format: fc.constantFrom('png', 'bmp', ''), source: fc.record({ bytes: fc.constantFrom('AAAA', 'not base64', '') }) }) }),
  fc.dictionary(fc.string({ maxLength: 8 }), scalar, { maxKeys: 2 })
)
const message = fc.record({ role: fc.constantFrom('user', 'assistant', 'system', ''), content: fc.oneof(text, fc.array(block, { maxLength: 3 }), scalar) }, { requiredKeys: [] })
/** Near-valid bodies: the public fields with right and wrong types, plus strangers. */
const body = fc.record({
  prompt: fc.oneof(text, scalar),
  messages: fc.oneof(fc.array(message, { maxLength: 6 }), scalar),
  system: fc.oneof(text, scalar),
  model: fc.constantFrom('test.model-v1:0', 'other.model-v1:0', 'anthropic.claude-v2', '', 'x'.repeat(3000)),
  maxTokens: fc.oneof(fc.integer({ min: -5, max: 100_000 }), scalar),
  temperature: fc.oneof(fc.double({ min: -1, max: 2, noNaN: true }), scalar),
  topP: scalar,
  stopSequences: fc.oneof(fc.array(text, { maxLength: 40 }), scalar),
  toolConfig: fc.constant({ tools: [] }),
  query: fc.dictionary(fc.string({ maxLength: 10 }), scalar, { maxKeys: 3 }),
}, { requiredKeys: [] })
const rawBody = fc.oneof(
  body.map(b => JSON.stringify(b)),
  fc.json(),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('', '{', '[]', 'null', '{"prompt":"a"}'.repeat(300), '\u0000', '{"__proto__":{"prompt":"x"}}', '{"constructor":{"prototype":{}}}')
)
const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', '')

const queryPart = fc.oneof(
  fc.tuple(fc.constantFrom('prompt', 'model', 'system', 'maxTokens', 'temperature', 'topP', 'ticket', 'lastEventId', 'toolConfig', '__proto__', ''), fc.oneof(text, fc.integer().map(String)))
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`),
  fc.constantFrom('%', '%zz', '%E0%A4%A', '&&', '=', 'prompt', 'prompt=', 'prompt[]=a', 'prompt=a&prompt=b', `prompt=${'y'.repeat(300)}`)
)
const rawQuery = fc.array(queryPart, { maxLength: 6 }).map(parts => parts.join('&'))

async function check (h: Harness, send: () => Promise<Response>): Promise<void> {
  const before = h.emulator.requests.length
  const res = await send()
  const answer = await res.text() // always drain: a 200 is a whole stream
  assert.ok(res.status < 500, `${res.status} ${answer.slice(0, 200)}`)
  if (res.status >= 400) {
    const parsed = JSON.parse(answer) as { error?: { code?: unknown } }
    assert.equal(typeof parsed.error?.code, 'string', answer.slice(0, 200))
    assert.equal(h.emulator.requests.length, before, `a ${res.status} reached Bedrock`)
  }
}

for (const path of ['/v1/converse-stream', '/v1/converse', '/v1/tickets']) {
  test(`fuzz POST ${path}: random bodies and content types`, async (t) => {
    const h = await build(t, { env: ENV })
    await fc.assert(fc.asyncProperty(rawBody, contentType, async (payload, type) => {
      await check(h, async () => fetch(`${h.url}${path}`, {
        method: 'POST', headers: { ...bearer(KEY_A), ...(type !== '' ? { 'content-type': type } : {}) }, body: payload,
      }))
    }), { numRuns: RUNS })
    for (const line of h.logs) assert.ok(Number(line['level']) < 50, `no error log: ${JSON.stringify(line).slice(0, 300)}`)
  })
}

test('fuzz GET /v1/converse-stream and /v1/streams/:id: random query strings', async (t) => {
  const h = await build(t, { env: ENV })
  await fc.assert(fc.asyncProperty(rawQuery, fc.constantFrom('/v1/converse-stream', '/v1/streams/0123456789abcdef01234567', '/v1/streams/nope'), async (query, path) => {
    await check(h, async () => fetch(`${h.url}${path}?${query}`, { headers: bearer(KEY_A) }))
  }), { numRuns: RUNS })
})

test('fuzz credentials: random Authorization headers and tickets never pass, never reach Bedrock', async (t) => {
  const h = await build(t, { env: ENV })
  const { ticket } = await mintTicket(h.url, KEY_A)
  h.secrets.add(ticket)
  // Random edits of a genuine ticket, and random strings in its place.
  const mutated = fc.tuple(fc.nat(ticket.length - 1), fc.constantFrom('A', 'b', '.', '-', '_', '')).map(([i, c]) => ticket.slice(0, i) + c + ticket.slice(i + 1))
    .filter(candidate => candidate !== ticket)
  const credential = fc.oneof(
    fc.string({ maxLength: 100 }).map(s => ({ authorization: s.replace(/[\r\n\0]/g, '') })),
    fc.string({ maxLength: 60 }).map(s => bearer(`${KEY_A.slice(0, 10)}${s.replace(/[\s]/g, '')}`)),
    mutated.map(m => ({ ticket: m })),
    fc.string({ maxLength: 200 }).map(s => ({ ticket: s }))
  )
  await fc.assert(fc.asyncProperty(credential, async (cred) => {
    const before = h.emulator.requests.length
    const res = 'ticket' in cred
      ? await fetch(`${h.url}/v1/converse-stream?prompt=hi&ticket=${encodeURIComponent(cred.ticket)}`)
      : await fetch(`${h.url}/v1/converse-stream?prompt=hi`, { headers: cred }).catch(() => undefined) // fetch refuses some header bytes itself
    if (res === undefined) return
    await res.text()
    assert.ok(res.status === 401 || res.status === 400, `status ${res.status}`)
    assert.equal(h.emulator.requests.length, before)
  }), { numRuns: RUNS * 2 })
})
