// The operator's rules for the request options beyond a plain conversation (issue 12):
// client tools, extended thinking, raw model fields, prompt caching, documents, latency
// and service tiers, and the guardrail every call carries. Each option is refused
// (`option_not_allowed`) when the operator has not allowed it, refused when over a count
// or size bound (`input_too_large`), or clamped when it is an amount (thinking budget).
// Pure: converse-input.ts calls these while it builds the Converse input.
import type { ConverseStreamCommandInput, GuardrailStreamConfiguration, Tool, ToolChoice, ToolConfiguration } from '@aws-sdk/client-bedrock-runtime'
import { ProxyError } from '../errors.js'
import type { ConverseRequest } from '../requests.js'

/** A JSON value as the SDK types it (its Smithy DocumentType). */
export type DocumentType = NonNullable<ConverseStreamCommandInput['additionalModelRequestFields']>

export interface GuardrailSettings {
  identifier: string
  version: string
  /** ConverseStream only: `sync` holds text until it is checked, `async` streams it and checks behind. */
  streamProcessingMode?: 'sync' | 'async'
  trace?: 'enabled' | 'disabled' | 'enabled_full'
}

export interface FeaturePolicy {
  /** Tool specs per request; 0: client tools (and toolUse/toolResult blocks) are refused. */
  maxTools: number
  /** Bytes of the whole `toolConfig` as JSON. */
  maxToolConfigBytes: number
  /** Largest thinking budget; 0: `reasoning` is refused. */
  reasoningMaxBudgetTokens: number
  /** Top-level keys of `additionalModelRequestFields` clients may send. */
  allowedModelRequestFields: ReadonlySet<string>
  /** cachePoint blocks per request (system, messages, tools); 0: refused. */
  maxCachePoints: number
  /** document blocks per request; 0: refused. */
  maxDocuments: number
  /** Bytes of one document (decoded). */
  maxDocumentBytes: number
  allowLatencyOptimized: boolean
  /** Service tiers clients may ask for besides `default`. */
  allowedServiceTiers: ReadonlySet<string>
  /** Applied to every call unless the key has its own; clients cannot change it. */
  guardrail: GuardrailSettings | undefined
}

/** What the proxy knows about one call that Bedrock should know too. */
export interface CallContext {
  /** The stream id (or /v1/converse call id): requestMetadata, to join AWS invocation logs with the proxy's. */
  streamId: string
  /** The key's configured name, `jwt` or `anonymous` (never a secret or a JWT subject). */
  principalName: string
  /** The key's own guardrail, instead of the server's. */
  guardrail?: GuardrailSettings | undefined
}

// Anthropic's smallest thinking budget (extended thinking docs); Bedrock refuses less.
export const MIN_THINKING_BUDGET_TOKENS = 1024

export function notAllowed (what: string): ProxyError {
  return new ProxyError('option_not_allowed', { message: `${what} is not allowed on this server.` })
}

function tooLarge (message: string): ProxyError {
  return new ProxyError('input_too_large', { message })
}

/** Per-block counts, gathered while the messages and system blocks are mapped. */
export interface BlockCounts { cachePoints: number, documents: number, toolBlocks: number }

export function checkCounts (counts: BlockCounts, policy: FeaturePolicy): void {
  if (counts.toolBlocks > 0 && policy.maxTools === 0) notAllowedThrow('toolUse and toolResult content (client tools)')
  if (counts.cachePoints > 0) {
    if (policy.maxCachePoints === 0) notAllowedThrow('cachePoint (prompt caching)')
    if (counts.cachePoints > policy.maxCachePoints) throw tooLarge(`At most ${policy.maxCachePoints} cachePoint blocks per request (got ${counts.cachePoints}).`)
  }
  if (counts.documents > 0) {
    if (policy.maxDocuments === 0) notAllowedThrow('document content')
    if (counts.documents > policy.maxDocuments) throw tooLarge(`At most ${policy.maxDocuments} documents per request (got ${counts.documents}).`)
  }
}

function notAllowedThrow (what: string): never {
  throw notAllowed(what)
}

export function checkDocumentSize (bytes: number, path: string, policy: FeaturePolicy): void {
  if (bytes > policy.maxDocumentBytes) throw tooLarge(`${path} is ${bytes} bytes; at most ${policy.maxDocumentBytes} per document.`)
}

