// Input limits on a validated request: how many messages, how much text. The body size
// (BODY_LIMIT_BYTES) bounds bytes; these bound what the model is asked to read, which
// is what input tokens are billed on. Images are bounded by the body size only;
// documents by MAX_DOCUMENTS and MAX_DOCUMENT_BYTES (src/bedrock/request-policy.ts).
import type { ConverseRequest } from '../bedrock/converse-input.js'
import type { PublicContentBlock } from '../requests.js'
import { ProxyError } from '../errors.js'

export interface InputLimits {
  maxMessages: number
  maxPromptChars: number
}

/**
 * Characters of text the model reads: prompt, system, and every block's text (tool
 * results, tool inputs and tool specs as JSON, reasoning sent back, text documents).
 * Images and binary documents are bounded by their own limits and the body size.
 */
export function textChars (req: ConverseRequest): number {
  let chars = req.prompt?.length ?? 0
  if (typeof req.system === 'string') chars += req.system.length
  else for (const block of req.system ?? []) if ('text' in block) chars += block.text.length
  for (const message of req.messages ?? []) {
    if (typeof message.content === 'string') chars += message.content.length
    else for (const block of message.content) chars += blockChars(block)
  }
  if (req.toolConfig !== undefined) chars += JSON.stringify(req.toolConfig.tools).length
  return chars
}

function blockChars (block: PublicContentBlock): number {
  if ('text' in block) return block.text.length
  if ('toolResult' in block) {
    let chars = 0
    for (const item of block.toolResult.content) {
      if ('text' in item) chars += item.text.length
      else if ('json' in item) chars += JSON.stringify(item.json ?? null).length
    }
    return chars
  }
  if ('toolUse' in block) return JSON.stringify(block.toolUse.input ?? {}).length
  if ('reasoningContent' in block && 'reasoningText' in block.reasoningContent) return block.reasoningContent.reasoningText.text.length
  if ('document' in block && 'text' in block.document.source) return block.document.source.text.length
  return 0
}

/** Returns the text size (for the usage estimate), or throws input_too_large. */
export function checkInput (req: ConverseRequest, limits: InputLimits): number {
  const messages = req.messages?.length ?? 0
  if (messages > limits.maxMessages) {
    throw new ProxyError('input_too_large', { message: `At most ${limits.maxMessages} messages per request (got ${messages}).` })
  }
  const chars = textChars(req)
  if (chars > limits.maxPromptChars) {
    throw new ProxyError('input_too_large', { message: `At most ${limits.maxPromptChars} characters of text per request (got ${chars}).` })
  }
  return chars
}
