// The upstream event stream decoded by the proxy itself (src/bedrock/upstream-stream.ts,
// issue 10): the real SDK over real HTTP (the emulator, and a raw server where the test
// needs to cut frames at odd places). The decoder must give the relay exactly what the
// SDK's own decoding gives, on HTTP/1.1 and HTTP/2, faults included.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test, type TestContext } from 'node:test'
import { ConverseStreamCommand, ThrottlingException, type BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'
import { eventStreamSerdeProvider as sdkEventStreamSerde } from '@smithy/core/event-streams'
import { UpstreamEventStream } from '../src/bedrock/upstream-stream.js'
import { createBedrockClient } from '../src/bedrock/client.js'
import { encodeEventFrame, encodeExceptionFrame, messageScenario, textScenario, type Emulator, type Scenario } from '../src/emulator/index.js'
import { emulatorClient, startTestEmulator } from './helper.js'
import { relayOnce } from './support/relay.js'

/** The same call through the SDK's own event-stream decoding: the reference. */
function sdkDecodingClient (emulator: Emulator, http: 'http1' | 'http2'): BedrockRuntimeClient {
  return emulatorClient(emulator, { eventStreamSerdeProvider: sdkEventStreamSerde }, { bedrockHttp: http, bedrockCalls: 'sdk' })
}

const blobs = Buffer.from([0, 1, 2, 250, 255])
const SCENARIOS: Record<string, () => Scenario> = {
  'every block kind, cache usage and a trace': () => messageScenario([
    { reasoning: { text: 'Let me think… ✨', signature: 'sig-abc' } },
    { redactedReasoning: blobs },
    { text: 'Line one\nline two\r\nthree\u2028 🧑‍💻', citations: [{ title: 'Doc', location: { documentChar: { documentIndex: 0, start: 1, end: 5 } } }] },
    { toolUse: { toolUseId: 't-1', name: 'lookup', input: '{"q":"forty two"}' } },
  ], { usage: { inputTokens: 30, outputTokens: 20, cacheReadInputTokens: 5, cacheWriteInputTokens: 7 }, trace: { guardrail: { modelOutput: ['x'] } }, serviceTier: { type: 'priority' } }),
  'kinds this SDK does not model, and an image delta': () => ({
    steps: [
      { event: { messageStart: { role: 'assistant' } } },
      { event: { contentBlockDelta: { contentBlockIndex: 0, delta: { futureKind: { x: 1 } } } } },
      { event: { contentBlockDelta: { contentBlockIndex: 1, delta: { image: { source: { bytes: 'AQID' } } } } } },
      { event: { contentBlockStart: { contentBlockIndex: 2, start: { image: { format: 'png' } } } } },
      { event: { futureEvent: { y: 2 } } },
      { event: { messageStop: { stopReason: 'end_turn' } } },
      { event: { metadata: { usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 }, metrics: { latencyMs: 9 } } } },
    ],
  }),
  'an exception frame mid-stream': () => ({
    steps: [...textScenario('partial answer').steps.slice(0, 3), { exception: 'modelStreamErrorException', message: 'model broke' }],
  }),
  'a throttling exception mid-stream': () => ({
    steps: [...textScenario('partial answer').steps.slice(0, 3), { exception: 'throttlingException', message: 'slow down' }],
  }),
  'a clean end without messageStop': () => ({ steps: [...textScenario('cut short').steps.slice(0, 3), { end: true }] }),
  'a reset mid-stream': () => ({ steps: [...textScenario('cut short').steps.slice(0, 3), { reset: true }] }),
}

for (const http of ['http1', 'http2'] as const) {
  test(`${http}: the proxy's decoder relays exactly what the SDK's decoding relays, for every kind of stream`, async (t) => {
    const emulator = await startTestEmulator(t)
    const ours = emulatorClient(emulator, {}, { bedrockHttp: http })
    const reference = sdkDecodingClient(emulator, http)
    t.after(() => { ours.destroy(); reference.destroy() })
    for (const [name, scenario] of Object.entries(SCENARIOS)) {
      emulator.enqueue(scenario(), scenario())
      const a = await relayOnce(ours)
      const b = await relayOnce(reference)
      assert.deepEqual(a.events, b.events, `${name}: the same events`)
      assert.equal(a.summary?.outcome, b.summary?.outcome, `${name}: the same outcome`)
      assert.equal(a.summary?.errorCode, b.summary?.errorCode, `${name}: the same error code`)
      assert.ok(a.events.length > 2, `${name}: relayed something`)
    }
  })

  test(`${http}: the stream the SDK returns is the proxy's decoder, and a generic reader still gets every event once`, async (t) => {
    const emulator = await startTestEmulator(t)
    const client = emulatorClient(emulator, {}, { bedrockHttp: http })
    t.after(() => client.destroy())
    emulator.enqueue(textScenario('hello there, general'))
    const response = await client.send(new ConverseStreamCommand({ modelId: 'm', messages: [{ role: 'user', content: [{ text: 'hi' }] }] }))
    assert.ok(response.stream instanceof UpstreamEventStream, 'the relay takes the fast path')
    const kinds: string[] = []
    let text = ''
    for await (const event of response.stream) {
      kinds.push(Object.keys(event)[0] ?? '')
      text += event.contentBlockDelta?.delta?.text ?? ''
    }
    assert.equal(kinds[0], 'messageStart', 'the first event, which the SDK pulled, comes once')
    assert.equal(kinds.filter(k => k === 'messageStart').length, 1)
    assert.deepEqual(kinds.slice(-3), ['contentBlockStop', 'messageStop', 'metadata'])
    assert.equal(text, 'hello there, general')
  })
}

