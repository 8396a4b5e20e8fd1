// The emulator refuses what Bedrock refuses (issue 12), straight from the real SDK: a
// ValidationException (HTTP 400, before any stream) for a toolResult without its toolUse,
// thinking without a budget, a misplaced cachePoint, and the rest of validate.ts; no
// scenario is played for them. Valid requests with the same features pass.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConverseStreamCommand, ValidationException, type ConverseStreamCommandInput } from '@aws-sdk/client-bedrock-runtime'
import { textScenario } from '../src/emulator/index.js'
import { emulatorClient, startTestEmulator } from './helper.js'

const user = (text: string): NonNullable<ConverseStreamCommandInput['messages']>[number] => ({ role: 'user', content: [{ text }] })
const tools = { tools: [{ toolSpec: { name: 'get_time', inputSchema: { json: { type: 'object' } } } }] }
const toolTurn = [
  user('time?'),
  { role: 'assistant' as const, content: [{ toolUse: { toolUseId: 'tooluse_1', name: 'get_time', input: {} } }] },
]
const thinking = (fields: Record<string, unknown>): Pick<ConverseStreamCommandInput, 'additionalModelRequestFields' | 'inferenceConfig'> =>
  ({ additionalModelRequestFields: { thinking: { type: 'enabled', ...fields } } as never, inferenceConfig: { maxTokens: 4096 } })

const INVALID: Array<[string, Omit<ConverseStreamCommandInput, 'modelId'>, RegExp]> = [
  ['a toolResult without a matching toolUse', {
    messages: [...toolTurn, { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_2', content: [{ text: '12:00' }] } }] }], toolConfig: tools,
  }, /toolUseId "tooluse_2" does not match any toolUse block of the previous turn/],
  ['a toolUse left unanswered', {
    messages: [...toolTurn, user('and?')], toolConfig: tools,
  }, /Expected toolResult blocks at messages\.2\.content for the following Ids: tooluse_1/],
  ['tool blocks without toolConfig', {
    messages: [...toolTurn, { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_1', content: [{ text: '12:00' }] } }] }],
  }, /The toolConfig field must be defined/],
  ['thinking without a budget', { messages: [user('hi')], ...thinking({}) }, /thinking\.enabled\.budget_tokens: Field required/],
  ['a thinking budget under 1024', { messages: [user('hi')], ...thinking({ budget_tokens: 100 }) }, /greater than or equal to 1024/],
  ['a thinking budget of maxTokens or more', { messages: [user('hi')], ...thinking({ budget_tokens: 5000 }) }, /`max_tokens` must be greater than `thinking.budget_tokens`/],
  ['a cachePoint first in system', { messages: [user('hi')], system: [{ cachePoint: { type: 'default' } }, { text: 'be brief' }] }, /system\.0: a cachePoint block must follow/],
  ['a conversation that starts with the assistant', { messages: [{ role: 'assistant', content: [{ text: 'hi' }] }] }, /must start with a user message/],
]

for (const [name, input, message] of INVALID) {
  test(`ValidationException: ${name}`, async (t) => {
    const emulator = await startTestEmulator(t)
    const client = emulatorClient(emulator)
    t.after(() => client.destroy())
    emulator.enqueue(textScenario('never played'))
    await assert.rejects(client.send(new ConverseStreamCommand({ modelId: 'test.model-v1:0', ...input })), (err: unknown) => {
      assert.ok(err instanceof ValidationException, String(err))
      assert.match(err.message, message)
      assert.equal(err.$metadata.httpStatusCode, 400)
      return true
    })
    assert.equal(emulator.requests[0]?.outcome, 'error')
  })
}

test('the same features, well formed, stream', async (t) => {
  const emulator = await startTestEmulator(t)
  const client = emulatorClient(emulator)
  t.after(() => client.destroy())
  const res = await client.send(new ConverseStreamCommand({
    modelId: 'test.model-v1:0',
    messages: [...toolTurn, { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_1', content: [{ text: '12:00' }] } }] }],
    toolConfig: tools,
    system: [{ text: 'be brief' }, { cachePoint: { type: 'default' } }],
  }))
  const kinds: string[] = []
  for await (const event of res.stream ?? []) kinds.push(Object.entries(event).find(([, v]) => v !== undefined)?.[0] ?? '')
  assert.equal(kinds.at(-1), 'metadata')
})

test('validate: false turns the checks off (a test that scripts Bedrock\'s answer itself)', async (t) => {
  const emulator = await startTestEmulator(t, { validate: false })
  const client = emulatorClient(emulator)
  t.after(() => client.destroy())
  emulator.enqueue(textScenario('played'))
  const res = await client.send(new ConverseStreamCommand({ modelId: 'test.model-v1:0', messages: [{ role: 'assistant', content: [{ text: 'hi' }] }] }))
  const kinds: string[] = []
  for await (const event of res.stream ?? []) kinds.push(Object.entries(event).find(([, v]) => v !== undefined)?.[0] ?? '')
  assert.equal(kinds.at(-1), 'metadata')
  assert.equal(emulator.requests[0]?.outcome, 'completed')
})
