// SigV4 on every upstream call. The emulator checks each call's signature as Bedrock does
// (src/emulator/sigv4.ts: signed again from what arrived, with the same signer the SDK
// uses); every test's emulator does, this file checks the check itself and the client's
// per-call shortcuts (issue 10: one signer and one event-stream serde per client instead
// of one per call), on each upstream connection mode.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime'
import { Sha256 } from '@smithy/core/checksum'
import { HttpRequest } from '@smithy/core/protocols'
import { SignatureV4 } from '@smithy/signature-v4'
import { build, emulatorClient, fetchSse, joinText, lastEvent, startTestEmulator, TEST_CREDENTIALS } from './helper.js'

const BODY = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hello' }] }] })

/** A request to the emulator signed by SignatureV4 as the SDK signs, then sent with fetch (body possibly changed after signing). */
async function signedCall (url: string, opts: { secret?: string, accessKeyId?: string, signedBody?: string, sentBody?: string, date?: Date, region?: string, userAgent?: string } = {}): Promise<{ status: number, type: string | null }> {
  const target = new URL('/model/test.model-v1%3A0/converse-stream', url)
  const signer = new SignatureV4({
    credentials: { accessKeyId: opts.accessKeyId ?? TEST_CREDENTIALS.accessKeyId, secretAccessKey: opts.secret ?? TEST_CREDENTIALS.secretAccessKey },
    region: opts.region ?? 'us-east-1',
    service: 'bedrock',
    sha256: Sha256,
  })
  const request = new HttpRequest({
    method: 'POST',
    protocol: 'http:',
    hostname: target.hostname,
    port: Number(target.port),
    path: target.pathname,
    headers: { host: target.host, 'content-type': 'application/json', ...(opts.userAgent !== undefined ? { 'user-agent': opts.userAgent } : {}) },
    body: opts.signedBody ?? BODY,
  })
  // A client may sign headers the SDK leaves out (user-agent); AWS checks what it names.
  const signableHeaders = opts.userAgent !== undefined ? new Set(['user-agent']) : undefined
  const signed = await signer.sign(request, { signingDate: opts.date ?? new Date(), signableHeaders })
  const headers = { ...signed.headers }
  delete headers.host // fetch sets it itself (the same value)
  const res = await fetch(target, { method: 'POST', headers, body: opts.sentBody ?? opts.signedBody ?? BODY })
  await res.arrayBuffer()
  return { status: res.status, type: res.headers.get('x-amzn-errortype') }
}

