// The public request (validated against src/requests.ts) -> Bedrock's Converse input.
// Here the server-side rules apply: the model allowlist and the output-token cap
// (an unset maxTokens would mean the model's maximum, FIELD-NOTES 8).
import type { ContentBlock, ConverseStreamCommandInput, ImageFormat, Message } from '@aws-sdk/client-bedrock-runtime'
import { ProxyError } from '../errors.js'
import type { ConverseRequest, PublicContentBlock, PublicMessage } from '../requests.js'

export type { ConverseRequest }

export interface ModelPolicy {
  defaultModelId: string
  allowedModels: ReadonlySet<string>
  maxOutputTokens: number
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Resolves the model the request will run on, or refuses it before Bedrock is called. */
export function resolveModel (requested: string | undefined, policy: ModelPolicy): string {
  const model = requested ?? policy.defaultModelId
  if (!policy.allowedModels.has(model)) {
    throw new ProxyError('model_not_allowed', { message: `Model "${model.slice(0, 200)}" is not allowed on this server.` })
  }
  return model
}

export type ConverseInput = ConverseStreamCommandInput & { modelId: string }

export function toConverseInput (req: ConverseRequest, policy: ModelPolicy): ConverseInput {
  if ((req.prompt === undefined) === (req.messages === undefined)) {
    throw new ProxyError('bad_request', { message: 'Send exactly one of "prompt" or "messages".' })
  }
  const modelId = resolveModel(req.model, policy)
  const messages: Message[] = req.prompt !== undefined
    ? [{ role: 'user', content: [{ text: req.prompt }] }]
    : (req.messages ?? []).map(toMessage)
  return {
    modelId,
    messages,
    ...(req.system !== undefined ? { system: [{ text: req.system }] } : {}),
    inferenceConfig: {
      // Clamp, never pass through: the cap is the first defence of the wallet.
      maxTokens: Math.min(req.maxTokens ?? policy.maxOutputTokens, policy.maxOutputTokens),
      ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
      ...(req.topP !== undefined ? { topP: req.topP } : {}),
      ...(req.stopSequences !== undefined ? { stopSequences: req.stopSequences } : {}),
    },
  }
}

function toMessage (message: PublicMessage, i: number): Message {
  const blocks = typeof message.content === 'string' ? [{ text: message.content }] : message.content
  return { role: message.role, content: blocks.map((block, j) => toContentBlock(block, `messages/${i}/content/${j}`)) }
}

function toContentBlock (block: PublicContentBlock, path: string): ContentBlock {
  if ('text' in block) return { text: block.text }
  const { format, source } = block.image // the format was checked by the schema
  if (source.bytes.length === 0 || !BASE64.test(source.bytes)) {
    throw new ProxyError('bad_request', { message: `${path}/image/source/bytes must be base64.` })
  }
  return { image: { format: format as ImageFormat, source: { bytes: Buffer.from(source.bytes, 'base64') } } }
}
