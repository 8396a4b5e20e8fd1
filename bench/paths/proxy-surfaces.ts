// This proxy's other surfaces, on the same server and pipeline as `proxy`: the OpenAI
// chat completion stream and the AI SDK UI message stream (issue 11). Loaded as feature
// variants, so the cost of each framing shows beside the native event stream, and beside
// the Portkey gateway and the AI SDK route that speak the same formats.
import { readUiPart } from './ai-sdk.js'
import { readOpenAIChunk } from './portkey.js'
import { proxyPath } from './proxy.js'
import { sseRequest } from './sse-request.js'
import { MODEL_ID, type PathSpec, type Target } from './types.js'

const headers = (target: Target): Record<string, string> => ({
  'content-type': 'application/json',
  ...(target.apiKey !== undefined ? { authorization: `Bearer ${target.apiKey}` } : {}),
})

export const proxyOpenAIPath: PathSpec = {
  id: 'proxy-openai',
  label: 'this proxy, OpenAI surface',
  ...(proxyPath.server !== undefined ? { server: proxyPath.server } : {}),
  openStream: async (target, prompt, observer, signal) => await sseRequest({
    url: `${target.url}/v1/chat/completions`,
    method: 'POST',
    headers: headers(target),
    body: JSON.stringify({ model: MODEL_ID, stream: true, messages: [{ role: 'user', content: prompt }] }),
    read: readOpenAIChunk,
  }, observer, signal),
}

let chats = 0

export const proxyUiChatPath: PathSpec = {
  id: 'proxy-ui-chat',
  label: 'this proxy, AI SDK surface',
  ...(proxyPath.server !== undefined ? { server: proxyPath.server } : {}),
  openStream: async (target, prompt, observer, signal) => await sseRequest({
    url: `${target.url}/v1/ui-chat`,
    method: 'POST',
    headers: headers(target),
    body: JSON.stringify({ id: `bench-${process.pid}-${++chats}`, trigger: 'submit-message', messages: [{ id: 'u', role: 'user', parts: [{ type: 'text', text: prompt }] }] }),
    read: readUiPart,
  }, observer, signal),
}
