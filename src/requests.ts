// The public request shapes, each defined once: the schema validates the request (the
// routes hand it to Fastify), its TypeScript type is derived from it (Static), and
// @fastify/swagger publishes it in /openapi.json. Unknown fields are refused, not
// silently dropped (plugin.ts compiles with removeAdditional: false). The content
// blocks, tools and options follow Bedrock's own Converse shapes (bytes as base64), so
// a conversation can go back and forth unchanged; which of them a client may use, and
// how much, is the operator's choice (src/bedrock/converse-input.ts applies it).
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
import { Type, type Static } from 'typebox'
import { ERROR_CATALOGUE } from './errors.js'

export const IMAGE_FORMATS = ['png', 'jpeg', 'gif', 'webp'] as const
export const DOCUMENT_FORMATS = ['pdf', 'csv', 'doc', 'docx', 'xls', 'xlsx', 'html', 'txt', 'md'] as const
export const SERVICE_TIERS = ['default', 'flex', 'priority', 'reserved'] as const

const closed = { additionalProperties: false } as const
const base64 = (description = 'Base64.') => Type.String({ minLength: 1, description })
// Bedrock's own patterns for tool names and tool-use ids.
const toolName = Type.String({ pattern: '^[a-zA-Z0-9_-]{1,64}$' })
const toolUseId = Type.String({ pattern: '^[a-zA-Z0-9_-]{1,64}$' })
const jsonObject = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description })

const inference = {
  model: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'A model id from the allowlist; default BEDROCK_MODEL_ID.' })),
  maxTokens: Type.Optional(Type.Integer({ minimum: 1, description: 'Clamped to MAX_OUTPUT_TOKENS.' })),
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  topP: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
}

export const TextBlock = Type.Object({ text: Type.String({ minLength: 1 }) }, closed)
export const ImageBlock = Type.Object({
  image: Type.Object({
    format: Type.Enum([...IMAGE_FORMATS]),
    source: Type.Object({ bytes: base64() }, closed),
  }, closed),
}, closed)
export const DocumentBlock = Type.Object({
  document: Type.Object({
    format: Type.Enum([...DOCUMENT_FORMATS]),
    name: Type.String({ minLength: 1, maxLength: 200, description: 'Letters, digits, single spaces, hyphens, parentheses, brackets (Bedrock\'s rule).' }),
    source: Type.Union([Type.Object({ bytes: base64() }, closed), Type.Object({ text: Type.String({ minLength: 1 }) }, closed)]),
    context: Type.Optional(Type.String({ maxLength: 4096 })),
    citations: Type.Optional(Type.Object({ enabled: Type.Boolean() }, closed)),
  }, closed),
}, { ...closed, description: 'Counted against MAX_DOCUMENTS and MAX_DOCUMENT_BYTES.' })
export const CachePointBlock = Type.Object({
  cachePoint: Type.Object({ type: Type.Literal('default'), ttl: Type.Optional(Type.Enum(['5m', '1h'])) }, closed),
}, { ...closed, description: 'Prompt caching: everything before it is cached. Counted against MAX_CACHE_POINTS.' })
export const ToolUseBlock = Type.Object({
  toolUse: Type.Object({ toolUseId, name: toolName, input: Type.Unknown({ description: 'The JSON the model produced (the joined tool_input events, parsed).' }) }, closed),
}, closed)
const ToolResultContent = Type.Union([
  TextBlock,
  Type.Object({ json: Type.Unknown() }, closed),
  ImageBlock,
  DocumentBlock,
])
export const ToolResultBlock = Type.Object({
  toolResult: Type.Object({
    toolUseId,
    content: Type.Array(ToolResultContent, { minItems: 1 }),
    status: Type.Optional(Type.Enum(['success', 'error'])),
  }, closed),
}, { ...closed, description: 'The answer of a tool the client ran, in the user turn that follows the toolUse.' })
export const ReasoningBlock = Type.Object({
  reasoningContent: Type.Union([
    Type.Object({ reasoningText: Type.Object({ text: Type.String(), signature: Type.Optional(Type.String()) }, closed) }, closed),
    Type.Object({ redactedContent: base64('Base64, as the `redacted` event gave it.') }, closed),
  ]),
}, { ...closed, description: 'A reasoning block sent back unchanged (with its signature): Bedrock requires them when tools and thinking are combined.' })
export const CitationsContentBlock = Type.Object({
  citationsContent: Type.Object({
    content: Type.Optional(Type.Array(Type.Object({ text: Type.String() }, closed))),
    citations: Type.Optional(Type.Array(Type.Unknown())),
  }, closed),
}, { ...closed, description: 'A cited answer block sent back as `/v1/converse` returned it.' })

