// The feature part of the Config (issue 12): what clients may ask of Bedrock beyond a
// plain conversation, and the server's guardrail. The variables are entries of the
// table in settings-features.ts.
import { MIN_THINKING_BUDGET_TOKENS, type FeaturePolicy, type GuardrailSettings } from '../bedrock/request-policy.js'
import type { Values } from './settings.js'

export function featureConfig (v: Values, problems: string[]): FeaturePolicy {
  const budget = v.REASONING_MAX_BUDGET_TOKENS
  if (budget > 0 && budget < MIN_THINKING_BUDGET_TOKENS) {
    problems.push(`REASONING_MAX_BUDGET_TOKENS must be 0 (off) or at least ${MIN_THINKING_BUDGET_TOKENS}, the smallest thinking budget Bedrock accepts (got ${budget})`)
  }
  return {
    maxTools: v.MAX_TOOLS,
    maxToolConfigBytes: v.MAX_TOOL_CONFIG_BYTES,
    reasoningMaxBudgetTokens: v.REASONING_MAX_BUDGET_TOKENS,
    allowedModelRequestFields: new Set(v.ALLOWED_MODEL_REQUEST_FIELDS),
    maxCachePoints: v.MAX_CACHE_POINTS,
    maxDocuments: v.MAX_DOCUMENTS,
    maxDocumentBytes: v.MAX_DOCUMENT_BYTES,
    allowLatencyOptimized: v.ALLOW_LATENCY_OPTIMIZED,
    allowedServiceTiers: new Set(v.ALLOWED_SERVICE_TIERS),
    guardrail: guardrailOf(v, problems),
  }
}

function guardrailOf (v: Values, problems: string[]): GuardrailSettings | undefined {
  if (v.GUARDRAIL_IDENTIFIER === undefined) {
    if (v.GUARDRAIL_VERSION !== undefined) problems.push('GUARDRAIL_VERSION is set without GUARDRAIL_IDENTIFIER')
    return undefined
  }
  if (v.GUARDRAIL_VERSION === undefined) {
    problems.push('GUARDRAIL_IDENTIFIER needs GUARDRAIL_VERSION (DRAFT or a version number)')
    return undefined
  }
  return {
    identifier: v.GUARDRAIL_IDENTIFIER,
    version: v.GUARDRAIL_VERSION,
    streamProcessingMode: v.GUARDRAIL_STREAM_PROCESSING_MODE,
    trace: v.GUARDRAIL_TRACE,
  }
}
