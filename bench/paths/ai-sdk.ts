// A route on the Vercel AI SDK's Bedrock provider (bench/servers/ai-sdk.ts); its UI
// message stream is SSE of JSON parts, `text-delta` carrying the text, then `[DONE]`.
import { parseJson, sseRequest, type Reading } from './sse-request.js'
import { nodeEnv, type PathSpec } from './types.js'

interface Part { type?: string, delta?: string, errorText?: string }

/** The AI SDK's UI message stream: `text-delta` parts carry the text, then `[DONE]`. */
export function readUiPart (message: { data: string }): Reading {
  if (message.data === '[DONE]') return { end: true }
  const part = parseJson(message.data) as Part | undefined
  if (part?.type === 'text-delta') return { text: part.delta ?? '' }
  if (part?.type === 'error') return { error: part.errorText ?? 'error part' }
  return undefined
}

export const aiSdkPath: PathSpec = {
  id: 'ai-sdk',
  label: 'AI SDK route (ai + @ai-sdk/amazon-bedrock)',
  server: (ctx) => ({ command: process.execPath, args: ['--experimental-strip-types', 'bench/servers/ai-sdk.ts'], env: nodeEnv(ctx) }),
  openStream: async (target, prompt, observer, signal) => await sseRequest({
    url: `${target.url}/chat?prompt=${encodeURIComponent(prompt)}`,
    read: readUiPart,
  }, observer, signal),
}