/** toolConfig as Bedrock takes it, within MAX_TOOLS and MAX_TOOL_CONFIG_BYTES; cachePoints counted. */
export function toToolConfig (config: NonNullable<ConverseRequest['toolConfig']>, policy: FeaturePolicy, counts: BlockCounts): ToolConfiguration {
  if (policy.maxTools === 0) notAllowedThrow('toolConfig (client tools)')
  const specs = config.tools.filter(tool => 'toolSpec' in tool).length
  if (specs > policy.maxTools) throw tooLarge(`At most ${policy.maxTools} tools per request (got ${specs}).`)
  const bytes = Buffer.byteLength(JSON.stringify(config))
  if (bytes > policy.maxToolConfigBytes) throw tooLarge(`toolConfig is ${bytes} bytes as JSON; at most ${policy.maxToolConfigBytes}.`)
  const tools: Tool[] = config.tools.map(tool => {
    if ('cachePoint' in tool) {
      counts.cachePoints += 1
      return { cachePoint: tool.cachePoint }
    }
    const { name, description, inputSchema } = tool.toolSpec
    return { toolSpec: { name, ...(description !== undefined ? { description } : {}), inputSchema: { json: inputSchema.json as DocumentType } } }
  })
  const choice = config.toolChoice
  let toolChoice: ToolChoice | undefined
  if (choice !== undefined) toolChoice = 'tool' in choice ? { tool: { name: choice.tool.name } } : 'any' in choice ? { any: {} } : { auto: {} }
  return { tools, ...(toolChoice !== undefined ? { toolChoice } : {}) }
}

/**
 * `reasoning` -> Anthropic Claude's `thinking` field, the budget clamped to
 * REASONING_MAX_BUDGET_TOKENS and kept below maxTokens (thinking tokens are output
 * tokens: Bedrock refuses a budget of maxTokens or more).
 */
export function toThinking (reasoning: NonNullable<ConverseRequest['reasoning']>, maxTokens: number, policy: FeaturePolicy): Record<string, DocumentType> {
  if (policy.reasoningMaxBudgetTokens === 0) notAllowedThrow('reasoning (extended thinking)')
  const budget = Math.min(reasoning.budgetTokens ?? policy.reasoningMaxBudgetTokens, policy.reasoningMaxBudgetTokens, maxTokens - 1)
  if (budget < MIN_THINKING_BUDGET_TOKENS) {
    throw new ProxyError('bad_request', {
      message: `reasoning needs a budget of at least ${MIN_THINKING_BUDGET_TOKENS} tokens below maxTokens: raise maxTokens above ${MIN_THINKING_BUDGET_TOKENS} (this server allows up to ${policy.reasoningMaxBudgetTokens} thinking tokens).`,
    })
  }
  return { thinking: { type: 'enabled', budget_tokens: budget } }
}

/** Raw model fields: only the keys the operator named. */
export function checkModelFields (fields: Record<string, unknown>, policy: FeaturePolicy): void {
  for (const key of Object.keys(fields)) {
    if (!policy.allowedModelRequestFields.has(key)) notAllowedThrow(`additionalModelRequestFields.${key.slice(0, 64)}`)
  }
}

export function checkPerformance (req: ConverseRequest, policy: FeaturePolicy): void {
  if (req.performanceConfig?.latency === 'optimized' && !policy.allowLatencyOptimized) notAllowedThrow('performanceConfig latency "optimized"')
  const tier = req.serviceTier?.type
  if (tier !== undefined && tier !== 'default' && !policy.allowedServiceTiers.has(tier)) notAllowedThrow(`serviceTier "${tier}"`)
}

export function toGuardrailConfig (settings: GuardrailSettings): GuardrailStreamConfiguration {
  return {
    guardrailIdentifier: settings.identifier,
    guardrailVersion: settings.version,
    ...(settings.streamProcessingMode !== undefined ? { streamProcessingMode: settings.streamProcessingMode } : {}),
    ...(settings.trace !== undefined ? { trace: settings.trace } : {}),
  }
}

/** The keys Bedrock accepts in requestMetadata: [a-zA-Z0-9\s:_@$#=/+,-.], at most 256 characters. */
export function toRequestMetadata (call: CallContext): Record<string, string> {
  return { proxyStreamId: call.streamId, proxyKey: call.principalName.replace(/[^a-zA-Z0-9\s:_@$#=/+,.-]/g, '_').slice(0, 256) }
}
