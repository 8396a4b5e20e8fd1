// Authentication: API keys (plain and sha256), the key file, JWTs, the loopback-only
// anonymous default. Every refusal: status, error code, and no Bedrock call.
import assert from 'node:assert/strict'
import { writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { ConfigError, loadConfig } from '../src/config.js'
import { sha256 } from '../src/security/keys.js'
import { build, fetchSse, postSse } from './helper.js'
import { bearer, errorOf, KEY_A, KEY_B, signJwt } from './security-helper.js'
import { rawRequest } from './support/net.js'

const JWT_SECRET = 'jwt-secret-0123456789abcdef0123456789abcdef'
const KEYS = { API_KEYS: `${KEY_A},sha256:${sha256(KEY_B).toString('hex')}` }

function keyFile (text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'bsp-keys-')), 'keys.yaml')
  writeFileSync(file, text)
  return file
}

const REFUSALS: Array<[string, Record<string, string>]> = [
  ['no Authorization header', {}],
  ['an unknown key', bearer('not-a-key-0123456789abcdef0123')],
  ['another scheme', { authorization: `Basic ${Buffer.from(`u:${KEY_A}`).toString('base64')}` }],
  ['an empty Bearer', { authorization: 'Bearer ' }],
  ['a key with a suffix', bearer(`${KEY_A}x`)],
]

for (const [name, headers] of REFUSALS) {
  test(`keys configured: ${name} -> 401 unauthorized with WWW-Authenticate, on every /v1 route, Bedrock not called`, async (t) => {
    const h = await build(t, { env: KEYS })
    const calls = [
      fetch(`${h.url}/v1/converse-stream?prompt=hi`, { headers }),
      fetch(`${h.url}/v1/converse-stream`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"prompt":"hi"}' }),
      fetch(`${h.url}/v1/converse`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"prompt":"hi"}' }),
      fetch(`${h.url}/v1/tickets`, { method: 'POST', headers }),
    ]
    for (const res of await Promise.all(calls)) {
      assert.equal(res.status, 401)
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm=/)
      assert.equal((await errorOf(res)).code, 'unauthorized')
    }
    assert.equal(h.emulator.requests.length, 0, 'Bedrock was not called')
  })
}

