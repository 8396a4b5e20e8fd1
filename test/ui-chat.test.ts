// The AI SDK surface, checked with the real `ai` package: its DefaultChatTransport sends
// what useChat sends and reads our UI message stream, readUIMessageStream builds the
// message, the transport's reconnect resumes a running answer, and aborting the
// transport aborts Bedrock (after the resume grace).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai'
import { TRICKY_TEXT } from '../src/emulator/responder.js'
import { messageScenario, textScenario } from '../src/emulator/scenario.js'
import { build } from './helper.js'
import { redisTestOptions, twoInstances } from './redis-helper.js'
import { bearer, KEY_A, KEY_B } from './security-helper.js'
import { eventually } from './support/wait.js'

const userMessage = (text: string, id = 'u1'): UIMessage => ({ id, role: 'user', parts: [{ type: 'text', text }] })

function transport (url: string, headers: Record<string, string> = {}, body: Record<string, unknown> = {}): DefaultChatTransport<UIMessage> {
  return new DefaultChatTransport({ api: `${url}/v1/ui-chat`, headers, body })
}

async function lastMessage (stream: ReadableStream<UIMessageChunk>): Promise<UIMessage | undefined> {
  let last: UIMessage | undefined
  for await (const message of readUIMessageStream({ stream, terminateOnError: false })) last = message
  return last
}

const partsOf = (message: UIMessage | undefined): Array<{ type: string, text?: string }> =>
  (message?.parts ?? []).filter(p => p.type !== 'step-start').map(p => ({ type: p.type, ...('text' in p ? { text: p.text } : {}) }))

test('the AI SDK transport streams an answer: text and reasoning as the emulator sent them, the header, the finish with usage', async (t) => {
  const h = await build(t)
  h.emulator.enqueue(messageScenario([{ reasoning: { text: 'Thinking it over.', signature: 'sig-1' } }, { text: 'The answer, in pieces.' }], { chunkChars: 4 }))
  let header: string | null = null
  const chat = new DefaultChatTransport<UIMessage>({
    api: `${h.url}/v1/ui-chat`,
    fetch: async (input, init) => { const res = await fetch(input, init); header = res.headers.get('x-vercel-ai-ui-message-stream'); return res },
  })
  const stream = await chat.sendMessages({ chatId: 'chat-1', messages: [userMessage('What is it?')], trigger: 'submit-message', messageId: undefined, abortSignal: undefined })
  const message = await lastMessage(stream)
  assert.equal(header, 'v1')
  assert.deepEqual(partsOf(message), [{ type: 'reasoning', text: 'Thinking it over.' }, { type: 'text', text: 'The answer, in pieces.' }])
  const reasoning = message?.parts.find(p => p.type === 'reasoning') as { providerMetadata?: { bedrock?: { signature?: string } } }
  assert.equal(reasoning.providerMetadata?.bedrock?.signature, 'sig-1')
  const metadata = message?.metadata as { streamId: string, usage: { outputTokens: number } }
  assert.match(metadata.streamId, /^[0-9a-f]{24}$/)
  assert.ok(metadata.usage.outputTokens > 0)
  assert.deepEqual((h.emulator.requests[0]?.body as { messages: unknown }).messages, [{ role: 'user', content: [{ text: 'What is it?' }] }])
})

test('a second turn carries the first answer; the transport\'s body options reach Bedrock, clamped', async (t) => {
  const h = await build(t, { env: { MAX_OUTPUT_TOKENS: '64' } })
  h.emulator.enqueue(textScenario('First answer.'), textScenario('Second answer.'))
  const chat = transport(h.url, {}, { maxTokens: 1000, system: 'Be kind.' })
  const first = await lastMessage(await chat.sendMessages({ chatId: 'chat-2', messages: [userMessage('One?')], trigger: 'submit-message', messageId: undefined, abortSignal: undefined }))
  assert.ok(first !== undefined)
  const second = await lastMessage(await chat.sendMessages({ chatId: 'chat-2', messages: [userMessage('One?'), first, userMessage('Two?', 'u2')], trigger: 'submit-message', messageId: undefined, abortSignal: undefined }))
  assert.deepEqual(partsOf(second), [{ type: 'text', text: 'Second answer.' }])
  const sent = h.emulator.requests[1]?.body as { messages: unknown, system: unknown, inferenceConfig: { maxTokens: number } }
  assert.deepEqual(sent.messages, [
    { role: 'user', content: [{ text: 'One?' }] },
    { role: 'assistant', content: [{ text: 'First answer.' }] },
    { role: 'user', content: [{ text: 'Two?' }] },
  ])
  assert.deepEqual(sent.system, [{ text: 'Be kind.' }])
  assert.equal(sent.inferenceConfig.maxTokens, 64)
})

