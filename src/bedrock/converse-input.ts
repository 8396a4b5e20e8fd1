// The public request (validated against src/requests.ts) -> Bedrock's Converse input.
// The one place every server-side rule applies (every route, and any future surface,
// builds its input here): the model allowlist, the output-token cap (an unset maxTokens
// would mean the model's maximum, FIELD-NOTES 8), and the operator's rules for tools,
// thinking, caching, documents and tiers (request-policy.ts); then what the proxy adds
// on its own: the guardrail and requestMetadata.
import type { ContentBlock, ConverseStreamCommandInput, DocumentFormat, ImageFormat, Message, SystemContentBlock, ToolResultContentBlock } from '@aws-sdk/client-bedrock-runtime'
import { ProxyError } from '../errors.js'
import type { ConverseRequest, PublicContentBlock, PublicMessage, PublicSystemBlock } from '../requests.js'
import {
  checkCounts, checkDocumentSize, checkModelFields, checkPerformance, toGuardrailConfig, toRequestMetadata, toThinking, toToolConfig,
  type BlockCounts, type CallContext, type DocumentType, type FeaturePolicy,
} from './request-policy.js'

export type { ConverseRequest }
export type { CallContext, FeaturePolicy, GuardrailSettings } from './request-policy.js'

export interface ModelPolicy {
  defaultModelId: string
  allowedModels: ReadonlySet<string>
  maxOutputTokens: number
  features: FeaturePolicy
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Resolves the model the request will run on, or refuses it before Bedrock is called. */
export function resolveModel (requested: string | undefined, policy: Pick<ModelPolicy, 'defaultModelId' | 'allowedModels'>): string {
  const model = requested ?? policy.defaultModelId
  if (!policy.allowedModels.has(model)) {
    throw new ProxyError('model_not_allowed', { message: `Model "${model.slice(0, 200)}" is not allowed on this server.` })
  }
  return model
}

export type ConverseInput = ConverseStreamCommandInput & { modelId: string }

/** `call` adds what the proxy sets itself: the guardrail (the key's, else the server's) and requestMetadata. */
export function toConverseInput (req: ConverseRequest, policy: ModelPolicy, call?: CallContext): ConverseInput {
  if ((req.prompt === undefined) === (req.messages === undefined)) {
    throw new ProxyError('bad_request', { message: 'Send exactly one of "prompt" or "messages".' })
  }
  const features = policy.features
  const modelId = resolveModel(req.model, policy)
  const counts: BlockCounts = { cachePoints: 0, documents: 0, toolBlocks: 0 }
  const mapper = new BlockMapper(features, counts)
  const messages: Message[] = req.prompt !== undefined
    ? [{ role: 'user', content: [{ text: req.prompt }] }]
    : (req.messages ?? []).map((message, i) => mapper.message(message, i))
  const system = req.system === undefined ? undefined : typeof req.system === 'string' ? [{ text: req.system }] : req.system.map(block => mapper.system(block))
  // Clamp, never pass through: the cap is the first defence of the wallet.
  const maxTokens = Math.min(req.maxTokens ?? policy.maxOutputTokens, policy.maxOutputTokens)
  const toolConfig = req.toolConfig !== undefined ? toToolConfig(req.toolConfig, features, counts) : undefined
  checkCounts(counts, features)
  checkPerformance(req, features)
  const modelFields = modelRequestFields(req, maxTokens, features)
  const guardrail = call?.guardrail ?? features.guardrail
  return {
    modelId,
    messages,
    ...(system !== undefined ? { system } : {}),
    inferenceConfig: {
      maxTokens,
      ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
      ...(req.topP !== undefined ? { topP: req.topP } : {}),
      ...(req.stopSequences !== undefined ? { stopSequences: req.stopSequences } : {}),
    },
    ...(toolConfig !== undefined ? { toolConfig } : {}),
    ...(modelFields !== undefined ? { additionalModelRequestFields: modelFields } : {}),
    ...(req.performanceConfig !== undefined ? { performanceConfig: { latency: req.performanceConfig.latency } } : {}),
    ...(req.serviceTier !== undefined ? { serviceTier: { type: req.serviceTier.type } } : {}),
    ...(guardrail !== undefined ? { guardrailConfig: toGuardrailConfig(guardrail) } : {}),
    ...(call !== undefined ? { requestMetadata: toRequestMetadata(call) } : {}),
  }
}

/** The client's allowed raw fields, plus `thinking` from `reasoning` (never both). */
function modelRequestFields (req: ConverseRequest, maxTokens: number, features: FeaturePolicy): Record<string, DocumentType> | undefined {
  const raw = req.additionalModelRequestFields
  if (raw !== undefined) checkModelFields(raw, features)
  if (req.reasoning === undefined) return raw as Record<string, DocumentType> | undefined
  if (raw !== undefined && 'thinking' in raw) {
    throw new ProxyError('bad_request', { message: 'Send "reasoning" or additionalModelRequestFields.thinking, not both.' })
  }
  return { ...(raw as Record<string, DocumentType> | undefined), ...toThinking(req.reasoning, maxTokens, features) }
}

/** Maps content blocks to Bedrock's shapes (bytes decoded), counting what the policy bounds. */
class BlockMapper {
  readonly #features: FeaturePolicy
  readonly #counts: BlockCounts