test('a configured key, plain or as sha256, streams; health checks need no key', async (t) => {
  const h = await build(t, { env: KEYS })
  h.secrets.add(KEY_A).add(KEY_B)
  const a = await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`, { headers: bearer(KEY_A) })
  assert.equal(a.status, 200)
  assert.equal(a.events.at(-1)?.event, 'done')
  const b = await postSse(h.url, { prompt: 'hi' }, { headers: { ...bearer(KEY_B), 'content-type': 'application/json' } })
  assert.equal(b.status, 200)
  assert.equal((await fetch(`${h.url}/healthz`)).status, 200)
  assert.equal(h.emulator.requests.length, 2)
})

test('the key file: names, per-key models; a model outside the key\'s list is refused before Bedrock', async (t) => {
  const file = keyFile(`keys:\n  - name: narrow\n    sha256: ${sha256(KEY_A).toString('hex')}\n    models: [test.model-v1:0]\n  - name: wide\n    key: ${KEY_B}\n`)
  const h = await build(t, { env: { API_KEYS_FILE: file, BEDROCK_ALLOWED_MODELS: 'other.model-v1:0' } })
  h.secrets.add(KEY_A).add(KEY_B)
  const refused = await fetch(`${h.url}/v1/converse-stream?prompt=hi&model=other.model-v1:0`, { headers: bearer(KEY_A) })
  assert.equal(refused.status, 400)
  assert.equal((await errorOf(refused)).code, 'model_not_allowed')
  assert.equal(h.emulator.requests.length, 0)
  const wide = await fetchSse(`${h.url}/v1/converse-stream?prompt=hi&model=other.model-v1:0`, { headers: bearer(KEY_B) })
  assert.equal(wide.status, 200)
  assert.equal(h.emulator.requests[0]?.modelId, 'other.model-v1:0')
})

test('key configuration problems stop start-up, all at once, never echoing a key', () => {
  const file = keyFile(`keys:\n  - name: dup\n    key: short-secret\n  - name: dup\n    sha256: nothex\n    colour: red\n  - name: m\n    key: ${KEY_A}\n    models: [elsewhere.model-v1:0]\n    rateLimit: 0\n  - name: m\n    key: ${KEY_B}\n`)
  const err = (() => { try { loadConfig({ API_KEYS_FILE: file, API_KEYS: 'tiny' }) } catch (e) { return e } })()
  assert.ok(err instanceof ConfigError)
  const text = err.problems.join('\n')
  for (const expected of [/API_KEYS entry 1/, /at least 20 characters/, /sha256 must be 64 hex/, /unknown fields: colour/, /elsewhere\.model-v1:0/, /rateLimit must be/, /used twice/]) assert.match(text, expected)
  for (const secret of ['tiny', 'short-secret', KEY_A, KEY_B]) assert.ok(!text.includes(secret), 'the problem list does not show keys')
  const broken = (() => { try { loadConfig({ API_KEYS_FILE: keyFile(`keys: [ { name: x, key: "${KEY_A}"`) }) } catch (e) { return e } })()
  assert.ok(broken instanceof ConfigError)
  assert.ok(!broken.message.includes(KEY_A), 'a parse error does not quote the file')
})

test('safe default: no keys off loopback refuses to start unless ALLOW_UNAUTHENTICATED=true', () => {
  assert.throws(() => loadConfig({ HOST: '0.0.0.0' }), (e: unknown) => e instanceof ConfigError && /ALLOW_UNAUTHENTICATED/.test(e.message))
  assert.throws(() => loadConfig({ HOST: '192.0.2.10' }), ConfigError)
  assert.equal(loadConfig({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED: 'true' }).security.authMode, 'open')
  assert.equal(loadConfig({ HOST: '0.0.0.0', API_KEYS: KEY_A }).security.authMode, 'keys')
  assert.equal(loadConfig({ HOST: '0.0.0.0', JWT_SECRET }).security.authMode, 'keys')
  for (const host of ['127.0.0.1', '127.0.1.1', '::1', '[::1]', 'localhost']) assert.equal(loadConfig({ HOST: host }).security.authMode, 'loopback', host)
  assert.throws(() => loadConfig({ JWT_SECRET: 'short' }), /JWT_SECRET must be at least/)
  assert.throws(() => loadConfig({ TICKET_SECRET: 'short' }), /TICKET_SECRET must be at least/)
  assert.throws(() => loadConfig({ TRUST_PROXY: 'proxy.example' }), /TRUST_PROXY/)
})

test('anonymous on loopback: a non-loopback Host (DNS rebinding) is refused; a Bearer header is not ignored', async (t) => {
  const h = await build(t)
  // fetch() will not send another Host: a raw request does, as a rebound browser would.
  const rebound = await rawRequest(`${h.url}/v1/converse-stream?prompt=hi`, { headers: { host: 'attacker.example:3000' } })
  assert.equal(rebound.status, 403)
  assert.equal(rebound.json.error.code, 'forbidden_origin')
  const withKey = await fetch(`${h.url}/v1/converse-stream?prompt=hi`, { headers: bearer(KEY_A) })
  assert.equal(withKey.status, 401)
  assert.equal(h.emulator.requests.length, 0)
  const local = await rawRequest(`${h.url}/v1/converse-stream?prompt=hi`, { headers: { host: 'localhost' } })
  assert.equal(local.status, 200)
})

test('JWT: a valid token streams and its sub is the limits key; expired, forged, sub-less tokens get 401', async (t) => {
  const h = await build(t, { env: { JWT_SECRET, JWT_AUDIENCE: 'bsp', RATE_LIMIT_MAX: '1' } })
  const now = Math.floor(Date.now() / 1000)
  const token = (claims: Record<string, unknown>, secret = JWT_SECRET): string => {
    const jwt = signJwt({ aud: 'bsp', exp: now + 60, ...claims }, secret)
    h.secrets.add(jwt)
    return jwt
  }
  const bad: Array<[string, string]> = [
    ['expired', token({ sub: 'alice', exp: now - 10 })],
    ['forged', token({ sub: 'alice' }, 'another-secret-0123456789abcdef0123456789')],
    ['no sub', token({})],
    ['wrong audience', token({ sub: 'alice', aud: 'other' })],
    ['no exp', signJwt({ sub: 'alice', aud: 'bsp' }, JWT_SECRET)],
  ]
  h.secrets.add(bad[4]?.[1] ?? '')
  for (const [name, jwt] of bad) {
    const res = await fetch(`${h.url}/v1/converse-stream?prompt=hi`, { headers: bearer(jwt) })
    assert.equal(res.status, 401, name)
    assert.equal((await errorOf(res)).code, 'unauthorized')
  }
  assert.equal(h.emulator.requests.length, 0)
  assert.equal((await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`, { headers: bearer(token({ sub: 'alice' })) })).status, 200)
  assert.equal((await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`, { headers: bearer(token({ sub: 'bob' })) })).status, 200)
  const again = await fetch(`${h.url}/v1/converse-stream?prompt=hi`, { headers: bearer(token({ sub: 'alice' })) })
  assert.equal(again.status, 429, 'alice has her own count, and it is used up')
  assert.equal(h.emulator.requests.length, 2)
})
