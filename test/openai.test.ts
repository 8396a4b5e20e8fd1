// The OpenAI-compatible surface, checked with the real `openai` client (baseURL pointed at
// the proxy) against the real SDK and the emulator: streaming, usage, errors as the
// client's own classes, models, abort, auth, and tricky text arriving byte-identical.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import OpenAI from 'openai'
import { TRICKY_TEXT } from '../src/emulator/responder.js'
import { messageScenario, textScenario } from '../src/emulator/scenario.js'
import { build } from './helper.js'
import { KEY_A, KEY_B } from './security-helper.js'
import { eventually } from './support/wait.js'

const MODEL = 'test.model-v1:0'

function client (url: string, apiKey = 'sk-anything', maxRetries = 0): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries, timeout: 30_000 })
}

test('the openai client streams a completion: the text Bedrock sent, a finish reason, and the usage chunk', async (t) => {
  const h = await build(t)
  h.emulator.enqueue(textScenario('Hello from Bedrock, in several deltas.', { chunkChars: 5, usage: { inputTokens: 21, outputTokens: 9, cacheReadInputTokens: 4 } }))
  const stream = await client(h.url).chat.completions.create({
    model: MODEL,
    stream: true,
    stream_options: { include_usage: true },
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Say hello.' },
      { role: 'user', content: [{ type: 'text', text: 'Please.' }] },
    ],
    max_tokens: 100,
  })
  const deltas: string[] = []
  const finishReasons: string[] = []
  let usage: OpenAI.CompletionUsage | null | undefined
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk')
    const choice = chunk.choices[0]
    if (choice?.delta.content) deltas.push(choice.delta.content)
    if (choice?.finish_reason) finishReasons.push(choice.finish_reason)
    if (chunk.usage) usage = chunk.usage
  }
  assert.equal(deltas.join(''), 'Hello from Bedrock, in several deltas.')
  assert.ok(deltas.length > 3, 'the answer arrives in several chunks')
  assert.deepEqual(finishReasons, ['stop'])
  assert.deepEqual(usage, { prompt_tokens: 25, completion_tokens: 9, total_tokens: 34, prompt_tokens_details: { cached_tokens: 4 } })
  // What Bedrock was asked: the system message as the system prompt, the two user turns merged.
  const sent = h.emulator.requests[0]?.body as { system: unknown, messages: unknown, inferenceConfig: { maxTokens: number } }
  assert.deepEqual(sent.system, [{ text: 'Be brief.' }])
  assert.deepEqual(sent.messages, [{ role: 'user', content: [{ text: 'Say hello.' }, { text: 'Please.' }] }])
  assert.equal(sent.inferenceConfig.maxTokens, 100)
})

test('without stream: one chat.completion, reasoning as reasoning_content, max_tokens clamped to MAX_OUTPUT_TOKENS', async (t) => {
  const h = await build(t, { env: { MAX_OUTPUT_TOKENS: '50' } })
  h.emulator.enqueue(messageScenario([{ reasoning: { text: 'Think first.', signature: 'sig' } }, { text: 'The answer.' }]))
  const completion = await client(h.url).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Q?' }], max_completion_tokens: 4000 })
  assert.equal(completion.object, 'chat.completion')
  assert.equal(completion.choices[0]?.message.content, 'The answer.')
  assert.equal((completion.choices[0]?.message as { reasoning_content?: string }).reasoning_content, 'Think first.')
  assert.equal(completion.choices[0]?.finish_reason, 'stop')
  assert.ok(completion.usage !== undefined && completion.usage.completion_tokens > 0)
  assert.equal((h.emulator.requests[0]?.body as { inferenceConfig: { maxTokens: number } }).inferenceConfig.maxTokens, 50)
})

test('refusals arrive as the client\'s own error classes, in OpenAI\'s error shape, with Bedrock never called', async (t) => {
  const h = await build(t, { env: { API_KEYS: KEY_A } })
  const openai = client(h.url, KEY_A)
  // A field this proxy cannot honour is refused, named, never dropped.
  await assert.rejects(openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], n: 2 }),
    (err: unknown) => err instanceof OpenAI.BadRequestError && err.code === 'bad_request' && err.type === 'invalid_request_error' && err.param === 'n')
  await assert.rejects(openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], seed: 7 }),
    (err: unknown) => err instanceof OpenAI.BadRequestError && /seed/.test(err.message))
  await assert.rejects(openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'none' }),
    (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === 'tool_choice')
  await assert.rejects(openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], temperature: 1.5 }),
    (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === 'temperature')
  await assert.rejects(openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true }),
    (err: unknown) => err instanceof OpenAI.BadRequestError && err.code === 'model_not_allowed')
  await assert.rejects(openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] }),
    (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === 'messages.0.content.0.image_url.url')
  await assert.rejects(client(h.url, KEY_B).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }),
    (err: unknown) => err instanceof OpenAI.AuthenticationError && err.code === 'unauthorized')
  assert.equal(h.emulator.requests.length, 0)
})

