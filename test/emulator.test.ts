// The emulator against the real, unmodified AWS SDK: over h2c (the SDK default) and HTTP/1.1.
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import {
  AccessDeniedException, BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, InternalServerException,
  ModelNotReadyException, ModelStreamErrorException, ResourceNotFoundException, ServiceUnavailableException,
  ThrottlingException, ValidationException, type BedrockRuntimeClientConfig, type ConverseStreamOutput,
} from '@aws-sdk/client-bedrock-runtime'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import {
  chunkCodePoints, messageScenario, startEmulator, textScenario, TRICKY_TEXT,
  type Emulator, type EmulatorOptions, type Scenario, type StreamExceptionType,
} from '../src/emulator/index.js'

const MODEL_ID = 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-x:0'
const T = { timeout: 15_000 }

/** A fresh emulator on port 0; any warning it logs (a failing scenario, a crash path) fails the test. */
async function setup (t: TestContext, opts: EmulatorOptions = {}): Promise<Emulator> {
  const warnings: object[] = []
  const logger = { info: () => {}, warn: (obj: object) => { warnings.push(obj) } }
  const emu = await startEmulator({ frameDelayMs: 0, logger, ...opts })
  t.after(async () => {
    await emu.close()
    assert.deepEqual(warnings, [])
  })
  return emu
}

function sdk (t: TestContext, emu: Emulator, config: Partial<BedrockRuntimeClientConfig> = {}): BedrockRuntimeClient {
  const client = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: emu.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    ...config,
  })
  t.after(() => client.destroy())
  return client
}
const h1 = (): Partial<BedrockRuntimeClientConfig> => ({ requestHandler: new NodeHttpHandler() })

function input (prompt = 'hello'): { modelId: string, messages: Array<{ role: 'user', content: Array<{ text: string }> }> } {
  return { modelId: MODEL_ID, messages: [{ role: 'user', content: [{ text: prompt }] }] }
}

interface Collected { events: ConverseStreamOutput[], error?: unknown }

/** Sends ConverseStream and iterates it to the end, keeping the error thrown while iterating; `onEvent` sees each event as it arrives. */
async function collect (client: BedrockRuntimeClient, prompt?: string, signal?: AbortSignal, onEvent?: (event: ConverseStreamOutput) => void): Promise<Collected> {
  const res = await client.send(new ConverseStreamCommand(input(prompt)), { abortSignal: signal ?? AbortSignal.timeout(10_000) })
  assert.ok(res.stream)
  const events: ConverseStreamOutput[] = []
  try {
    for await (const event of res.stream) { events.push(event); onEvent?.(event) }
  } catch (error) {
    return { events, error }
  }
  return { events }
}

/** Collects in the background; `firstEvent` resolves once the client has the first event (the emulator is past it). */
function collectInBackground (client: BedrockRuntimeClient, signal?: AbortSignal): { running: Promise<Collected>, firstEvent: Promise<void> } {
  let arrived: () => void = () => {}
  const firstEvent = new Promise<void>(resolve => { arrived = resolve })
  return { running: collect(client, 'wait', signal, () => arrived()), firstEvent }
}

const names = (events: ConverseStreamOutput[]): string[] => events.map((e) => Object.keys(e).join('+'))
const text = (events: ConverseStreamOutput[]): string => events.map((e) => e.contentBlockDelta?.delta?.text ?? '').join('')

for (const protocol of ['h2', 'http/1.1'] as const) {
  test(`text stream over ${protocol}: event order, text, usage and the request log`, T, async (t) => {
    const emu = await setup(t)
    const client = sdk(t, emu, protocol === 'h2' ? {} : h1())
    emu.enqueue(textScenario('Hello there, streaming world!', { chunkChars: 5, usage: { inputTokens: 7, outputTokens: 9 } }))
    const { events, error } = await collect(client, 'say hi')
    assert.equal(error, undefined)
    assert.deepEqual(names(events), [
      'messageStart', ...Array(6).fill('contentBlockDelta'), 'contentBlockStop', 'messageStop', 'metadata',
    ])
    assert.equal(text(events), 'Hello there, streaming world!')
    assert.equal(events.at(-2)?.messageStop?.stopReason, 'end_turn')
    assert.deepEqual(events.at(-1)?.metadata?.usage, { inputTokens: 7, outputTokens: 9, totalTokens: 16 })
    assert.equal(await emu.waitForOutcome(1), 'completed')
    const [req] = emu.requests
    assert.equal(req?.protocol, protocol)
    assert.equal(req?.operation, 'converse-stream')
    assert.equal(req?.modelId, MODEL_ID)
    assert.deepEqual(req?.body, { messages: input('say hi').messages })
  })
}

