// toRelayEvents: every ConverseStreamOutput member Bedrock sends has a relay event, kinds
// this version does not know pass through as `delta`, a stream without messageStop or
// metadata is upstream_truncated, and the tally is filled for the log line and budgets.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime'
import { ProxyError } from '../../src/errors.js'
import type { RelayEvent } from '../../src/events.js'
import { checkComplete, mapUpstreamEvent, newTally, toJsonSafe, toUsage, type StreamTally } from '../../src/bedrock/relay-events.js'

/** The relay's loop in miniature: each upstream event through the mapper, then the completeness check. */
async function * toRelayEvents (stream: AsyncIterable<ConverseStreamOutput>, tally: StreamTally): AsyncGenerator<RelayEvent, void, undefined> {
  for await (const event of stream) {
    const out: RelayEvent[] = []
    mapUpstreamEvent(event, tally, e => out.push(e))
    yield * out
  }
  checkComplete(tally)
}

async function relay (upstream: ConverseStreamOutput[], tally = newTally()): Promise<{ events: RelayEvent[], error: unknown, tally: StreamTally }> {
  async function * source (): AsyncGenerator<ConverseStreamOutput> { yield * upstream }
  const events: RelayEvent[] = []
  try {
    for await (const e of toRelayEvents(source(), tally)) events.push(e)
  } catch (error) {
    return { events, error, tally }
  }
  return { events, error: undefined, tally }
}

const STOP = { messageStop: { stopReason: 'end_turn' } } as ConverseStreamOutput
const METADATA = { metadata: { usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 }, metrics: { latencyMs: 120 } } } as ConverseStreamOutput
const delta = (contentBlockIndex: number, d: object): ConverseStreamOutput => ({ contentBlockDelta: { contentBlockIndex, delta: d } }) as ConverseStreamOutput

test('text, block stop, stop and usage map one to one; messageStart emits nothing', async () => {
  const { events, error } = await relay([
    { messageStart: { role: 'assistant' } },
    delta(0, { text: 'Hel' }),
    delta(0, { text: 'lo' }),
    { contentBlockStop: { contentBlockIndex: 0 } },
    STOP,
    METADATA,
  ])
  assert.equal(error, undefined)
  assert.deepEqual(events, [
    { type: 'text', data: { index: 0, text: 'Hel' } },
    { type: 'text', data: { index: 0, text: 'lo' } },
    { type: 'block_stop', data: { index: 0 } },
    { type: 'stop', data: { stopReason: 'end_turn' } },
    { type: 'usage', data: { inputTokens: 3, outputTokens: 4, totalTokens: 7, latencyMs: 120 } },
  ])
})

test('reasoning: text, signature, and redacted bytes as base64', async () => {
  const bytes = new Uint8Array([0, 1, 2, 250, 255])
  const { events } = await relay([
    delta(1, { reasoningContent: { text: 'think' } }),
    delta(1, { reasoningContent: { signature: 'sig-1' } }),
    delta(2, { reasoningContent: { redactedContent: bytes } }),
    // A view into a larger buffer: only its own bytes are encoded.
    delta(2, { reasoningContent: { redactedContent: new Uint8Array([9, 9, 7, 8, 9]).subarray(2, 4) } }),
    STOP, METADATA,
  ])
  assert.deepEqual(events.slice(0, 4), [
    { type: 'reasoning', data: { index: 1, text: 'think' } },
    { type: 'reasoning', data: { index: 1, signature: 'sig-1' } },
    { type: 'reasoning', data: { index: 2, redacted: Buffer.from(bytes).toString('base64') } },
    { type: 'reasoning', data: { index: 2, redacted: Buffer.from([7, 8]).toString('base64') } },
  ])
})

