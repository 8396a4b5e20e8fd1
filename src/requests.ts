// The public request shapes, each defined once: the schema validates the request (the
// routes hand it to Fastify), its TypeScript type is derived from it (Static), and
// @fastify/swagger publishes it in /openapi.json. Unknown fields are refused, not
// silently dropped (plugin.ts compiles with removeAdditional: false), so a client that
// sends `toolConfig` or `additionalModelRequestFields` learns it has no effect.
import { Type, type Static } from 'typebox'
import { ERROR_CATALOGUE } from './errors.js'

export const IMAGE_FORMATS = ['png', 'jpeg', 'gif', 'webp'] as const

const closed = { additionalProperties: false } as const

const inference = {
  model: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'A model id from the allowlist; default BEDROCK_MODEL_ID.' })),
  system: Type.Optional(Type.String({ minLength: 1 })),
  maxTokens: Type.Optional(Type.Integer({ minimum: 1, description: 'Clamped to MAX_OUTPUT_TOKENS.' })),
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  topP: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
}

export const TextBlock = Type.Object({ text: Type.String({ minLength: 1 }) }, closed)
export const ImageBlock = Type.Object({
  image: Type.Object({
    format: Type.Enum([...IMAGE_FORMATS]),
    source: Type.Object({ bytes: Type.String({ minLength: 1, description: 'Base64.' }) }, closed),
  }, closed),
}, closed)
export const ContentBlock = Type.Union([TextBlock, ImageBlock])

export const Message = Type.Object({
  role: Type.Enum(['user', 'assistant']),
  content: Type.Union([Type.String({ minLength: 1 }), Type.Array(ContentBlock, { minItems: 1 })]),
}, closed)

export const ConverseBody = Type.Object({
  prompt: Type.Optional(Type.String({ minLength: 1, description: 'One user turn; or send `messages`.' })),
  messages: Type.Optional(Type.Array(Message, { minItems: 1 })),
  ...inference,
  stopSequences: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 1000 }), { maxItems: 32 })),
}, { ...closed, description: 'Exactly one of `prompt` or `messages`.' })

export const ConverseQuery = Type.Object({
  prompt: Type.String({ minLength: 1 }),
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
/** The body of POST /v1/converse-stream and /v1/converse, and the query of GET. */
export type ConverseRequest = Static<typeof ConverseBody>
