// EventSource tickets: signed claims (HMAC-SHA256 with a domain-separation prefix), one
// spelling per ticket, and the binding to a query.
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { test } from 'node:test'
import { bindingOf, TicketSigner } from '../../src/security/tickets.js'

const SECRET = 'ticket-secret-0123456789abcdef0123456789'
const NOW = Date.UTC(2026, 4, 1)
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** Signs any payload the way the server does, to make tickets whose signature is right but whose claims are not. */
function signed (payloadText: string, secret = SECRET): string {
  const payload = Buffer.from(payloadText, 'utf8').toString('base64url')
  const sig = createHmac('sha256', secret).update('bedrock-sse-proxy ticket v1\n').update(payload).digest('base64url')
  return `${payload}.${sig}`
}

test('issue: claims with a random jti, issue time and expiry; verify returns them', () => {
  const signer = new TicketSigner(SECRET)
  const { ticket, claims } = signer.issue('key:a', 60_000, undefined, NOW)
  assert.deepEqual({ ...claims, jti: undefined }, { jti: undefined, sub: 'key:a', iat: NOW, exp: NOW + 60_000 })
  assert.match(claims.jti, /^[A-Za-z0-9_-]{22}$/, '16 random bytes')
  assert.notEqual(signer.issue('key:a', 60_000, undefined, NOW).claims.jti, claims.jti)
  assert.match(ticket, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/)
  assert.deepEqual(signer.verify(ticket), claims)
})

test('issue: a binding and the instance are carried when set', () => {
  const signer = new TicketSigner(Buffer.from(SECRET), 'instance-1')
  const { ticket, claims } = signer.issue('jwt:u', 1000, 'bound-hash', NOW)
  assert.equal(claims.bnd, 'bound-hash')
  assert.equal(claims.ins, 'instance-1')
  assert.deepEqual(signer.verify(ticket), claims)
  assert.equal('ins' in new TicketSigner(SECRET).issue('jwt:u', 1000, undefined, NOW).claims, false)
})

test('verify: a changed payload, a changed signature or another secret is bad_signature', () => {
  const signer = new TicketSigner(SECRET)
  const { ticket } = signer.issue('key:a', 60_000, undefined, NOW)
  const [payload = '', signature = ''] = ticket.split('.')
  const longer = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()) as object, exp: NOW + 86_400_000 })).toString('base64url')
  assert.equal(signer.verify(`${longer}.${signature}`), 'bad_signature')
  assert.equal(signer.verify(`${payload}.${(signature.startsWith('A') ? 'B' : 'A') + signature.slice(1)}`), 'bad_signature')
  assert.equal(signer.verify(`${payload}.${signature.slice(0, -1)}`), 'bad_signature', 'a shorter signature')
  assert.equal(new TicketSigner('another-secret-0123456789abcdef012345').verify(ticket), 'bad_signature')
  // The same HMAC without the domain prefix (a signature made for something else) does not verify.
  const bare = createHmac('sha256', SECRET).update(payload).digest('base64url')
  assert.equal(signer.verify(`${payload}.${bare}`), 'bad_signature')
})

test('verify: a ticket has exactly one spelling (the spare bits of the last base64url character count)', () => {
  const signer = new TicketSigner(SECRET)
  const { ticket } = signer.issue('key:a', 60_000, undefined, NOW)
  const [payload = '', signature = ''] = ticket.split('.')
  const last = signature.at(-1) as string
  const twin = signature.slice(0, -1) + (B64URL[B64URL.indexOf(last) ^ 1] as string)
  assert.deepEqual(Buffer.from(twin, 'base64url'), Buffer.from(signature, 'base64url'), 'the same bytes, spelled differently')
  assert.equal(signer.verify(`${payload}.${twin}`), 'bad_signature')
})

test('verify: malformed shapes are refused before any signature check', () => {
  const signer = new TicketSigner(SECRET)
  const { ticket } = signer.issue('key:a', 60_000, undefined, NOW)
  for (const bad of ['', 'x', 'a.', '.b', `${ticket}.extra`, 'a b.c', 'a.b=', 'é.é', `${'a'.repeat(1100)}.b`]) {
    assert.equal(signer.verify(bad), 'malformed', JSON.stringify(bad.slice(0, 40)))
  }
})

test('verify: a correctly signed payload that is not JSON claims is malformed', () => {
  const signer = new TicketSigner(SECRET)
  for (const payload of ['not json', '[]', 'null', '{"jti":"a","sub":"b","iat":1}', '{"jti":"a","sub":"b","iat":1,"exp":"2"}', '{"jti":"a","sub":"b","iat":1,"exp":2,"bnd":3}', '{"jti":"a","sub":"b","iat":1,"exp":2,"ins":false}']) {
    assert.equal(signer.verify(signed(payload)), 'malformed', payload)
  }
  assert.deepEqual(signer.verify(signed('{"jti":"a","sub":"b","iat":1,"exp":2}')), { jti: 'a', sub: 'b', iat: 1, exp: 2 })
})

test('bindingOf: the query without `ticket`, in any order, values as the URL carries them', () => {
  const base = bindingOf({ prompt: 'hi', maxTokens: '5' })
  assert.match(base, /^[A-Za-z0-9_-]{43}$/, 'a SHA-256, base64url')
  assert.equal(bindingOf({ maxTokens: 5, prompt: 'hi' }), base, 'order and number-vs-string do not matter')
  assert.equal(bindingOf({ prompt: 'hi', maxTokens: '5', ticket: 'anything' }), base, 'the ticket itself is not bound')
  assert.notEqual(bindingOf({ prompt: 'hi!', maxTokens: '5' }), base)
  assert.notEqual(bindingOf({ prompt: 'hi' }), base, 'a dropped parameter changes it')
  assert.notEqual(bindingOf({ prompt: 'hi', maxTokens: '5', model: 'x' }), base, 'an added parameter changes it')
  assert.equal(bindingOf({ stop: ['a', 'b'] }), bindingOf({ stop: ['a', 'b'] }))
  assert.notEqual(bindingOf({ stop: ['a', 'b'] }), bindingOf({ stop: 'a,b' }), 'a repeated parameter is not its joined text')
})