test('a throttling exception in the first frame is retried by the SDK, and thrown as its class when retries run out', async (t) => {
  const emulator = await startTestEmulator(t)
  const client = emulatorClient(emulator, { maxAttempts: 2 })
  t.after(() => client.destroy())
  const throttled = (): Scenario => ({ steps: [{ exception: 'throttlingException', message: 'slow down' }] })
  emulator.enqueue(throttled(), textScenario('after a retry'))
  const retried = await relayOnce(client)
  assert.equal(retried.summary?.outcome, 'completed')
  assert.equal(retried.summary?.upstreamAttempts, 2)
  assert.equal(retried.events.filter(e => e.type === 'text').map(e => (e.data as { text: string }).text).join(''), 'after a retry')

  emulator.enqueue(throttled(), throttled())
  await assert.rejects(client.send(new ConverseStreamCommand({ modelId: 'm', messages: [{ role: 'user', content: [{ text: 'hi' }] }] })),
    (err: unknown) => err instanceof ThrottlingException && err.$metadata.attempts === 2)
})

// A raw HTTP/1.1 server writing event-stream bytes exactly as the test cuts them.
async function rawUpstream (t: TestContext, chunks: Buffer[]): Promise<BedrockRuntimeClient> {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' })
      let i = 0
      const next = (): void => {
        const chunk = chunks[i++]
        if (chunk === undefined) { res.end(); return }
        res.write(chunk, () => setImmediate(next))
      }
      next()
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const client = createBedrockClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bedrockHttp: 'http1' }, {
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
    maxAttempts: 1,
  })
  t.after(() => { client.destroy(); server.closeAllConnections(); server.close() })
  return client
}

function framesOf (scenario: Scenario): Buffer {
  const frames: Uint8Array[] = []
  for (const step of scenario.steps) {
    if ('event' in step) {
      const [type, payload] = Object.entries(step.event)[0] ?? ['', {}]
      frames.push(encodeEventFrame(type, payload))
    } else if ('exception' in step) {
      frames.push(encodeExceptionFrame(step.exception, step.message ?? ''))
    }
  }
  return Buffer.concat(frames)
}

function cut (bytes: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = []
  let offset = 0
  for (let i = 0; offset < bytes.length; i++) {
    const size = sizes[i % sizes.length] ?? 1
    out.push(bytes.subarray(offset, offset + size))
    offset += size
  }
  return out
}

test('frames cut anywhere across chunks, or many to a chunk, decode to the same events', async (t) => {
  const text = 'Wörter 🧑‍💻 across\r\nframes'
  const bytes = framesOf(textScenario(text, { chunkChars: 3 }))
  const cuts: Record<string, Buffer[]> = {
    'one byte at a time': cut(bytes, [1]),
    'odd sizes that split prelude, headers and body': cut(bytes, [3, 7, 50, 2, 131]),
    'everything in one chunk': [bytes],
  }
  for (const [name, chunks] of Object.entries(cuts)) {
    const { events, summary } = await relayOnce(await rawUpstream(t, chunks))
    assert.equal(summary?.outcome, 'completed', name)
    assert.equal(events.filter(e => e.type === 'text').map(e => (e.data as { text: string }).text).join(''), text, name)
    assert.deepEqual(events.slice(-3).map(e => e.type), ['stop', 'usage', 'done'], name)
  }
})

test('a corrupt frame, or a body that ends inside a frame, is an error event after the text so far (and a partial usage), never a completion', async (t) => {
  const bytes = framesOf(textScenario('some text here', { chunkChars: 4 }))
  const first = bytes.readUInt32BE(0)
  const second = bytes.readUInt32BE(first)
  const corrupt = Buffer.from(bytes)
  corrupt[first + second + 20] = (corrupt[first + second + 20] ?? 0) ^ 0xff // inside the third frame: its CRC no longer matches
  const cases: Record<string, Buffer[]> = {
    'a corrupt frame': [corrupt],
    'a body that ends inside a frame': [bytes.subarray(0, bytes.length - 5)],
  }
  for (const [name, chunks] of Object.entries(cases)) {
    const { events, summary } = await relayOnce(await rawUpstream(t, chunks))
    assert.equal(summary?.outcome, 'error', name)
    // The text before it was relayed, then the error, then usage estimated from it (marked partial).
    assert.ok(events.some(e => e.type === 'text'), `${name}: the text before it was relayed`)
    assert.deepEqual(events.slice(-3).map(e => e.type), ['error', 'usage', 'done'], name)
    assert.equal((events.at(-2)?.data as { partial?: boolean }).partial, true, name)
  }
})
