// Client tools (issue 12): a browser offers tools, the model calls one, the browser runs
// it and sends the result back in the next request. Real SDK to the emulator, which calls
// only tools it was offered and checks results against the calls, as Bedrock does.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { textScenario } from '../src/emulator/index.js'
import { build, joinText, postSse } from './helper.js'
import { assistantContentOf, dataOf, errorIn, postJson, upstreamBody } from './support/converse.js'

const GET_TIME = {
  toolSpec: {
    name: 'get_time',
    description: 'The current time in a time zone.',
    inputSchema: { json: { type: 'object', properties: { timezone: { type: 'string', enum: ['UTC', 'Europe/Paris'] } }, required: ['timezone'] } },
  },
}
const toolConfig = { tools: [GET_TIME], toolChoice: { auto: {} } }

test('a full tool loop across two requests: toolUse in answer 1, toolResult in request 2', async (t) => {
  const h = await build(t)
  const question = { role: 'user', content: 'What time is it? Use get_time.' }
  const first = await postSse(h.url, { messages: [question], toolConfig })
  assert.equal(first.status, 200)
  const call = dataOf(first.events, 'tool_use')
  assert.equal(call?.['name'], 'get_time')
  assert.match(String(call?.['toolUseId']), /^tooluse_/)
  assert.deepEqual(dataOf(first.events, 'stop'), { stopReason: 'tool_use' })
  assert.deepEqual(upstreamBody(h.emulator.requests).toolConfig, toolConfig, 'the tools reach Bedrock as sent')

  // The client rebuilds the assistant turn from the events and answers the call.
  const assistant = { role: 'assistant', content: assistantContentOf(first.events) }
  const toolUse = assistant.content.find(b => 'toolUse' in b)?.['toolUse'] as { toolUseId: string, input: unknown }
  assert.deepEqual(toolUse.input, { timezone: 'UTC' }, 'the input was built from the tool\'s schema, and joined from its fragments')
  const result = { role: 'user', content: [{ toolResult: { toolUseId: toolUse.toolUseId, content: [{ json: { time: '12:00' } }] } }] }
  const second = await postSse(h.url, { messages: [question, assistant, result], toolConfig })
  assert.equal(second.status, 200)
  assert.match(joinText(second.events), /The tool answered: \{"time":"12:00"\}/)
  assert.deepEqual(dataOf(second.events, 'stop'), { stopReason: 'end_turn' })
  // The last call is the second turn's (an SDK retry of a reused keep-alive socket can add a call before it).
  const sent = upstreamBody(h.emulator.requests, h.emulator.requests.length - 1).messages as Array<{ content: unknown[] }>
  assert.deepEqual(sent[1]?.content.at(-1), { toolUse: { toolUseId: toolUse.toolUseId, name: 'get_time', input: { timezone: 'UTC' } } })
})

test('POST /v1/converse answers the toolUse block with its input parsed, ready to send back', async (t) => {
  const h = await build(t)
  const res = await postJson(`${h.url}/v1/converse`, { prompt: 'get_time please', toolConfig: { tools: [GET_TIME], toolChoice: { tool: { name: 'get_time' } } } })
  assert.equal(res.status, 200)
  assert.equal(res.json['stopReason'], 'tool_use')
  const block = (res.json['content'] as Array<Record<string, unknown>>).find(b => 'toolUse' in b)
  assert.deepEqual((block?.['toolUse'] as Record<string, unknown>)['input'], { timezone: 'UTC' })
})

test('a toolResult that answers no toolUse of the previous turn is Bedrock\'s ValidationException (400 upstream_rejected)', async (t) => {
  const h = await build(t)
  const res = await postJson(`${h.url}/v1/converse`, {
    messages: [
      { role: 'user', content: 'time?' },
      { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_a', name: 'get_time', input: {} } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_other', content: [{ text: '12:00' }] } }] },
    ],
    toolConfig,
  })
  assert.equal(res.status, 400)
  assert.equal(errorIn(res.json).code, 'upstream_rejected')
  assert.match(errorIn(res.json).message, /toolUseId "tooluse_other" does not match/)
})

