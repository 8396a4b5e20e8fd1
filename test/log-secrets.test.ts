// No log line holds a key, a ticket, a JWT, an Authorization or Cookie value, or the
// AWS secret: every credential path, refused and accepted, at LOG_LEVEL=trace. (build()
// also scans every other test's logs when it ends: test/log-scan.ts.)
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { build, fetchSse } from './helper.js'
import { assertNoSecretsInLogs, AWS_TEST_SECRET } from './log-scan.js'
import { bearer, KEY_A, mintTicket, signJwt, TICKET_SECRET } from './security-helper.js'

const JWT_SECRET = 'jwt-secret-for-the-log-test-0123456789abcdef'

test('every credential path at trace level: no secret in any log line', async (t) => {
  const h = await build(t, { env: { API_KEYS: KEY_A, TICKET_SECRET, JWT_SECRET, LOG_LEVEL: 'trace', CORS_ORIGINS: 'https://app.example.com' } })
  const jwt = signJwt({ sub: 'user-1', exp: Math.floor(Date.now() / 1000) + 60 }, JWT_SECRET)
  const cookie = 'session=cookie-value-never-logged-0123456789'
  const wrongKey = 'wrong-key-never-logged-0123456789abcdef'
  h.secrets.add(jwt).add(cookie).add('cookie-value-never-logged-0123456789').add(wrongKey)

  const { ticket } = await mintTicket(h.url, KEY_A, { prompt: 'hi' })
  const { ticket: unbound } = await mintTicket(h.url, KEY_A)
  h.secrets.add(ticket).add(unbound)
  const withTicket = (tk: string, q = 'prompt=hi'): string => `${h.url}/v1/converse-stream?${q}&ticket=${encodeURIComponent(tk)}`

  assert.equal((await fetchSse(withTicket(ticket), { headers: { cookie } })).status, 200)
  assert.equal((await fetch(withTicket(ticket))).status, 401) // replay
  assert.equal((await fetch(withTicket(unbound, 'prompt=hi&toolConfig=x'))).status, 400) // spent, then refused by the schema
  assert.equal((await fetch(withTicket(`${ticket}x`))).status, 401)
  assert.equal((await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`, { headers: { ...bearer(jwt), cookie } })).status, 200)
  assert.equal((await fetch(`${h.url}/v1/converse-stream?prompt=hi`, { headers: bearer(wrongKey) })).status, 401)
  assert.equal((await fetch(`${h.url}/v1/converse`, { method: 'POST', headers: { ...bearer(KEY_A), cookie, 'content-type': 'application/json' }, body: '{"prompt":"hi"}' })).status, 200)
  assert.equal((await fetch(`${h.url}/v1/nope?ticket=${encodeURIComponent(ticket)}`, { headers: bearer(KEY_A) })).status, 404)
  assert.equal((await fetch(`${h.url}/v1/converse-stream?prompt=hi`, { headers: { ...bearer(KEY_A), origin: 'https://evil.example' } })).status, 403)

  assert.ok(h.logs.length > 15, 'trace level wrote plenty (one access line per request)')
  assertNoSecretsInLogs(h.logs, [...h.secrets, KEY_A, TICKET_SECRET, JWT_SECRET, AWS_TEST_SECRET])
})

test('the scanner itself catches each kind of leak', () => {
  const cases: Array<Record<string, unknown>> = [
    { msg: `key ${KEY_A}` },
    { req: { url: '/v1/converse-stream?ticket=' + 'A'.repeat(80) + '.' + 'b'.repeat(43) } },
    { headers: { authorization: 'Bearer abc' } },
    { token: signJwt({ sub: 'x' }, 'k') },
    { err: { message: AWS_TEST_SECRET } },
  ]
  for (const line of cases) assert.throws(() => assertNoSecretsInLogs([line], [KEY_A, AWS_TEST_SECRET]), JSON.stringify(line))
  assertNoSecretsInLogs([{ msg: 'request completed', res: { headers: { 'www-authenticate': 'Bearer realm="bedrock-sse-proxy"' } } }], [KEY_A])
})