test('Bedrock throttling before the first token is a 429 RateLimitError (the client\'s retry signal); a failure mid-answer throws after the text so far', async (t) => {
  const h = await build(t)
  const openai = client(h.url)
  await assert.rejects(openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: '/throttle' }], stream: true }),
    (err: unknown) => err instanceof OpenAI.RateLimitError && err.code === 'upstream_throttled' && err.headers?.get('retry-after') !== null)

  const stream = await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: '/error' }], stream: true })
  let text = ''
  await assert.rejects(async () => {
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
  }, (err: unknown) => err instanceof OpenAI.APIError && (err.error as { code?: string }).code === 'upstream_error')
  assert.ok(text.length > 0, 'the text before the failure was delivered')
})

test('GET /v1/models lists what the key may use, the default first, then the aliases; an alias runs on its model', async (t) => {
  const h = await build(t, { env: { BEDROCK_ALLOWED_MODELS: 'other.model-v1:0', MODEL_ALIASES: 'gpt-4o=other.model-v1:0' } })
  const openai = client(h.url)
  const models = []
  for await (const model of openai.models.list()) models.push(model)
  assert.deepEqual(models.map(m => [m.id, m.owned_by]), [[MODEL, 'bedrock'], ['other.model-v1:0', 'bedrock'], ['gpt-4o', 'alias:other.model-v1:0']])
  h.emulator.enqueue(textScenario('aliased'))
  const completion = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
  assert.equal(completion.choices[0]?.message.content, 'aliased')
  assert.equal(h.emulator.requests[0]?.modelId, 'other.model-v1:0')
})

test('aborting the openai client\'s stream aborts the Bedrock call at once (no resume grace: nobody can resume it)', async (t) => {
  const h = await build(t, { env: { RESUME_GRACE_MS: '60000' } })
  h.emulator.enqueue({ steps: [{ event: { messageStart: { role: 'assistant' } } }, { event: { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'first' } } } }, { hang: true }], frameDelayMs: 0 })
  const controller = new AbortController()
  const stream = await client(h.url).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true }, { signal: controller.signal })
  let text = ''
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? ''
    if (text === 'first') controller.abort()
  }
  assert.equal(text, 'first')
  await eventually(() => h.emulator.requests[0]?.outcome === 'aborted', 5000, 'upstream aborted')
  await eventually(() => h.logs.some(l => (l['stream'] as { outcome?: string } | undefined)?.outcome === 'client_closed'), 5000, 'stream logged client_closed')
})

test('with no API keys an openai client with any apiKey works on these routes; the native routes still refuse a bearer', async (t) => {
  const h = await build(t)
  h.emulator.enqueue(textScenario('open'))
  const completion = await client(h.url, 'sk-not-checked').chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] })
  assert.equal(completion.choices[0]?.message.content, 'open')
  assert.ok(h.logs.some(l => typeof l['msg'] === 'string' && /Authorization header that OpenAI clients always send is ignored/.test(l['msg'])), 'the start-up log says what is ignored')
  const native = await fetch(`${h.url}/v1/converse-stream?prompt=hi`, { headers: { authorization: 'Bearer sk-not-checked' } })
  assert.equal(native.status, 401)
})

test('tricky text (newlines, lone CR, U+2028, emoji, a literal data: [DONE]) arrives byte-identical', async (t) => {
  const h = await build(t)
  const tricky = `${TRICKY_TEXT}\ndata: [DONE]\n\ndata: [DONE]`
  h.emulator.enqueue(textScenario(tricky, { chunkChars: 3 }), textScenario(tricky, { chunkChars: 7 }))
  const openai = client(h.url)
  let streamed = ''
  for await (const chunk of await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true })) {
    streamed += chunk.choices[0]?.delta.content ?? ''
  }
  assert.equal(streamed, tricky)
  const whole = await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] })
  assert.equal(whole.choices[0]?.message.content, tricky)
})

