// EventSource tickets: issued for a key, single use, short-lived, signed, optionally
// bound to one request; a used, expired, forged or mismatched ticket gets 401 and
// Bedrock is not called.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TicketSigner } from '../src/security/tickets.js'
import { build, fetchSse } from './helper.js'
import { bearer, errorOf, KEY_A, mintTicket, TICKET_SECRET } from './security-helper.js'

const ENV = { API_KEYS: KEY_A, TICKET_SECRET }

async function refused (res: Response, message: RegExp): Promise<void> {
  assert.equal(res.status, 401)
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/)
  const error = await errorOf(res)
  assert.equal(error.code, 'unauthorized')
  assert.match(error.message, message)
}

test('a ticket starts one stream; a replay gets 401 and Bedrock is not called again', async (t) => {
  const h = await build(t, { env: ENV })
  const { ticket, expiresAt } = await mintTicket(h.url, KEY_A)
  h.secrets.add(ticket)
  const lifetime = Date.parse(expiresAt) - Date.now()
  assert.ok(lifetime > 50_000 && lifetime <= 60_000, `about TICKET_TTL_MS (${lifetime} ms)`)
  const url = `${h.url}/v1/converse-stream?prompt=hi&ticket=${encodeURIComponent(ticket)}`
  const first = await fetchSse(url)
  assert.equal(first.status, 200)
  assert.equal(first.events.at(-1)?.event, 'done')
  await refused(await fetch(url), /already used/)
  assert.equal(h.emulator.requests.length, 1)
  const line = h.logs.find(l => l['msg'] === 'request completed' && JSON.stringify(l).includes('converse-stream'))
  assert.deepEqual((line?.['req'] as { url: string }).url, '/v1/converse-stream', 'the request line has no query string')
})

test('two requests racing with one ticket: exactly one stream', async (t) => {
  const h = await build(t, { env: ENV })
  const { ticket } = await mintTicket(h.url, KEY_A)
  h.secrets.add(ticket)
  const url = `${h.url}/v1/converse-stream?prompt=hi&ticket=${encodeURIComponent(ticket)}`
  const results = await Promise.all([fetchSse(url), fetchSse(url), fetchSse(url)])
  assert.deepEqual(results.map(r => r.status).sort(), [200, 401, 401])
  assert.equal(h.emulator.requests.length, 1)
})

test('an expired ticket gets 401 (TICKET_TTL_MS)', async (t) => {
  const h = await build(t, { env: { ...ENV, TICKET_TTL_MS: '100' } })
  const { ticket } = await mintTicket(h.url, KEY_A)
  h.secrets.add(ticket)
  await new Promise(resolve => setTimeout(resolve, 150)) // the point: the ticket outlives its TTL (polling would use it up)
  await refused(await fetch(`${h.url}/v1/converse-stream?prompt=hi&ticket=${encodeURIComponent(ticket)}`), /expired/)
  assert.equal(h.emulator.requests.length, 0)
})

test('forged tickets get 401: a changed payload, a changed signature, another server\'s secret, garbage', async (t) => {
  const h = await build(t, { env: ENV })
  const other = await build(t, { env: { API_KEYS: KEY_A, TICKET_SECRET: 'a-different-secret-0123456789abcdef0123' } })
  const { ticket } = await mintTicket(h.url, KEY_A)
  const { ticket: foreign } = await mintTicket(other.url, KEY_A)
  h.secrets.add(ticket).add(foreign)
  const [payload = '', signature = ''] = ticket.split('.')
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>
  const longer = Buffer.from(JSON.stringify({ ...claims, exp: Date.now() + 86_400_000 })).toString('base64url')
  const flipped = (signature.startsWith('A') ? 'B' : 'A') + signature.slice(1)
  for (const forged of [`${longer}.${signature}`, `${payload}.${flipped}`, foreign, 'x', `${payload}.`, `${ticket}.${signature}`, 'é'.repeat(2000)]) {
    await refused(await fetch(`${h.url}/v1/converse-stream?prompt=hi&ticket=${encodeURIComponent(forged)}`), /not valid/)
  }
  assert.equal(h.emulator.requests.length, 0)
  assert.equal((await fetchSse(`${h.url}/v1/converse-stream?prompt=hi&ticket=${encodeURIComponent(ticket)}`)).status, 200, 'the genuine one still works')
})

