// The table, part 4: the Bedrock features a client may use beyond a plain conversation
// (issue 12), and the guardrail the server applies to every call. Assembled into the
// FeaturePolicy by features.ts; applied by src/bedrock/converse-input.ts.
import { SERVICE_TIERS } from '../requests.js'
import { bool, enumOf, int, list, string } from './kinds.js'

const MIB = 1_048_576

export const FEATURES = {
  MAX_TOOLS: int({ default: 32, min: 0, max: 1000, doc: 'tool specs a request may offer in `toolConfig`; more answer 400 `input_too_large`; `0` refuses client tools (`toolConfig`, `toolUse` and `toolResult` blocks: 400 `option_not_allowed`)' }),
  MAX_TOOL_CONFIG_BYTES: int({ default: 65_536, min: 256, max: 16 * MIB, doc: 'bytes of a request\'s whole `toolConfig` as JSON (tool specs are input tokens on every turn)' }),
  REASONING_MAX_BUDGET_TOKENS: int({ default: 4096, min: 0, max: 1_000_000, doc: 'largest thinking budget of `reasoning` (Anthropic Claude\'s `thinking`): a larger or unset `budgetTokens` is clamped to it, and below the request\'s `maxTokens`; `0` refuses `reasoning`; else at least `1024`' }),
  ALLOWED_MODEL_REQUEST_FIELDS: list({
    check: key => /^[A-Za-z0-9_.-]{1,64}$/.test(key) ? undefined : `has an invalid field name "${key}"`,
    doc: 'top-level keys of `additionalModelRequestFields` clients may send (for instance `top_k`); unset: the field is refused. Values pass as sent, so allow only keys whose cost you accept',
  }),
  MAX_CACHE_POINTS: int({ default: 4, min: 0, max: 100, doc: '`cachePoint` blocks per request (system, messages, tools); `0` refuses prompt caching' }),
  MAX_DOCUMENTS: int({ default: 5, min: 0, max: 100, doc: '`document` blocks per request (tool results included); `0` refuses documents' }),
  MAX_DOCUMENT_BYTES: int({ default: 4_718_592, min: 1, max: 100 * MIB, doc: 'bytes of one document, decoded (Bedrock\'s own limit is 4.5 MiB); `BODY_LIMIT_BYTES` bounds the base64 body too' }),
  ALLOW_LATENCY_OPTIMIZED: bool({ default: false, doc: 'accept `performanceConfig: { latency: "optimized" }` (billed at a higher rate where offered)' }),
  ALLOWED_SERVICE_TIERS: list({
    check: tier => (SERVICE_TIERS as readonly string[]).includes(tier) ? undefined : `has an unknown tier "${tier}" (${SERVICE_TIERS.join(', ')})`,
    doc: 'service tiers clients may ask for with `serviceTier` besides `default`: `flex`, `priority`, `reserved`',
  }),
  GUARDRAIL_IDENTIFIER: string({
    commented: true,
    example: 'gr-abc123xyz',
    check: id => /^[A-Za-z0-9:/._-]{1,2048}$/.test(id) ? undefined : `is not a guardrail id or ARN (got "${id}")`,
    doc: 'a Bedrock guardrail (id or ARN) applied to every call; clients cannot turn it off. A key in `API_KEYS_FILE` can have its own',
  }),
  GUARDRAIL_VERSION: string({
    commented: true,
    example: '1',
    check: v => /^(DRAFT|[1-9][0-9]{0,7})$/.test(v) ? undefined : `must be DRAFT or a version number (got "${v}")`,
    doc: 'the guardrail\'s version (`DRAFT` or a number); required with `GUARDRAIL_IDENTIFIER`',
  }),
  GUARDRAIL_STREAM_PROCESSING_MODE: enumOf({ values: ['sync', 'async'], default: 'sync', doc: '`sync`: streamed text is held until the guardrail has checked it; `async`: text streams at once and is checked behind it (faster, but a blocked answer may be partly shown)' }),
  GUARDRAIL_TRACE: enumOf({ values: ['disabled', 'enabled', 'enabled_full'], default: 'disabled', doc: 'the guardrail trace in the final `usage` event (`trace`): `enabled`, `enabled_full` or `disabled`' }),
}