test('reasoning text, signature and redacted bytes round-trip', T, async (t) => {
  const emu = await setup(t)
  const redacted = Uint8Array.from([0, 1, 2, 254, 255, 10, 13])
  emu.enqueue(messageScenario([
    { reasoning: { text: 'Let me think… 🤔 step by step.', signature: 'sig-abc' } },
    { redactedReasoning: redacted },
    { text: 'Answer.' },
  ], { chunkChars: 4 }))
  const { events, error } = await collect(sdk(t, emu))
  assert.equal(error, undefined)
  const deltas = events.flatMap((e) => (e.contentBlockDelta ? [e.contentBlockDelta] : []))
  const reasoning = deltas.filter((d) => d.contentBlockIndex === 0).map((d) => d.delta?.reasoningContent?.text ?? '').join('')
  assert.equal(reasoning, 'Let me think… 🤔 step by step.')
  assert.equal(deltas.find((d) => d.delta?.reasoningContent?.signature)?.delta?.reasoningContent?.signature, 'sig-abc')
  const bytes = deltas.find((d) => d.contentBlockIndex === 1)?.delta?.reasoningContent?.redactedContent
  assert.ok(bytes instanceof Uint8Array)
  assert.deepEqual(Buffer.from(bytes), Buffer.from(redacted))
  assert.equal(text(events), 'Answer.')
})