test('MAX_TOOLS=0: toolConfig, toolUse and toolResult blocks are refused (option_not_allowed); Bedrock not called', async (t) => {
  const h = await build(t, { env: { MAX_TOOLS: '0' } })
  const history = [
    { role: 'user', content: 'time?' },
    { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_a', name: 'get_time', input: {} } }] },
    { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_a', content: [{ text: '12:00' }] } }] },
  ]
  for (const body of [{ prompt: 'time?', toolConfig }, { messages: history }]) {
    for (const path of ['/v1/converse-stream', '/v1/converse']) {
      const res = await postJson(`${h.url}${path}`, body)
      assert.equal(res.status, 400, path)
      assert.equal(errorIn(res.json).code, 'option_not_allowed')
      assert.match(errorIn(res.json).message, /client tools/)
    }
  }
  assert.equal(h.emulator.requests.length, 0)
})

test('more tools than MAX_TOOLS, or a toolConfig past MAX_TOOL_CONFIG_BYTES, is input_too_large; Bedrock not called', async (t) => {
  const h = await build(t, { env: { MAX_TOOLS: '1', MAX_TOOL_CONFIG_BYTES: '1024' } })
  const second = { toolSpec: { ...GET_TIME.toolSpec, name: 'get_date' } }
  const tooMany = await postJson(`${h.url}/v1/converse-stream`, { prompt: 'x', toolConfig: { tools: [GET_TIME, second] } })
  assert.equal(tooMany.status, 400)
  assert.equal(errorIn(tooMany.json).code, 'input_too_large')
  assert.match(errorIn(tooMany.json).message, /At most 1 tools per request \(got 2\)/)
  const wordy = { toolSpec: { ...GET_TIME.toolSpec, description: 'x'.repeat(2000) } }
  const tooBig = await postJson(`${h.url}/v1/converse-stream`, { prompt: 'x', toolConfig: { tools: [wordy] } })
  assert.equal(tooBig.status, 400)
  assert.equal(errorIn(tooBig.json).code, 'input_too_large')
  assert.match(errorIn(tooBig.json).message, /toolConfig is \d+ bytes as JSON; at most 1024/)
  assert.equal(h.emulator.requests.length, 0)
})

test('tools offered but not needed: the model answers in text, and toolChoice any forces a call', async (t) => {
  const h = await build(t)
  const plain = await postSse(h.url, { prompt: 'hello there', toolConfig })
  assert.equal(dataOf(plain.events, 'tool_use'), undefined)
  assert.deepEqual(dataOf(plain.events, 'stop'), { stopReason: 'end_turn' })
  const forced = await postSse(h.url, { prompt: 'hello there', toolConfig: { tools: [GET_TIME], toolChoice: { any: {} } } })
  assert.equal(dataOf(forced.events, 'tool_use')?.['name'], 'get_time')
})

test('a stream cut before Bedrock\'s usage estimates its input with the tool specs and results it sent', async (t) => {
  const h = await build(t)
  const wordy = { toolSpec: { ...GET_TIME.toolSpec, description: 'x'.repeat(4000) } }
  // Some text, then a clean end without messageStop or metadata.
  h.emulator.enqueue({ steps: [...textScenario('cut').steps.slice(0, 2), { end: true }] })
  const cut = await postSse(h.url, { prompt: 'a', toolConfig: { tools: [wordy] } })
  assert.equal(dataOf(cut.events, 'error')?.['code'], 'upstream_truncated')
  const usage = dataOf(cut.events, 'usage')
  assert.equal(usage?.['partial'], true)
  assert.ok(Number(usage?.['inputTokens']) > 1000, `the 4000-character tool spec is in the estimate: ${JSON.stringify(usage)}`)
})
