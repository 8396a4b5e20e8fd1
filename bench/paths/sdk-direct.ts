// The SDK reading the emulator itself, default settings (HTTP/2, one connection per
// stream): no HTTP hop, so the latency it adds is the SDK's alone. The load client is
// this path's process, pinned where the servers of the other paths run.
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime'
import { readStamps, stampClockMs } from '../../src/emulator/index.js'
import { MODEL_ID, type PathSpec } from './types.js'

const clients = new Map<string, BedrockRuntimeClient>()

function clientFor (endpoint: string): BedrockRuntimeClient {
  let client = clients.get(endpoint)
  if (client === undefined) {
    client = new BedrockRuntimeClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } })
    clients.set(endpoint, client)
  }
  return client
}

export const sdkDirectPath: PathSpec = {
  id: 'sdk-direct',
  label: 'SDK direct (no HTTP hop)',
  openStream: async (target, prompt, observer, signal) => {
    try {
      const response = await clientFor(target.emulatorUrl).send(new ConverseStreamCommand({
        modelId: MODEL_ID,
        messages: [{ role: 'user', content: [{ text: prompt }] }],
      }), { abortSignal: signal })
      observer.firstByte(stampClockMs()) // send() resolves on the first event (FIELD-NOTES 3)
      let stopped = false
      for await (const event of response.stream ?? []) {
        const text = event.contentBlockDelta?.delta?.text
        if (text !== undefined) observer.tokens(readStamps(text), stampClockMs())
        if (event.metadata !== undefined) stopped = true
      }
      return stopped ? { ok: true } : { ok: false, error: 'ended without metadata' }
    } catch (err) {
      return { ok: false, error: signal.aborted ? 'aborted at the deadline' : (err instanceof Error ? err.message : String(err)) }
    }
  },
}