test('tool use: contentBlockStart, chunked JSON input, stopReason tool_use', T, async (t) => {
  const emu = await setup(t)
  const toolInput = JSON.stringify({ city: 'Zürich', days: [1, 2, 3] })
  emu.enqueue(messageScenario([{ text: 'Checking.' }, { toolUse: { toolUseId: 'tu_1', name: 'get_weather', input: toolInput } }], { chunkChars: 5 }))
  const { events } = await collect(sdk(t, emu))
  const start = events.find((e) => e.contentBlockStart)?.contentBlockStart
  assert.deepEqual(start, { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tu_1', name: 'get_weather' } } })
  const chunks = events.flatMap((e) => (e.contentBlockDelta?.delta?.toolUse ? [e.contentBlockDelta.delta.toolUse.input] : []))
  assert.ok(chunks.length > 1)
  assert.equal(chunks.join(''), toolInput)
  assert.equal(events.find((e) => e.messageStop)?.messageStop?.stopReason, 'tool_use')
})

const streamExceptions: Array<[StreamExceptionType, new (...args: never[]) => Error]> = [
  ['internalServerException', InternalServerException],
  ['modelStreamErrorException', ModelStreamErrorException],
  ['validationException', ValidationException],
  ['throttlingException', ThrottlingException],
  ['serviceUnavailableException', ServiceUnavailableException],
]
for (const [type, ErrorClass] of streamExceptions) {
  test(`in-stream ${type} is thrown as ${ErrorClass.name} while iterating`, T, async (t) => {
    const emu = await setup(t)
    const partial = textScenario('Partial answer').steps.slice(0, 2)
    emu.enqueue({ steps: [...partial, { exception: type, message: `boom ${type}` }] })
    const { events, error } = await collect(sdk(t, emu))
    assert.deepEqual(names(events), ['messageStart', 'contentBlockDelta'])
    assert.ok(error instanceof ErrorClass, `got ${String(error)}`)
    assert.equal(error.message, `boom ${type}`)
    assert.equal(await emu.waitForOutcome(1), 'completed')
  })
}

test('a throttlingException as the first frame makes send() retry, then reject', T, async (t) => {
  const emu = await setup(t)
  const scenario: Scenario = { steps: [{ exception: 'throttlingException', message: 'slow down' }] }
  emu.enqueue(scenario, scenario, scenario)
  await assert.rejects(collect(sdk(t, emu)), ThrottlingException)
  assert.equal(emu.requests.length, 3) // send() awaits the first frame, so the default 3 attempts apply
})

const httpErrors: Array<[number, string, new (...args: never[]) => Error]> = [
  [429, 'ThrottlingException', ThrottlingException],
  [400, 'ValidationException', ValidationException],
  [403, 'AccessDeniedException', AccessDeniedException],
  [404, 'ResourceNotFoundException', ResourceNotFoundException],
  [429, 'ModelNotReadyException', ModelNotReadyException],
  [500, 'InternalServerException', InternalServerException],
  [503, 'ServiceUnavailableException', ServiceUnavailableException],
]
for (const [status, type, ErrorClass] of httpErrors) {
  test(`HTTP ${status} ${type} before the stream: send() rejects with ${ErrorClass.name}`, T, async (t) => {
    const emu = await setup(t)
    emu.enqueue({ httpError: { status, type, message: `no: ${type}` }, steps: [] })
    const client = sdk(t, emu, { maxAttempts: 1 })
    const err = await collect(client).then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof ErrorClass, `got ${String(err)}`)
    assert.equal(err.name, type)
    assert.equal(err.message, `no: ${type}`)
    assert.equal((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, status)
    assert.equal(await emu.waitForOutcome(1), 'error')
    assert.equal(emu.requests.length, 1)
  })
}

test('a malformed scenario is refused where it is enqueued, and a responder\'s answers with a 500, never a hang', T, async (t) => {
  const warnings: object[] = []
  const emu = await startEmulator({ frameDelayMs: 0, logger: { info: () => {}, warn: (obj: object) => { warnings.push(obj) } } })
  t.after(() => emu.close())
  // httpError belongs on the scenario; inside a step it used to be played as nothing at all.
  const misplaced = { steps: [{ httpError: { status: 429, type: 'ThrottlingException' } }] } as unknown as Scenario
  assert.throws(() => emu.enqueue(misplaced), /step 0 must have exactly one of event, exception/)
  assert.throws(() => emu.enqueue({ steps: [{ end: true, hang: true }] } as unknown as Scenario), /step 0/)
  assert.equal(emu.requests.length, 0)
  emu.setResponder(() => misplaced)
  await assert.rejects(collect(sdk(t, emu, { maxAttempts: 1 })), { name: 'InternalServerException' })
  assert.equal(await emu.waitForOutcome(1), 'error')
  assert.equal(warnings.length, 1, 'the emulator logged why')
})

test('HTTP 429 is retried by the SDK: 3 requests with default maxAttempts', T, async (t) => {
  const emu = await setup(t)
  emu.setResponder(() => ({ httpError: { status: 429, type: 'ThrottlingException' }, steps: [] }))
  await assert.rejects(collect(sdk(t, emu)), { name: 'ThrottlingException' })
  assert.equal(emu.requests.length, 3)
})

for (const protocol of ['h2', 'http/1.1'] as const) {
  test(`end step over ${protocol}: iteration stops early, no messageStop`, T, async (t) => {
    const emu = await setup(t)
    emu.enqueue({ steps: [...textScenario('cut short').steps.slice(0, 2), { end: true }] })
    const { events, error } = await collect(sdk(t, emu, protocol === 'h2' ? {} : h1()))
    assert.equal(error, undefined) // a clean end is silent on both: only the missing messageStop tells
    assert.deepEqual(names(events), ['messageStart', 'contentBlockDelta'])
    assert.equal(await emu.waitForOutcome(1), 'completed')
  })

  test(`reset step over ${protocol}: iteration ends or throws, never hangs`, T, async (t) => {
    const emu = await setup(t)
    emu.enqueue({ steps: [...textScenario('about to drop').steps.slice(0, 2), { delayMs: 20 }, { reset: true }] })
    const { events, error } = await collect(sdk(t, emu, protocol === 'h2' ? {} : h1()))
    assert.ok(!names(events).includes('messageStop'))
    t.diagnostic(`${protocol} reset: ${events.length} events, error=${error === undefined ? 'none' : String(error)}`)
    assert.equal(await emu.waitForOutcome(1), 'reset')
  })

  test(`hang, then client abort over ${protocol}: recorded as aborted`, T, async (t) => {
    const emu = await setup(t)
    emu.enqueue({ steps: [{ event: { messageStart: { role: 'assistant' } } }, { hang: true }] })
    const ac = new AbortController()
    const { running, firstEvent } = collectInBackground(sdk(t, emu, protocol === 'h2' ? {} : h1()), ac.signal)
    await firstEvent // the emulator is in its hang step
    const abortedAt = Date.now()
    ac.abort()
    const { events, error } = await running
    assert.deepEqual(names(events), ['messageStart'])
    t.diagnostic(`${protocol} abort: ${events.length} events, error=${String(error)}`)
    assert.equal(await emu.waitForOutcome(1, 1000), 'aborted')
    // How fast it was noticed is a measurement, not a pass/fail (timings belong in the benchmark).
    t.diagnostic(`${protocol} abort noticed after ${(emu.requests[0]?.endedAt ?? Infinity) - abortedAt} ms`)
  })
}

test('reset with scope connection over h2: the SDK iteration ends silently', T, async (t) => {
  const emu = await setup(t)
  emu.enqueue({ steps: [...textScenario('about to drop').steps.slice(0, 2), { delayMs: 20 }, { reset: true, scope: 'connection' }] })
  const { events, error } = await collect(sdk(t, emu))
  // FIELD-NOTES 4: a dropped h2 connection is not an error for the SDK; only the missing messageStop tells.
  assert.equal(error, undefined)
  assert.deepEqual(names(events), ['messageStart', 'contentBlockDelta'])
  assert.equal(await emu.waitForOutcome(1), 'reset')
})

test('backpressure: 5000 frames with no delay arrive complete and in order', T, async (t) => {
  const emu = await setup(t)
  const long = Array.from({ length: 5000 }, (_, i) => `${i % 10}é🙂.`).join('')
  for (const config of [{}, h1()]) {
    emu.enqueue(textScenario(long, { chunkChars: 4 }))
    const { events, error } = await collect(sdk(t, emu, config))
    assert.equal(error, undefined)
    assert.equal(events.length, 5000 + 4)
    assert.equal(text(events), long)
  }
})

test('client abort during a delay step cancels the timer and records aborted', T, async (t) => {
  const emu = await setup(t)
  emu.enqueue({ steps: [{ event: { messageStart: { role: 'assistant' } } }, { delayMs: 60_000 }, { end: true }] })
  const ac = new AbortController()
  const { running, firstEvent } = collectInBackground(sdk(t, emu), ac.signal)
  await firstEvent // the emulator is in its 60 s delay step
  ac.abort()
  await running
  assert.equal(await emu.waitForOutcome(1, 1000), 'aborted')
})

test('close() ends open hanging streams and never waits for clients', T, async (t) => {
  const emu = await startEmulator({ frameDelayMs: 0 })
  emu.enqueue({ steps: [{ event: { messageStart: { role: 'assistant' } } }, { hang: true }] })
  const { running: result, firstEvent } = collectInBackground(sdk(t, emu))
  await firstEvent // the emulator is in its hang step
  await emu.close()
  assert.equal(emu.requests[0]?.outcome, 'aborted') // settled by the time close() resolves
  const { events, error } = await result // settles: the connection is gone
  t.diagnostic(`h2 connection destroyed: ${events.length} events, error=${String(error)}`)
})

test('tricky text survives byte-identical, one code point per delta', T, async (t) => {
  const emu = await setup(t)
  const tricky = 'a\n\ndata: x\nb\rc\r\nd\u2028e\u0000f 👩‍👩‍👧 g'
  emu.enqueue(textScenario(tricky, { chunkChars: 1 }), textScenario(TRICKY_TEXT, { chunkChars: 2 }))
  const client = sdk(t, emu)
  const first = await collect(client)
  assert.equal(text(first.events), tricky)
  for (const e of first.events) {
    const piece = e.contentBlockDelta?.delta?.text
    if (piece !== undefined) assert.equal(Buffer.from(piece, 'utf8').toString('utf8'), piece, 'no lone surrogates')
  }
  assert.equal(text((await collect(client)).events), TRICKY_TEXT)
})

test('chunkCodePoints never splits a surrogate pair', () => {
  assert.deepEqual(chunkCodePoints('a👩‍👧b', 2), ['a👩', '\u200d👧', 'b'])
  assert.deepEqual(chunkCodePoints('', 4), [''])
})

test('Converse (non-streaming) assembles text, tool input and usage', T, async (t) => {
  const emu = await setup(t)
  const blocks = [{ text: 'Hello 👋 world' }, { toolUse: { toolUseId: 't1', name: 'calc', input: '{"x":1}' } }]
  emu.enqueue(messageScenario(blocks, { usage: { inputTokens: 5, outputTokens: 6, cacheReadInputTokens: 2 }, latencyMs: 42 }))
  emu.enqueue({ steps: [...textScenario('x').steps.slice(0, 2), { exception: 'modelStreamErrorException', message: 'bad model' }] })
  const client = sdk(t, emu, { maxAttempts: 1 })
  const out = await client.send(new ConverseCommand(input('add')))
  assert.deepEqual(out.output?.message?.content, [{ text: 'Hello 👋 world' }, { toolUse: { toolUseId: 't1', name: 'calc', input: { x: 1 } } }])
  assert.equal(out.stopReason, 'tool_use')
  assert.deepEqual(out.usage, { inputTokens: 5, outputTokens: 6, totalTokens: 11, cacheReadInputTokens: 2 })
  assert.equal(out.metrics?.latencyMs, 42)
  await assert.rejects(client.send(new ConverseCommand(input('again'))), ModelStreamErrorException)
  assert.deepEqual(emu.requests.map((r) => [r.operation, r.outcome]), [['converse', 'completed'], ['converse', 'error']])
})

test('default responder: echoes the prompt, slash commands pick scenarios', T, async (t) => {
  const emu = await setup(t)
  const client = sdk(t, emu, { maxAttempts: 1 })
  const plain = await collect(client, 'How do event streams work?')
  const reply = text(plain.events)
  assert.match(reply, /^You asked about “How do event streams work\?”\./)
  const words = reply.split(/\s+/).length
  assert.ok(words >= 60 && words <= 120, `${words} words`)
  assert.ok((plain.events.at(-1)?.metadata?.usage?.inputTokens ?? 0) > 0)

  const tool = await collect(client, '/tool')
  assert.equal(tool.events.find((e) => e.messageStop)?.messageStop?.stopReason, 'tool_use')
  const reasoning = await collect(client, ' /reasoning please ')
  assert.ok(reasoning.events.some((e) => e.contentBlockDelta?.delta?.reasoningContent?.signature))
  assert.equal(text((await collect(client, '/tricky')).events), TRICKY_TEXT)
  await assert.rejects(collect(client, '/throttle'), ThrottlingException)
  assert.ok((await collect(client, '/error')).error instanceof ModelStreamErrorException)
  assert.ok(!names((await collect(client, '/truncate')).events).includes('messageStop'))
})

test('HTTP/1.1 clients: /health, 404 JSON, and the event-stream content type', T, async (t) => {
  const emu = await setup(t)
  assert.deepEqual(await (await fetch(`${emu.url}/health`)).json(), { ok: true, open: 0 })
  const missing = await fetch(`${emu.url}/nope`)
  assert.equal(missing.status, 404)
  assert.equal(typeof (await missing.json() as { message?: unknown }).message, 'string')
  const res = await fetch(`${emu.url}/model/${encodeURIComponent('a:b/c')}/converse-stream`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input()),
  })
  assert.equal(res.headers.get('content-type'), 'application/vnd.amazon.eventstream')
  assert.ok((await res.arrayBuffer()).byteLength > 0)
  assert.equal(emu.requests[0]?.modelId, 'a:b/c')
  assert.equal(emu.requests[0]?.protocol, 'http/1.1')
  await assert.rejects(emu.waitForOutcome(99, 50), /timed out/)
  // `open` counts the calls being answered: one held, then none once its client left.
  emu.enqueue({ steps: [{ event: { messageStart: { role: 'assistant' } } }, { hang: true }] })
  const held = new AbortController()
  const heldRes = await fetch(`${emu.url}/model/m/converse-stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input()), signal: held.signal })
  assert.equal(heldRes.status, 200)
  assert.equal((await (await fetch(`${emu.url}/health`)).json() as { open: number }).open, 1)
  held.abort()
  assert.equal(await emu.waitForOutcome(2, 2000), 'aborted')
  assert.equal((await (await fetch(`${emu.url}/health`)).json() as { open: number }).open, 0)
})
