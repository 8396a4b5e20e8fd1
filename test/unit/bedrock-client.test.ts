// The Bedrock client (bedrock/client.ts): what one call keeps while it waits. The SDK holds
// the request until the response ends, which for a stream waiting on a slow first token
// is its whole life (issue 10).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime'
import { createBedrockClient } from '../../src/bedrock/client.js'

test('the request body a waiting call holds is its own bytes, not a view that pins a 64 KiB Buffer pool slab', async () => {
  const client = createBedrockClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', bedrockHttp: 'http1' }, {
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
  })
  let sent: unknown
  // The last step before the wire: what the handler would write, and keep until the end.
  client.middlewareStack.add(() => async (args) => {
    sent = (args.request as { body?: unknown }).body
    throw new Error('captured')
  }, { step: 'finalizeRequest', priority: 'low', name: 'captureBody' })
  const prompt = 'hello'
  await assert.rejects(client.send(new ConverseStreamCommand({ modelId: 'm', messages: [{ role: 'user', content: [{ text: prompt }] }] })), /captured/)
  client.destroy()
  const text = typeof sent === 'string' ? sent : sent instanceof Uint8Array ? Buffer.from(sent).toString() : ''
  assert.match(text, /"hello"/, 'the body is the request')
  const heldBytes = typeof sent === 'string' ? Buffer.byteLength(sent) : sent instanceof Uint8Array ? sent.buffer.byteLength : 0
  assert.ok(heldBytes <= Buffer.byteLength(text), `a body of ${Buffer.byteLength(text)} bytes keeps ${heldBytes} bytes alive`)
})