test('a bound ticket starts only the request it was issued for', async (t) => {
  const h = await build(t, { env: ENV })
  const query = { prompt: 'the bound prompt', maxTokens: 50 }
  const mismatches: Array<Record<string, string>> = [{ prompt: 'another prompt', maxTokens: '50' }, { prompt: 'the bound prompt' }, { prompt: 'the bound prompt', maxTokens: '50', temperature: '0.5' }]
  for (const q of mismatches) {
    const { ticket } = await mintTicket(h.url, KEY_A, query)
    h.secrets.add(ticket)
    await refused(await fetch(`${h.url}/v1/converse-stream?${new URLSearchParams({ ...q, ticket })}`), /different request/)
  }
  assert.equal(h.emulator.requests.length, 0)
  const { ticket } = await mintTicket(h.url, KEY_A, query)
  h.secrets.add(ticket)
  // The browser builds the URL from the same object, in any order.
  const ok = await fetchSse(`${h.url}/v1/converse-stream?${new URLSearchParams({ ticket, maxTokens: '50', prompt: query.prompt })}`)
  assert.equal(ok.status, 200)
  assert.equal(h.emulator.requests.length, 1)
})

test('tickets: GET only, need an Authorization header to be issued, and cannot mint tickets', async (t) => {
  const h = await build(t, { env: ENV })
  const { ticket } = await mintTicket(h.url, KEY_A)
  h.secrets.add(ticket)
  const t1 = encodeURIComponent(ticket)
  await refused(await fetch(`${h.url}/v1/converse-stream?ticket=${t1}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"hi"}' }), /GET requests only/)
  await refused(await fetch(`${h.url}/v1/tickets?ticket=${t1}`, { method: 'POST' }), /GET requests only/)
  await refused(await fetch(`${h.url}/v1/tickets`, { method: 'POST' }), /API key/)
  const bad = await fetch(`${h.url}/v1/tickets`, { method: 'POST', headers: { ...bearer(KEY_A), 'content-type': 'application/json' }, body: '{"query":{"ticket":"x"}}' })
  assert.equal(bad.status, 400)
  const noBody = await fetch(`${h.url}/v1/tickets`, { method: 'POST', headers: bearer(KEY_A) })
  assert.equal(noBody.status, 200)
  assert.equal(noBody.headers.get('cache-control'), 'no-store')
  h.secrets.add((await noBody.json() as { ticket: string }).ticket)
  assert.equal(h.emulator.requests.length, 0)
})

test('an EventSource reconnect (Last-Event-ID) with its used ticket resumes and never calls Bedrock again', async (t) => {
  const h = await build(t, { env: ENV })
  const { ticket } = await mintTicket(h.url, KEY_A)
  h.secrets.add(ticket)
  const url = `${h.url}/v1/converse-stream?prompt=hi&ticket=${encodeURIComponent(ticket)}`
  const first = await fetchSse(url)
  assert.equal(first.status, 200)
  const lastId = first.events.at(-1)?.id ?? ''
  const reconnect = await fetch(url, { headers: { 'last-event-id': lastId } })
  assert.notEqual(reconnect.status, 401)
  assert.ok(reconnect.status < 300, `a resume answer (${reconnect.status})`)
  await reconnect.text()
  assert.equal(h.emulator.requests.length, 1, 'one generation only')
  // Without the header the same URL is a new generation, and the ticket is spent.
  await refused(await fetch(url), /already used/)
})

test('anonymous mode: tickets work too, so a browser client can use one code path', async (t) => {
  const h = await build(t)
  const res = await fetch(`${h.url}/v1/tickets`, { method: 'POST' })
  assert.equal(res.status, 200)
  const { ticket } = await res.json() as { ticket: string }
  h.secrets.add(ticket)
  assert.equal((await fetchSse(`${h.url}/v1/converse-stream?prompt=hi&ticket=${encodeURIComponent(ticket)}`)).status, 200)
})

test('a ticket has exactly one spelling: another base64url spelling of the same signature is refused', () => {
  const signer = new TicketSigner(TICKET_SECRET)
  const { ticket } = signer.issue('key:test', 60_000, undefined)
  assert.equal(typeof signer.verify(ticket), 'object')
  // 32 signature bytes = 43 base64url characters: the last one carries 2 spare bits.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const last = ticket.at(-1) as string
  const sibling = alphabet[alphabet.indexOf(last) ^ 1] as string
  const respelled = ticket.slice(0, -1) + sibling
  const [, signature] = respelled.split('.')
  assert.deepEqual(Buffer.from(signature ?? '', 'base64url'), Buffer.from(ticket.split('.')[1] ?? '', 'base64url'), 'same bytes')
  assert.equal(signer.verify(respelled), 'bad_signature')
})
