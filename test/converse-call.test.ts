// ConverseStream calls made directly (src/bedrock/converse-call.ts, issue 10): the SDK's
// parts resolved once per client, its per-call middleware pipeline skipped. The real SDK
// client against the emulator over real HTTP (which checks every signature); the
// reference is the same client sending every call through the SDK's whole pipeline
// (BEDROCK_CALLS=sdk). What a user sees must not change: the request Bedrock gets, the
// retries, the errors.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ThrottlingException, ValidationException, type BedrockRuntimeClient, type BedrockRuntimeClientConfig } from '@aws-sdk/client-bedrock-runtime'
import { openConverseStream, type ConverseStreamInput } from '../src/bedrock/converse-call.js'
import { loadConfig } from '../src/config.js'
import { textScenario, type Emulator, type Scenario } from '../src/emulator/index.js'
import { emulatorClient, startTestEmulator } from './helper.js'
import { relayOnce, SIMPLE_INPUT } from './support/relay.js'

/** A client of each kind, and a count of the calls that went through the SDK's middleware stack. */
function clients (emulator: Emulator, overrides: BedrockRuntimeClientConfig = {}): { direct: BedrockRuntimeClient, sdk: BedrockRuntimeClient, pipelineRuns: Map<BedrockRuntimeClient, number> } {
  const direct = emulatorClient(emulator, overrides)
  const sdk = emulatorClient(emulator, overrides, { bedrockCalls: 'sdk' })
  const pipelineRuns = new Map<BedrockRuntimeClient, number>()
  for (const client of [direct, sdk]) {
    pipelineRuns.set(client, 0)
    client.middlewareStack.add((next) => async (args) => {
      pipelineRuns.set(client, (pipelineRuns.get(client) ?? 0) + 1)
      return await next(args)
    }, { step: 'initialize', name: 'countPipelineRuns' })
  }
  return { direct, sdk, pipelineRuns }
}

// Every member kind the proxy can send: blobs (a Buffer and a plain Uint8Array), documents
// (tool input, JSON results, schemas, extra model fields), nested unions.
const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 255])
const rich = (modelId: string): ConverseStreamInput => ({
  modelId,
  system: [{ text: 'You are terse.' }],
  messages: [
    {
      role: 'user',
      content: [
        { text: 'Look at these ✨ "quoted" \u2028 lines\r\n' },
        { image: { format: 'png', source: { bytes: png } } },
        { document: { format: 'txt', name: 'notes', source: { bytes: new Uint8Array(Buffer.from('plain text document')) } } },
      ],
    },
    { role: 'assistant', content: [{ text: 'Looking it up.' }, { toolUse: { toolUseId: 'tool-1', name: 'lookup', input: { q: 'forty two', n: [1, 2.5, null], nested: { ok: true } } } }] },
    { role: 'user', content: [{ toolResult: { toolUseId: 'tool-1', content: [{ json: { answer: 42, list: ['a'] } }, { text: 'done' }], status: 'success' } }] },
  ],
  inferenceConfig: { maxTokens: 300, temperature: 0.5, topP: 0.9, stopSequences: ['END'] },
  toolConfig: {
    tools: [{ toolSpec: { name: 'lookup', description: 'Looks things up', inputSchema: { json: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } } } }],
    toolChoice: { auto: {} },
  },
  additionalModelRequestFields: { top_k: 5, nested: { list: [1, 2] } },
  requestMetadata: { team: 'search' },
})

