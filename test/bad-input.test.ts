// Bad input is refused before Bedrock is called: 4xx with { error: { code, message } }.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { build } from './helper.js'

interface Case {
  name: string
  method?: 'GET' | 'POST'
  path?: string
  query?: string
  body?: string
  contentType?: string
  status: number
  code: string
  message?: RegExp
}

const big = JSON.stringify({ prompt: 'x'.repeat(4096) })

const CASES: Case[] = [
  { name: 'invalid JSON', body: '{"prompt": "hi"', status: 400, code: 'bad_request' },
  { name: 'empty body', body: '', status: 400, code: 'bad_request' },
  { name: 'a JSON array', body: '[]', status: 400, code: 'bad_request' },
  { name: 'neither prompt nor messages', body: '{}', status: 400, code: 'bad_request', message: /exactly one/ },
  { name: 'both prompt and messages', body: JSON.stringify({ prompt: 'a', messages: [{ role: 'user', content: 'b' }] }), status: 400, code: 'bad_request', message: /exactly one/ },
  // The guardrail and requestMetadata are the server's: a client can neither set nor turn them off.
  { name: 'unknown field (guardrailConfig)', body: JSON.stringify({ prompt: 'a', guardrailConfig: { guardrailIdentifier: 'none' } }), status: 400, code: 'bad_request', message: /additional properties/ },
  { name: 'unknown field (requestMetadata)', body: JSON.stringify({ prompt: 'a', requestMetadata: { proxyKey: 'someone-else' } }), status: 400, code: 'bad_request', message: /additional properties/ },
  { name: 'toolConfig without tools', body: JSON.stringify({ prompt: 'a', toolConfig: { tools: [] } }), status: 400, code: 'bad_request' },
  { name: 'additionalModelRequestFields key not allowed', body: JSON.stringify({ prompt: 'a', additionalModelRequestFields: { top_k: 5 } }), status: 400, code: 'option_not_allowed', message: /top_k/ },
  { name: 'wrong type: maxTokens as string', body: JSON.stringify({ prompt: 'a', maxTokens: '100' }), status: 400, code: 'bad_request', message: /maxTokens/ },
  { name: 'wrong type: prompt as number', body: JSON.stringify({ prompt: 5 }), status: 400, code: 'bad_request' },
  { name: 'empty prompt', body: JSON.stringify({ prompt: '' }), status: 400, code: 'bad_request' },
  { name: 'maxTokens zero', body: JSON.stringify({ prompt: 'a', maxTokens: 0 }), status: 400, code: 'bad_request' },
  { name: 'temperature out of range', body: JSON.stringify({ prompt: 'a', temperature: 3 }), status: 400, code: 'bad_request' },
  { name: 'bad role', body: JSON.stringify({ messages: [{ role: 'system', content: 'x' }] }), status: 400, code: 'bad_request' },
  { name: 'empty messages', body: JSON.stringify({ messages: [] }), status: 400, code: 'bad_request' },
  { name: 'unknown content block', body: JSON.stringify({ messages: [{ role: 'user', content: [{ video: {} }] }] }), status: 400, code: 'bad_request' },
  { name: 'image with a bad format', body: JSON.stringify({ messages: [{ role: 'user', content: [{ image: { format: 'bmp', source: { bytes: 'AAAA' } } }] }] }), status: 400, code: 'bad_request' },
  { name: 'image bytes not base64', body: JSON.stringify({ messages: [{ role: 'user', content: [{ image: { format: 'png', source: { bytes: 'not base64!' } } }] }] }), status: 400, code: 'bad_request', message: /base64/ },
  { name: 'model outside the allowlist', body: JSON.stringify({ prompt: 'a', model: 'anthropic.claude-opus-4-v1:0' }), status: 400, code: 'model_not_allowed' },
  { name: 'body over the limit', body: big, status: 413, code: 'body_too_large' },
  { name: 'text/plain body', body: '{"prompt":"a"}', contentType: 'text/plain', status: 415, code: 'unsupported_media_type' },
  { name: 'GET without prompt', method: 'GET', query: '', status: 400, code: 'bad_request', message: /prompt/ },
  { name: 'GET with an unknown parameter', method: 'GET', query: 'prompt=a&toolConfig=x', status: 400, code: 'bad_request' },
  { name: 'GET with maxTokens not a number', method: 'GET', query: 'prompt=a&maxTokens=lots', status: 400, code: 'bad_request' },
  { name: 'GET with a model outside the allowlist', method: 'GET', query: 'prompt=a&model=other.model-v1:0', status: 400, code: 'model_not_allowed' },
  { name: 'unknown route', method: 'GET', path: '/v1/nope', query: '', status: 404, code: 'not_found' },
]

for (const c of CASES) {
  for (const path of c.path !== undefined ? [c.path] : c.method === 'GET' ? ['/v1/converse-stream'] : ['/v1/converse-stream', '/v1/converse']) {
    test(`${c.method ?? 'POST'} ${path}: ${c.name} -> ${c.status} ${c.code}, Bedrock not called`, async (t) => {
      const h = await build(t, { env: { BODY_LIMIT_BYTES: '2048' } })
      const res = c.method === 'GET'
        ? await fetch(`${h.url}${path}?${c.query ?? ''}`)
        : await fetch(`${h.url}${path}`, { method: 'POST', headers: { 'content-type': c.contentType ?? 'application/json' }, body: c.body ?? '' })
      assert.equal(res.status, c.status)
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
      const body = await res.json() as { error: { code: string, message: string } }
      assert.equal(body.error.code, c.code)
      assert.equal(typeof body.error.message, 'string')
      if (c.message !== undefined) assert.match(body.error.message, c.message)
      assert.equal(h.emulator.requests.length, 0, 'Bedrock was not called')
    })
  }
}

test('an allowed non-default model passes and reaches Bedrock', async (t) => {
  const h = await build(t, { env: { BEDROCK_ALLOWED_MODELS: 'other.model-v1:0' } })
  const res = await fetch(`${h.url}/v1/converse-stream?prompt=a&model=other.model-v1:0`)
  assert.equal(res.status, 200)
  await res.text()
  assert.equal(h.emulator.requests[0]?.modelId, 'other.model-v1:0')
})