test('tool use: the start block, then the input deltas; a missing input is an empty fragment', async () => {
  const { events } = await relay([
    { contentBlockStart: { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tu_1', name: 'get_weather' } } } } as ConverseStreamOutput,
    delta(1, { toolUse: { input: '{"city":' } }),
    delta(1, { toolUse: { input: '"Zürich"}' } }),
    delta(1, { toolUse: {} }),
    { contentBlockStop: { contentBlockIndex: 1 } },
    STOP, METADATA,
  ])
  assert.deepEqual(events.slice(0, 5), [
    { type: 'tool_use', data: { index: 1, toolUseId: 'tu_1', name: 'get_weather' } },
    { type: 'tool_input', data: { index: 1, input: '{"city":' } },
    { type: 'tool_input', data: { index: 1, input: '"Zürich"}' } },
    { type: 'tool_input', data: { index: 1, input: '' } },
    { type: 'block_stop', data: { index: 1 } },
  ])
})

test('citations have their own event; unknown deltas and other block starts pass through as `delta`, blobs as base64', async () => {
  const citation = { title: 'Doc', location: { documentChar: { documentIndex: 0, start: 1, end: 5 } } }
  const { events } = await relay([
    delta(0, { citation }),
    delta(0, { $unknown: ['futureKind', { x: 1 }] }),
    delta(0, { image: { format: 'png', source: { bytes: new Uint8Array([1, 2, 3]) } } }),
    { contentBlockStart: { contentBlockIndex: 3, start: { image: { format: 'png' } } } } as unknown as ConverseStreamOutput,
    STOP, METADATA,
  ])
  assert.deepEqual(events.slice(0, 4), [
    { type: 'citation', data: { index: 0, ...citation } },
    { type: 'delta', data: { index: 0, kind: 'futureKind', value: { x: 1 } } },
    { type: 'delta', data: { index: 0, kind: 'image', value: { format: 'png', source: { bytes: 'AQID' } } } },
    { type: 'delta', data: { index: 3, kind: 'blockStart', value: { image: { format: 'png' } } } },
  ])
})

test('events as the stream decoder gives them (JSON as Bedrock sent it) map like the SDK\'s: blobs already base64, unknown kinds by name', async () => {
  const { events } = await relay([
    delta(2, { reasoningContent: { redactedContent: 'AAEC+v8=' } }),
    delta(0, { futureKind: { x: 1 } }),
    delta(0, { image: { format: 'png', source: { bytes: 'AQID' } } }),
    STOP, METADATA,
  ].map(e => e as ConverseStreamOutput))
  assert.deepEqual(events.slice(0, 3), [
    { type: 'reasoning', data: { index: 2, redacted: 'AAEC+v8=' } },
    { type: 'delta', data: { index: 0, kind: 'futureKind', value: { x: 1 } } },
    { type: 'delta', data: { index: 0, kind: 'image', value: { format: 'png', source: { bytes: 'AQID' } } } },
  ])
})

test('a missing index is 0 and a missing stopReason is "unknown"; an empty delta emits nothing', async () => {
  const { events } = await relay([
    { contentBlockDelta: { delta: { text: 'a' } } } as ConverseStreamOutput,
    { contentBlockDelta: { contentBlockIndex: 4 } } as ConverseStreamOutput,
    { contentBlockStop: {} } as ConverseStreamOutput,
    { messageStop: {} } as ConverseStreamOutput,
    METADATA,
  ])
  assert.deepEqual(events.slice(0, 3), [
    { type: 'text', data: { index: 0, text: 'a' } },
    { type: 'block_stop', data: { index: 0 } },
    { type: 'stop', data: { stopReason: 'unknown' } },
  ])
})

test('metadata: cache tokens and trace are carried; absent ones are left out', async () => {
  const trace = { guardrail: { modelOutput: ['x'] } }
  const { events } = await relay([STOP, {
    metadata: { usage: { inputTokens: 10, outputTokens: 2, totalTokens: 12, cacheReadInputTokens: 100, cacheWriteInputTokens: 50 }, metrics: { latencyMs: 9 }, trace },
  } as ConverseStreamOutput])
  assert.deepEqual(events[1], { type: 'usage', data: { inputTokens: 10, outputTokens: 2, totalTokens: 12, cacheReadInputTokens: 100, cacheWriteInputTokens: 50, latencyMs: 9, trace } })
  const bare = await relay([STOP, { metadata: {} } as ConverseStreamOutput])
  assert.deepEqual(bare.events[1], { type: 'usage', data: { inputTokens: 0, outputTokens: 0, totalTokens: 0, latencyMs: 0 } })
  assert.deepEqual(toUsage(undefined), { inputTokens: 0, outputTokens: 0, totalTokens: 0 })
})

test('a stream that ends without messageStop, or without metadata, throws upstream_truncated after what it relayed', async () => {
  for (const [upstream, missing] of [
    [[delta(0, { text: 'cut' }), METADATA], 'messageStop'],
    [[delta(0, { text: 'cut' }), STOP], 'metadata'],
    [[], 'messageStop'],
  ] as const) {
    const { events, error } = await relay([...upstream])
    assert.ok(error instanceof ProxyError, String(error))
    assert.equal(error.code, 'upstream_truncated')
    assert.equal((error.cause as Error).message, `stream ended without ${missing}`)
    assert.equal(events.length, upstream.length, 'what came before is still relayed')
  }
})

test('the tally: first event time, stop reason, usage, and characters of output relayed', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_700_000_000_000 })
  const tally = newTally()
  let resume: () => void = () => {}
  const later = new Promise<void>(resolve => { resume = resolve })
  async function * source (): AsyncGenerator<ConverseStreamOutput> {
    yield delta(0, { reasoningContent: { text: 'abc' } }) // 3
    await later
    yield delta(0, { reasoningContent: { signature: 'not-counted' } })
    yield delta(1, { text: 'héllo' }) // 5
    yield delta(2, { toolUse: { input: '{}' } }) // 2
    yield delta(3, { citation: { title: 'not output' } })
    yield STOP
    yield METADATA
  }
  const relayed = toRelayEvents(source(), tally)
  await relayed.next()
  t.mock.timers.tick(5000) // later events do not move firstEventAt
  resume()
  const rest: RelayEvent[] = []
  for await (const e of relayed) rest.push(e)
  assert.deepEqual(rest.map(e => e.type), ['reasoning', 'text', 'tool_input', 'citation', 'stop', 'usage'])
  assert.deepEqual(tally, {
    firstEventAt: 1_700_000_000_000,
    stopReason: 'end_turn',
    usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7, latencyMs: 120 },
    outputChars: 10,
    sawStop: true,
    sawMetadata: true,
  })
})

test('toJsonSafe: blobs anywhere in a value become base64; other values are unchanged', () => {
  assert.deepEqual(toJsonSafe({ a: [new Uint8Array([255]), { b: new Uint8Array([]) }], n: 1, s: 's', z: null }), { a: ['/w==', { b: '' }], n: 1, s: 's', z: null })
})
