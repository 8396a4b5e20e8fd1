// The baseline users would write themselves (bench/servers/obvious-relay.ts).
import { parseJson, sseRequest } from './sse-request.js'
import { nodeEnv, type PathSpec } from './types.js'

export const obviousRelayPath: PathSpec = {
  id: 'obvious-relay',
  label: 'obvious relay (baseline)',
  server: (ctx) => ({ command: process.execPath, args: ['--experimental-strip-types', 'bench/servers/obvious-relay.ts'], env: nodeEnv(ctx) }),
  openStream: async (target, prompt, observer, signal) => await sseRequest({
    url: `${target.url}/chat?prompt=${encodeURIComponent(prompt)}`,
    read: (message) => message.data === '[DONE]'
      ? { end: true }
      : { text: (parseJson(message.data) as { text?: string } | undefined)?.text ?? '' },
  }, observer, signal),
}
