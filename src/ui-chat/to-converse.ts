// The AI SDK's UI messages -> the native ConverseRequest, as the AI SDK's own
// convertToModelMessages would build model messages from them: text parts become text,
// image file parts (data URLs) become images, system messages the system prompt; parts
// that are the page's own bookkeeping (step-start, sources, data-*) are not model input.
// Reasoning parts of earlier answers are left out: Bedrock needs them back only when
// tools and extended thinking are combined. Tool parts are refused, not dropped: this
// surface does not offer tools.
import { ProxyError } from '../errors.js'
import type { ConverseRequest, PublicContentBlock, PublicMessage } from '../requests.js'
import { appendTurn, imageFromDataUrl } from '../turns.js'
import type { UIChatRequest, UIMessagePart } from './schemas.js'

const NOT_MODEL_INPUT = new Set(['step-start', 'source-url', 'source-document', 'reasoning'])

export function uiChatToConverse (body: UIChatRequest): ConverseRequest {
  const system: string[] = []
  const messages: PublicMessage[] = []
  body.messages.forEach((message, i) => {
    const blocks = message.parts.flatMap((part, j) => toBlocks(part as UIMessagePart, `messages.${i}.parts.${j}`))
    if (message.role === 'system') system.push(blocks.map(b => 'text' in b ? b.text : '').join(''))
    else appendTurn(messages, message.role, blocks)
  })
  if (messages.length === 0) throw new ProxyError('bad_request', { message: 'Send at least one user message with text.', param: 'messages' })
  const { model, maxTokens, temperature, topP } = body
  const prompt = [...system, ...(body.system !== undefined ? [body.system] : [])]
  return {
    messages,
    ...(prompt.length > 0 ? { system: prompt.join('\n\n') } : {}),
    ...(model !== undefined ? { model } : {}),
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(temperature !== undefined ? { temperature } : {}),
    ...(topP !== undefined ? { topP } : {}),
  }
}

function toBlocks (part: UIMessagePart, at: string): PublicContentBlock[] {
  if (part.type === 'text') {
    if (typeof part['text'] !== 'string') throw new ProxyError('bad_request', { message: `${at}.text must be a string.`, param: `${at}.text` })
    return part['text'] === '' ? [] : [{ text: part['text'] }] // an empty text part is a block the answer opened and never filled
  }
  if (part.type === 'file') {
    const { mediaType, url } = part
    if (typeof mediaType !== 'string' || !mediaType.startsWith('image/') || typeof url !== 'string') {
      throw new ProxyError('bad_request', { message: `${at}: only image files are accepted.`, param: at })
    }
    return [imageFromDataUrl(url, `${at}.url`)]
  }
  if (NOT_MODEL_INPUT.has(part.type) || part.type.startsWith('data-')) return []
  throw new ProxyError('bad_request', { message: `${at}: parts of type "${part.type.slice(0, 100)}" are not supported here.`, param: `${at}.type` })
}