test('a failure mid-answer reaches the AI SDK as an error chunk after the text so far; a refusal before the stream is an HTTP error', async (t) => {
  const h = await build(t, { env: { API_KEYS: `${KEY_A},${KEY_B}` } })
  const errors: string[] = []
  const stream = await transport(h.url, bearer(KEY_A)).sendMessages({ chatId: 'chat-3', messages: [userMessage('/error')], trigger: 'submit-message', messageId: undefined, abortSignal: undefined })
  let text = ''
  for await (const message of readUIMessageStream({ stream, onError: (err) => errors.push(String(err)) })) {
    text = message.parts.filter(p => p.type === 'text').map(p => (p as { text: string }).text).join('')
  }
  assert.ok(text.length > 0, 'the text before the failure was delivered')
  assert.equal(errors.length, 1)
  await assert.rejects(transport(h.url).sendMessages({ chatId: 'chat-3', messages: [userMessage('hi')], trigger: 'submit-message', messageId: undefined, abortSignal: undefined }),
    (err: Error) => /Send an API key/.test(err.message))
  await assert.rejects(transport(h.url, bearer(KEY_A)).sendMessages({ chatId: 'chat-3', messages: [{ id: 'a', role: 'user', parts: [{ type: 'tool-get_weather', toolCallId: 't', state: 'input-available', input: {} } as never] }], trigger: 'submit-message', messageId: undefined, abortSignal: undefined }),
    (err: Error) => /not supported/.test(err.message))
  assert.equal(h.emulator.requests.length, 1, 'the refused requests never called Bedrock')
})

test('reloading during an answer: the transport\'s reconnect replays it from the start and follows it live, with one Bedrock call; after the end it gets 204', async (t) => {
  const h = await build(t, { env: { API_KEYS: `${KEY_A},${KEY_B}` } })
  const text = 'A long answer that is still streaming when the page reloads.'
  h.emulator.enqueue(textScenario(text, { chunkChars: 4, frameDelayMs: 30 }))
  const controller = new AbortController()
  const stream = await transport(h.url, bearer(KEY_A)).sendMessages({ chatId: 'chat-4', messages: [userMessage('Go')], trigger: 'submit-message', messageId: undefined, abortSignal: controller.signal })
  const reader = stream.getReader()
  for (let seen = 0; seen < 3;) if ((await reader.read()).value?.type === 'text-delta') seen++
  controller.abort() // the page goes away mid-answer
  // Another key cannot see this chat's stream.
  assert.equal(await transport(h.url, bearer(KEY_B)).reconnectToStream({ chatId: 'chat-4' }), null)
  const resumed = await transport(h.url, bearer(KEY_A)).reconnectToStream({ chatId: 'chat-4' })
  assert.ok(resumed !== null)
  const message = await lastMessage(resumed)
  assert.deepEqual(partsOf(message), [{ type: 'text', text }], 'the whole answer, no gap, no duplicate')
  assert.equal(h.emulator.requests.length, 1)
  assert.equal(await transport(h.url, bearer(KEY_A)).reconnectToStream({ chatId: 'chat-4' }), null, 'finished: nothing to resume')
})

test('aborting the transport aborts the Bedrock call once the resume grace is over', async (t) => {
  const h = await build(t, { env: { RESUME_GRACE_MS: '200' } })
  h.emulator.enqueue({ steps: [{ event: { messageStart: { role: 'assistant' } } }, { event: { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'first' } } } }, { hang: true }], frameDelayMs: 0 })
  const controller = new AbortController()
  const stream = await transport(h.url).sendMessages({ chatId: 'chat-5', messages: [userMessage('hi')], trigger: 'submit-message', messageId: undefined, abortSignal: controller.signal })
  const reader = stream.getReader()
  while ((await reader.read()).value?.type !== 'text-delta');
  controller.abort()
  await eventually(() => h.emulator.requests[0]?.outcome === 'aborted', 5000, 'upstream aborted')
})

test('tricky text (newlines, lone CR, U+2028, emoji, a literal data: [DONE]) arrives byte-identical', async (t) => {
  const h = await build(t)
  const tricky = `${TRICKY_TEXT}\ndata: [DONE]\n\ndata: [DONE]`
  h.emulator.enqueue(textScenario(tricky, { chunkChars: 3 }))
  const message = await lastMessage(await transport(h.url).sendMessages({ chatId: 'chat-6', messages: [userMessage('hi')], trigger: 'submit-message', messageId: undefined, abortSignal: undefined }))
  assert.deepEqual(partsOf(message), [{ type: 'text', text: tricky }])
})

test('with Redis, the reload lands on another instance: it resumes the chat\'s running answer there, one Bedrock call; another key gets 204', redisTestOptions(), async (t) => {
  const { emulator, a, b } = await twoInstances(t, { API_KEYS: `${KEY_A},${KEY_B}` })
  const text = 'An answer produced on A and picked up on B after a reload.'
  emulator.enqueue(textScenario(text, { chunkChars: 4, frameDelayMs: 30 }))
  const controller = new AbortController()
  const stream = await transport(a.url, bearer(KEY_A)).sendMessages({ chatId: 'chat-x', messages: [userMessage('Go')], trigger: 'submit-message', messageId: undefined, abortSignal: controller.signal })
  const reader = stream.getReader()
  for (let seen = 0; seen < 3;) if ((await reader.read()).value?.type === 'text-delta') seen++
  controller.abort()
  assert.equal(await transport(b.url, bearer(KEY_B)).reconnectToStream({ chatId: 'chat-x' }), null)
  const resumed = await transport(b.url, bearer(KEY_A)).reconnectToStream({ chatId: 'chat-x' })
  assert.ok(resumed !== null)
  assert.deepEqual(partsOf(await lastMessage(resumed)), [{ type: 'text', text }])
  assert.equal(emulator.requests.length, 1)
  assert.equal(await emulator.waitForOutcome(1), 'completed', 'the reader on B kept A from cancelling')
  assert.equal(await transport(b.url, bearer(KEY_A)).reconnectToStream({ chatId: 'chat-x' }), null, 'finished: nothing to resume')
})