test('a full tool loop with the openai client: tool_calls streamed, the tool output sent back as a tool message, the model answers from it', async (t) => {
  const h = await build(t)
  const openai = client(h.url)
  const tools: OpenAI.ChatCompletionTool[] = [{
    type: 'function',
    function: { name: 'get_time', description: 'The current time in a city.', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
  }]
  const question: OpenAI.ChatCompletionMessageParam = { role: 'user', content: 'What is the time in Paris? Use get_time.' }
  const calls = new Map<number, { id: string, name: string, arguments: string }>()
  let finish: string | null = null
  for await (const chunk of await openai.chat.completions.create({ model: MODEL, messages: [question], tools, tool_choice: 'auto', stream: true })) {
    const choice = chunk.choices[0]
    for (const call of choice?.delta.tool_calls ?? []) {
      const known = calls.get(call.index) ?? { id: call.id ?? '', name: call.function?.name ?? '', arguments: '' }
      known.arguments += call.function?.arguments ?? ''
      calls.set(call.index, known)
    }
    finish = choice?.finish_reason ?? finish
  }
  assert.equal(finish, 'tool_calls')
  const call = calls.get(0)
  assert.ok(call !== undefined && call.name === 'get_time' && call.id !== '')
  assert.equal(typeof (JSON.parse(call.arguments) as { city: unknown }).city, 'string')
  const sent = h.emulator.requests[0]?.body as { toolConfig: unknown }
  assert.deepEqual(sent.toolConfig, {
    tools: [{ toolSpec: { name: 'get_time', description: 'The current time in a city.', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } } }],
    toolChoice: { auto: {} },
  })

  // The client runs the tool and sends its output back; the model answers from it.
  const answer = await openai.chat.completions.create({
    model: MODEL,
    tools,
    messages: [
      question,
      { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }] },
      { role: 'tool', tool_call_id: call.id, content: '14:05' },
    ],
  })
  assert.match(answer.choices[0]?.message.content ?? '', /14:05/)
  const second = h.emulator.requests[1]?.body as { messages: Array<{ role: string, content: unknown[] }> }
  assert.deepEqual(second.messages.map(m => m.role), ['user', 'assistant', 'user'])
  assert.deepEqual(second.messages[2]?.content, [{ toolResult: { toolUseId: call.id, content: [{ text: '14:05' }] } }])

  // Without stream, the tool call comes whole, content null beside it.
  const whole = await openai.chat.completions.create({ model: MODEL, messages: [question], tools, tool_choice: { type: 'function', function: { name: 'get_time' } } })
  assert.equal(whole.choices[0]?.finish_reason, 'tool_calls')
  assert.equal(whole.choices[0]?.message.tool_calls?.[0]?.type, 'function')
  assert.equal((whole.choices[0]?.message.tool_calls?.[0] as { function: { name: string } }).function.name, 'get_time')
})

test('tools and reasoning_effort under the operator\'s switches: refused when off (Bedrock not called), thinking budget clamped when on', async (t) => {
  const off = await build(t, { env: { MAX_TOOLS: '0', REASONING_MAX_BUDGET_TOKENS: '0' } })
  const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }]
  await assert.rejects(client(off.url).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], tools }),
    (err: unknown) => err instanceof OpenAI.BadRequestError && err.code === 'option_not_allowed')
  await assert.rejects(client(off.url).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], reasoning_effort: 'high' }),
    (err: unknown) => err instanceof OpenAI.BadRequestError && err.code === 'option_not_allowed')
  assert.equal(off.emulator.requests.length, 0)

  const on = await build(t, { env: { REASONING_MAX_BUDGET_TOKENS: '2048', MAX_OUTPUT_TOKENS: '4096' } })
  const completion = await client(on.url).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'think' }], reasoning_effort: 'high' })
  assert.ok((completion.choices[0]?.message as { reasoning_content?: string }).reasoning_content !== undefined, 'the thinking comes back as reasoning_content')
  const sent = on.emulator.requests[0]?.body as { additionalModelRequestFields: { thinking: { budget_tokens: number } } }
  assert.equal(sent.additionalModelRequestFields.thinking.budget_tokens, 2048)
})

test('developer messages join the system prompt; an image sent as a data URL reaches Bedrock as an image block', async (t) => {
  const h = await build(t)
  h.emulator.enqueue(textScenario('A red dot.'))
  const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=='
  const completion = await client(h.url).chat.completions.create({
    model: MODEL,
    messages: [
      { role: 'system', content: 'One.' },
      { role: 'developer', content: [{ type: 'text', text: 'Two.' }] },
      { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png}`, detail: 'low' } }] },
    ],
  })
  assert.equal(completion.choices[0]?.message.content, 'A red dot.')
  const sent = h.emulator.requests[0]?.body as { system: unknown, messages: Array<{ content: unknown[] }> }
  assert.deepEqual(sent.system, [{ text: 'One.\n\nTwo.' }])
  assert.deepEqual(sent.messages[0]?.content, [{ text: 'What is this?' }, { image: { format: 'png', source: { bytes: png } } }])
})