export const ContentBlock = Type.Union([
  TextBlock, ImageBlock, DocumentBlock, CachePointBlock, ToolUseBlock, ToolResultBlock, ReasoningBlock, CitationsContentBlock,
])
export const SystemBlock = Type.Union([TextBlock, CachePointBlock])

export const Message = Type.Object({
  role: Type.Enum(['user', 'assistant']),
  content: Type.Union([Type.String({ minLength: 1 }), Type.Array(ContentBlock, { minItems: 1 })]),
}, closed)

export const ToolSpec = Type.Object({
  toolSpec: Type.Object({
    name: toolName,
    description: Type.Optional(Type.String({ minLength: 1 })),
    inputSchema: Type.Object({ json: jsonObject('A JSON Schema of the tool\'s input.') }, closed),
  }, closed),
}, closed)
export const ToolConfig = Type.Object({
  tools: Type.Array(Type.Union([ToolSpec, CachePointBlock]), { minItems: 1 }),
  toolChoice: Type.Optional(Type.Union([
    Type.Object({ auto: Type.Object({}, closed) }, closed),
    Type.Object({ any: Type.Object({}, closed) }, closed),
    Type.Object({ tool: Type.Object({ name: toolName }, closed) }, closed),
  ])),
}, { ...closed, description: 'Tools the model may call; the client runs them (the proxy never does). MAX_TOOLS, MAX_TOOL_CONFIG_BYTES.' })

export const Reasoning = Type.Object({
  budgetTokens: Type.Optional(Type.Integer({ minimum: 1024, description: 'Thinking tokens; clamped to REASONING_MAX_BUDGET_TOKENS (the default) and below maxTokens.' })),
}, { ...closed, description: 'Extended thinking (Anthropic Claude\'s `thinking`), when REASONING_MAX_BUDGET_TOKENS is not 0.' })

export const ConverseBody = Type.Object({
  prompt: Type.Optional(Type.String({ minLength: 1, description: 'One user turn; or send `messages`.' })),
  messages: Type.Optional(Type.Array(Message, { minItems: 1 })),
  system: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Array(SystemBlock, { minItems: 1 })])),
  ...inference,
  stopSequences: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 1000 }), { maxItems: 32 })),
  toolConfig: Type.Optional(ToolConfig),
  reasoning: Type.Optional(Reasoning),
  additionalModelRequestFields: Type.Optional(jsonObject('Model-specific fields; only the keys in ALLOWED_MODEL_REQUEST_FIELDS.')),
  performanceConfig: Type.Optional(Type.Object({ latency: Type.Enum(['standard', 'optimized']) }, { ...closed, description: '`optimized` only with ALLOW_LATENCY_OPTIMIZED.' })),
  serviceTier: Type.Optional(Type.Object({ type: Type.Enum([...SERVICE_TIERS]) }, { ...closed, description: 'Only the tiers in ALLOWED_SERVICE_TIERS.' })),
}, { ...closed, description: 'Exactly one of `prompt` or `messages`.' })

export const ConverseQuery = Type.Object({
  prompt: Type.String({ minLength: 1 }),
  system: Type.Optional(Type.String({ minLength: 1 })),
  ...inference,
  // For fetch clients, which cannot rely on EventSource's Last-Event-ID header.
  lastEventId: Type.Optional(Type.String({ maxLength: 100, description: 'Resume after this event id (as Last-Event-ID).' })),
}, closed)

export const StreamParams = Type.Object({ streamId: Type.String({ pattern: '^[0-9a-f]{24}$' }) })
export const FollowQuery = Type.Object({ lastEventId: Type.Optional(Type.String({ maxLength: 100 })) }, closed)

export const TicketBody = Type.Object({
  // Kept as plain JSON Schema: the key rules (propertyNames) have no TypeBox builder.
  query: Type.Optional(Type.Unsafe<Record<string, string | number | boolean>>({
    type: 'object',
    maxProperties: 32,
    propertyNames: { maxLength: 64, not: { const: 'ticket' } },
    additionalProperties: { anyOf: [{ type: 'string', maxLength: 100_000 }, { type: 'number' }, { type: 'boolean' }] },
    description: 'Bind the ticket to exactly this stream query.',
  })),
}, closed)

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.Enum(Object.keys(ERROR_CATALOGUE)),
    message: Type.String(),
    retryAfterMs: Type.Optional(Type.Integer()),
    resetAt: Type.Optional(Type.String({ description: 'When a used-up budget resets (ISO time).' })),
  }),
}, { description: 'Every error answered before a stream starts.' })

export type PublicContentBlock = Static<typeof ContentBlock>
export type PublicMessage = Static<typeof Message>
export type PublicSystemBlock = Static<typeof SystemBlock>
export type PublicToolConfig = Static<typeof ToolConfig>
/** The body of POST /v1/converse-stream and /v1/converse, and the query of GET. */
export type ConverseRequest = Static<typeof ConverseBody>
