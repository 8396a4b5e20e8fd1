// An OpenAI chat completion request -> the native ConverseRequest, which then meets the
// same rules as every other (input limits, allowlist, output cap: converse-input.ts).
// What Bedrock models differently is mapped, not dropped: system and developer messages
// become the system prompt (Bedrock has no system turns), consecutive turns of one role
// are merged (Bedrock requires alternation; OpenAI does not), images come only as data
// URLs (the proxy fetches no URLs for anyone).
import { ProxyError } from '../errors.js'
import type { ConverseRequest, PublicContentBlock, PublicMessage } from '../requests.js'
import { appendTurn, imageFromDataUrl } from '../turns.js'
import type { ChatCompletionRequest } from './schemas.js'

type ChatMessage = ChatCompletionRequest['messages'][number]
type Part = Exclude<ChatMessage['content'], string>[number]

export function chatToConverse (body: ChatCompletionRequest, aliases: ReadonlyMap<string, string>): ConverseRequest {
  const system: string[] = []
  const messages: PublicMessage[] = []
  body.messages.forEach((message, i) => {
    const blocks = toBlocks(message.content, `messages.${i}.content`)
    if (message.role === 'system' || message.role === 'developer') {
      system.push(blocks.map(b => 'text' in b ? b.text : '').join(''))
      return
    }
    appendTurn(messages, message.role, blocks)
  })
  if (messages.length === 0) throw new ProxyError('bad_request', { message: 'Send at least one user message.', param: 'messages' })
  const maxTokens = body.max_completion_tokens ?? body.max_tokens
  const stop = typeof body.stop === 'string' ? [body.stop] : body.stop
  return {
    model: aliases.get(body.model) ?? body.model,
    messages,
    ...(system.length > 0 ? { system: system.join('\n\n') } : {}),
    ...(maxTokens != null ? { maxTokens } : {}),
    ...(body.temperature != null ? { temperature: body.temperature } : {}),
    ...(body.top_p != null ? { topP: body.top_p } : {}),
    ...(stop != null && stop.length > 0 ? { stopSequences: stop } : {}),
  }
}

function toBlocks (content: ChatMessage['content'], param: string): PublicContentBlock[] {
  const parts: Part[] = typeof content === 'string' ? [{ type: 'text', text: content }] : content
  return parts.map((part, j) => {
    const at = typeof content === 'string' ? param : `${param}.${j}`
    if (part.type === 'text') {
      // Bedrock refuses blank text blocks; say where, in the client's terms.
      if (part.text === '') throw new ProxyError('bad_request', { message: `${at} is empty.`, param: at })
      return { text: part.text }
    }
    return imageFromDataUrl(part.image_url.url, `${at}.image_url.url`)
  })
}