test('the emulator accepts a correct signature and refuses what Bedrock refuses, with its error types', async (t) => {
  const emulator = await startTestEmulator(t)
  assert.deepEqual(await signedCall(emulator.url), { status: 200, type: null })
  assert.deepEqual(await signedCall(emulator.url, { secret: 'not-the-secret' }), { status: 403, type: 'InvalidSignatureException' })
  assert.deepEqual(await signedCall(emulator.url, { accessKeyId: 'AKIDUNKNOWN' }), { status: 403, type: 'UnrecognizedClientException' })
  assert.deepEqual(await signedCall(emulator.url, { sentBody: BODY.replace('hello', 'HELLO') }), { status: 403, type: 'InvalidSignatureException' }, 'a body changed after signing')
  assert.deepEqual(await signedCall(emulator.url, { region: 'eu-west-1' }), { status: 200, type: null }, 'the region is the one the signature names')
  assert.deepEqual(await signedCall(emulator.url, { userAgent: 'signing-test/1.0' }), { status: 200, type: null }, 'a signed user-agent')
  assert.deepEqual(await signedCall(emulator.url, { date: new Date(Date.now() - 20 * 60_000) }), { status: 403, type: 'InvalidSignatureException' }, 'a signature 20 minutes old')
  const unsigned = await fetch(`${emulator.url}/model/m/converse-stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY })
  assert.equal(unsigned.status, 403)
  assert.equal(unsigned.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException')
  // Refused calls are logged as errors, before any scenario plays.
  assert.deepEqual(emulator.requests.map(r => r.outcome), ['completed', 'error', 'error', 'error', 'completed', 'completed', 'error', 'error'])
})

for (const mode of ['http1', 'http2', 'http2-shared'] as const) {
  test(`${mode}: every call is signed correctly, the first and every later one, one after another and side by side`, async (t) => {
    const h = await build(t, { env: { BEDROCK_HTTP: mode, MAX_STREAMS_PER_KEY: '20' } })
    const one = async (i: number): Promise<void> => {
      const res = await fetchSse(`${h.url}/v1/converse-stream?prompt=${encodeURIComponent(`call ${i}`)}`)
      assert.equal(lastEvent(res.events)?.event, 'done', `call ${i}: ${JSON.stringify(res.events.at(-1))}`)
      assert.match(joinText(res.events), new RegExp(`call ${i}`))
    }
    for (let i = 0; i < 3; i++) await one(i)
    await Promise.all([3, 4, 5, 6, 7].map(one))
    assert.equal(h.emulator.requests.length, 8)
    assert.ok(h.emulator.requests.every(r => r.outcome === 'completed'))
  })
}

test('a wrong secret: the emulator refuses the call and the stream gets an upstream_denied error event, no text', async (t) => {
  const h = await build(t, { client: { credentials: { accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: 'wrong-secret' } } })
  h.secrets.add('wrong-secret')
  for (let i = 0; i < 2; i++) {
    const res = await fetchSse(`${h.url}/v1/converse-stream?prompt=hi`)
    const error = res.events.find(e => e.event === 'error')
    assert.ok(error !== undefined, `an error event: ${JSON.stringify(res.events)}`)
    assert.equal((error.data as { code: string }).code, 'upstream_denied')
    assert.ok(!res.events.some(e => e.event === 'text'))
  }
  assert.ok(h.emulator.requests.every(r => r.outcome === 'error'))
})

test('the client reuses one signer and one event-stream serde for all its calls (the SDK builds them per call)', async (t) => {
  const emulator = await startTestEmulator(t)
  const ours = emulatorClient(emulator)
  const plain = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: emulator.url, credentials: TEST_CREDENTIALS })
  t.after(() => { ours.destroy(); plain.destroy() })
  const built = async (client: BedrockRuntimeClient): Promise<{ signers: unknown[], serdes: unknown[] }> => {
    const signers: unknown[] = []
    const serdes: unknown[] = []
    const config = client.config as unknown as { signer: (a?: unknown) => Promise<unknown> }
    const protocol = client.config.protocol as unknown as { loadEventStreamCapability: () => Promise<unknown> }
    const signer = config.signer
    const load = protocol.loadEventStreamCapability
    config.signer = async (a) => { const s = await signer(a); signers.push(s); return s }
    protocol.loadEventStreamCapability = async function (this: unknown) { const s = await load.call(this); serdes.push(s); return s }
    for (let i = 0; i < 3; i++) {
      const out = await client.send(new ConverseStreamCommand({ modelId: 'test.model-v1:0', messages: [{ role: 'user', content: [{ text: `hello ${i}` }] }] }))
      let events = 0
      for await (const event of out.stream ?? []) if (event !== undefined) events++
      assert.ok(events > 2, `call ${i}: ${events} events`)
    }
    return { signers, serdes }
  }
  const mine = await built(ours)
  assert.equal(mine.signers.length, 3)
  assert.equal(new Set(mine.signers).size, 1, 'one signer for every call')
  assert.equal(mine.serdes.length, 3)
  assert.equal(new Set(mine.serdes).size, 1, 'one event-stream serde for every call')
  // What the shortcut saves: the SDK alone builds both again for every call.
  const sdk = await built(plain)
  assert.equal(new Set(sdk.signers).size, 3)
  assert.equal(new Set(sdk.serdes).size, 3)
  assert.ok(emulator.requests.every(r => r.outcome === 'completed'))
})
