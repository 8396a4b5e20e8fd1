// Input limits on a validated request: how many messages, how much text. The body size
// (BODY_LIMIT_BYTES) bounds bytes; these bound what the model is asked to read, which
// is what input tokens are billed on. Images are bounded by the body size only.
import type { ConverseRequest } from '../bedrock/converse-input.js'
import { ProxyError } from '../errors.js'

export interface InputLimits {
  maxMessages: number
  maxPromptChars: number
}

/** Characters of text across prompt, system and every message's text blocks. */
export function textChars (req: ConverseRequest): number {
  let chars = (req.prompt?.length ?? 0) + (req.system?.length ?? 0)
  for (const message of req.messages ?? []) {
    if (typeof message.content === 'string') chars += message.content.length
    else for (const block of message.content) if ('text' in block) chars += block.text.length
  }
  return chars
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
