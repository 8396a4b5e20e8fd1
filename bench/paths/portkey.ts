// The Portkey gateway (npm @portkey-ai/gateway) in headless mode, pointed at the emulator
// with x-portkey-custom-host; it answers OpenAI chat-completion chunks, then `[DONE]`.
import { parseJson, sseRequest, type Reading } from './sse-request.js'
import { MODEL_ID, type PathSpec } from './types.js'

interface Chunk { choices?: Array<{ delta?: { content?: string } }>, error?: unknown }

/** OpenAI chat-completion chunks: the text of each, an `error` chunk, then `[DONE]`. */
export function readOpenAIChunk (message: { data: string }): Reading {
  if (message.data === '[DONE]') return { end: true }
  const chunk = parseJson(message.data) as Chunk | undefined
  if (chunk?.error !== undefined) return { error: JSON.stringify(chunk.error).slice(0, 200) }
  return { text: chunk?.choices?.[0]?.delta?.content ?? '' }
}

export const portkeyPath: PathSpec = {
  id: 'portkey',
  label: 'Portkey gateway',
  server: (ctx) => ({
    command: process.execPath,
    // Only `--port=N` with `=` is understood (FIELD-NOTES, peers).
    args: ['node_modules/@portkey-ai/gateway/build/start-server.js', `--port=${ctx.port}`, '--headless'],
    env: { NODE_ENV: 'production' },
  }),
  openStream: async (target, prompt, observer, signal) => await sseRequest({
    url: `${target.url}/v1/chat/completions`,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-portkey-provider': 'bedrock',
      'x-portkey-aws-access-key-id': 'bench',
      'x-portkey-aws-secret-access-key': 'bench',
      'x-portkey-aws-region': 'us-east-1',
      'x-portkey-custom-host': target.emulatorUrl,
    },
    body: JSON.stringify({ model: MODEL_ID, stream: true, messages: [{ role: 'user', content: prompt }] }),
    read: readOpenAIChunk,
  }, observer, signal),
}