  constructor (features: FeaturePolicy, counts: BlockCounts) {
    this.#features = features
    this.#counts = counts
  }

  message (message: PublicMessage, i: number): Message {
    const blocks = typeof message.content === 'string' ? [{ text: message.content }] : message.content
    return { role: message.role, content: blocks.map((block, j) => this.block(block, `messages/${i}/content/${j}`)) }
  }

  system (block: PublicSystemBlock): SystemContentBlock {
    if ('text' in block) return { text: block.text }
    this.#counts.cachePoints += 1
    return { cachePoint: block.cachePoint }
  }

  block (block: PublicContentBlock, path: string): ContentBlock {
    if ('text' in block) return { text: block.text }
    if ('image' in block) return { image: this.image(block.image, path) }
    if ('document' in block) return { document: this.document(block.document, `${path}/document`) }
    if ('cachePoint' in block) {
      this.#counts.cachePoints += 1
      return { cachePoint: block.cachePoint }
    }
    if ('toolUse' in block) {
      this.#counts.toolBlocks += 1
      const { toolUseId, name, input } = block.toolUse
      return { toolUse: { toolUseId, name, input: (input ?? {}) as DocumentType } }
    }
    if ('toolResult' in block) {
      this.#counts.toolBlocks += 1
      const { toolUseId, content, status } = block.toolResult
      return {
        toolResult: {
          toolUseId,
          content: content.map((item, k) => this.toolResultItem(item, `${path}/toolResult/content/${k}`)),
          ...(status !== undefined ? { status } : {}),
        },
      }
    }
    if ('reasoningContent' in block) {
      const r = block.reasoningContent
      if ('reasoningText' in r) return { reasoningContent: { reasoningText: r.reasoningText } }
      return { reasoningContent: { redactedContent: decode(r.redactedContent, `${path}/reasoningContent/redactedContent`) } }
    }
    const { content, citations } = block.citationsContent
    return { citationsContent: { ...(content !== undefined ? { content } : {}), ...(citations !== undefined ? { citations: citations as never } : {}) } }
  }

  toolResultItem (item: NonNullable<Extract<PublicContentBlock, { toolResult: unknown }>['toolResult']>['content'][number], path: string): ToolResultContentBlock {
    if ('text' in item) return { text: item.text }
    if ('json' in item) return { json: (item.json ?? null) as DocumentType }
    if ('image' in item) return { image: this.image(item.image, path) }
    return { document: this.document(item.document, `${path}/document`) }
  }

  image (image: Extract<PublicContentBlock, { image: unknown }>['image'], path: string): NonNullable<ContentBlock.ImageMember['image']> {
    // The format was checked by the schema.
    return { format: image.format as ImageFormat, source: { bytes: decode(image.source.bytes, `${path}/image/source/bytes`) } }
  }

  document (doc: Extract<PublicContentBlock, { document: unknown }>['document'], path: string): NonNullable<ContentBlock.DocumentMember['document']> {
    this.#counts.documents += 1
    const bytes = 'bytes' in doc.source ? decode(doc.source.bytes, `${path}/source/bytes`) : undefined
    const text = 'text' in doc.source ? doc.source.text : ''
    checkDocumentSize(bytes?.byteLength ?? Buffer.byteLength(text), path, this.#features)
    const source = bytes !== undefined ? { bytes } : { text }
    return {
      format: doc.format as DocumentFormat,
      name: doc.name,
      source,
      ...(doc.context !== undefined ? { context: doc.context } : {}),
      ...(doc.citations !== undefined ? { citations: doc.citations } : {}),
    }
  }
}

function decode (text: string, path: string): Uint8Array {
  if (text.length === 0 || !BASE64.test(text)) throw new ProxyError('bad_request', { message: `${path} must be base64.` })
  return Buffer.from(text, 'base64')
}
