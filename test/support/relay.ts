// One upstream call relayed to its end outside any HTTP route: the relay events it emitted
// and its summary, for tests of the call and the decoder themselves.
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'
import type { ConverseStreamInput } from '../../src/bedrock/converse-call.js'
import { relayConverseStream, type StreamSummary } from '../../src/bedrock/relay.js'
import type { RelayEvent } from '../../src/events.js'

const silent = { info () {}, warn () {}, error () {} }

export const SIMPLE_INPUT: ConverseStreamInput = { modelId: 'test.model-v1:0', messages: [{ role: 'user', content: [{ text: 'hi' }] }] }

export async function relayOnce (client: BedrockRuntimeClient, input: ConverseStreamInput = SIMPLE_INPUT): Promise<{ events: RelayEvent[], summary: StreamSummary | undefined }> {
  const events: RelayEvent[] = []
  let summary: StreamSummary | undefined
  await relayConverseStream({
    client,
    input,
    streamId: 's1',
    controller: new AbortController(),
    firstEventTimeoutMs: 10_000,
    idleTimeoutMs: 10_000,
    log: silent,
    emit: e => events.push(e),
    waitForRoom: () => undefined,
    onFinish: s => { summary = s },
  })
  return { events, summary }
}