test('a direct call sends Bedrock what the SDK sends: the same model id in the path, the same JSON body, correctly signed', async (t) => {
  const emulator = await startTestEmulator(t)
  const { direct, sdk } = clients(emulator)
  t.after(() => { direct.destroy(); sdk.destroy() })
  // A plain id, and an inference profile ARN (":" and "/" in a path segment).
  for (const modelId of ['test.model-v1:0', 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.test.model-v1:0']) {
    for (const client of [sdk, direct]) {
      emulator.enqueue(textScenario('an answer'))
      const { summary } = await relayOnce(client, rich(modelId))
      assert.equal(summary?.outcome, 'completed', `${modelId}: the emulator accepted the request and its signature`)
    }
    const [viaSdk, viaDirect] = emulator.requests.slice(-2)
    assert.equal(viaDirect?.modelId, modelId)
    assert.equal(viaDirect?.modelId, viaSdk?.modelId)
    assert.deepEqual(viaDirect?.body, viaSdk?.body, `${modelId}: the same body`)
    assert.equal((viaDirect?.body as { messages: Array<{ content: Array<{ image?: { source: { bytes: string } } }> }> }).messages[0]?.content[1]?.image?.source.bytes, png.toString('base64'), 'blobs as base64')
  }
})

test('direct calls skip the SDK\'s per-call middleware pipeline; BEDROCK_CALLS=sdk sends every call through it', async (t) => {
  const emulator = await startTestEmulator(t)
  const { direct, sdk, pipelineRuns } = clients(emulator)
  t.after(() => { direct.destroy(); sdk.destroy() })
  for (let i = 0; i < 3; i++) {
    for (const client of [direct, sdk]) {
      emulator.enqueue(textScenario('hello'))
      const { summary } = await relayOnce(client, SIMPLE_INPUT)
      assert.equal(summary?.outcome, 'completed')
    }
  }
  assert.equal(pipelineRuns.get(direct), 0)
  assert.equal(pipelineRuns.get(sdk), 3)
  assert.equal(loadConfig({ AWS_REGION: 'us-east-1' }).bedrockCalls, 'direct', 'direct is the default')
  assert.equal(loadConfig({ AWS_REGION: 'us-east-1', BEDROCK_CALLS: 'sdk' }).bedrockCalls, 'sdk')
  assert.throws(() => loadConfig({ AWS_REGION: 'us-east-1', BEDROCK_CALLS: 'fast' }), /BEDROCK_CALLS/)
})

test('failures are retried as the SDK retries them and end the same way, for each kind of failure', async (t) => {
  const emulator = await startTestEmulator(t)
  // Two attempts keep the backoff (the SDK's, with jitter) short.
  const { direct, sdk } = clients(emulator, { maxAttempts: 2 })
  t.after(() => { direct.destroy(); sdk.destroy() })
  const http = (status: number, type: string, message: string): Scenario => ({ httpError: { status, type, message }, steps: [] })
  const cases: Record<string, () => Scenario[]> = {
    'a 503, then an answer': () => [http(503, 'ServiceUnavailableException', 'busy'), textScenario('second try')],
    'throttled (429) on every attempt': () => [http(429, 'ThrottlingException', 'slow down'), http(429, 'ThrottlingException', 'slow down')],
    'a throttling exception in the first frame, then an answer': () => [{ steps: [{ exception: 'throttlingException', message: 'slow down' }] }, textScenario('second try')],
    'a 400 ValidationException (never retried)': () => [http(400, 'ValidationException', 'messages: too many'), textScenario('not asked for')],
    'a 403 AccessDeniedException (never retried)': () => [http(403, 'AccessDeniedException', 'no access'), textScenario('not asked for')],
  }
  for (const [name, scenarios] of Object.entries(cases)) {
    const results = []
    for (const client of [sdk, direct]) {
      emulator.reset()
      emulator.enqueue(...scenarios())
      const { events, summary } = await relayOnce(client, SIMPLE_INPUT)
      results.push({ events: events.map(e => e.type === 'usage' ? { type: 'usage' } : e), attempts: summary?.upstreamAttempts, outcome: summary?.outcome, requests: emulator.requests.length })
    }
    const [viaSdk, viaDirect] = results
    assert.deepEqual(viaDirect, viaSdk, name)
  }
  // The thrown errors are the SDK's classes, with its metadata.
  emulator.reset()
  emulator.enqueue(http(429, 'ThrottlingException', 'slow down'), http(429, 'ThrottlingException', 'slow down'))
  await assert.rejects(openConverseStream(direct, SIMPLE_INPUT, new AbortController().signal),
    (err: unknown) => err instanceof ThrottlingException && err.$metadata.attempts === 2 && err.$metadata.httpStatusCode === 429 && err.message === 'slow down')
  emulator.enqueue(http(400, 'ValidationException', 'bad input'))
  await assert.rejects(openConverseStream(direct, SIMPLE_INPUT, new AbortController().signal),
    (err: unknown) => err instanceof ValidationException && err.$metadata.attempts === 1 && err.$fault === 'client')
})

test('a host clock ten minutes slow: the first attempt is refused, the retry signs with the server\'s time', async (t) => {
  const emulator = await startTestEmulator(t)
  for (const bedrockCalls of ['sdk', 'direct'] as const) {
    const client = emulatorClient(emulator, { systemClockOffset: -10 * 60 * 1000 }, { bedrockCalls })
    t.after(() => client.destroy())
    emulator.reset()
    emulator.enqueue(textScenario('on time'))
    const { events, summary } = await relayOnce(client, SIMPLE_INPUT)
    assert.equal(summary?.outcome, 'completed', bedrockCalls)
    assert.equal(summary?.upstreamAttempts, 2, `${bedrockCalls}: one refused, one accepted`)
    assert.equal(events.filter(e => e.type === 'text').map(e => (e.data as { text: string }).text).join(''), 'on time')
  }
})

test('a client that signs with a Bedrock API key (bearer auth) goes the SDK\'s whole way', async (t) => {
  // This emulator does not check SigV4: it has no bearer keys to check.
  const emulator = await startTestEmulator(t, { credentials: undefined })
  const { direct, pipelineRuns } = clients(emulator, { token: { token: 'bedrock-api-key-for-tests' }, authSchemePreference: ['httpBearerAuth'] })
  t.after(() => direct.destroy())
  emulator.enqueue(textScenario('hello'))
  const { summary } = await relayOnce(direct, SIMPLE_INPUT)
  assert.equal(summary?.outcome, 'completed')
  assert.equal(pipelineRuns.get(direct), 1)
})
