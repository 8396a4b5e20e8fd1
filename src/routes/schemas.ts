// JSON schemas of the public request shapes. Unknown fields are refused (not silently
// dropped: Fastify's default Ajv would remove them, see app.ts), so a client that sends
// `toolConfig` or `additionalModelRequestFields` learns it has no effect.
import { IMAGE_FORMATS } from '../bedrock/converse-input.js'

const MODEL = { type: 'string', minLength: 1, maxLength: 2048 } as const
const inference = {
  model: MODEL,
  system: { type: 'string', minLength: 1 },
  maxTokens: { type: 'integer', minimum: 1 },
  temperature: { type: 'number', minimum: 0, maximum: 1 },
  topP: { type: 'number', minimum: 0, maximum: 1 },
} as const

const contentBlock = {
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['text'],
      properties: { text: { type: 'string', minLength: 1 } },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['image'],
      properties: {
        image: {
          type: 'object',
          additionalProperties: false,
          required: ['format', 'source'],
          properties: {
            format: { type: 'string', enum: IMAGE_FORMATS },
            source: {
              type: 'object',
              additionalProperties: false,
              required: ['bytes'],
              properties: { bytes: { type: 'string', minLength: 1 } },
            },
          },
        },
      },
    },
  ],
} as const

export const converseBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    prompt: { type: 'string', minLength: 1 },
    messages: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['role', 'content'],
        properties: {
          role: { type: 'string', enum: ['user', 'assistant'] },
          content: {
            oneOf: [
              { type: 'string', minLength: 1 },
              { type: 'array', minItems: 1, items: contentBlock },
            ],
          },
        },
      },
    },
    ...inference,
    stopSequences: { type: 'array', maxItems: 32, items: { type: 'string', minLength: 1, maxLength: 1000 } },
  },
} as const

export const converseQuerySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['prompt'],
  properties: {
    prompt: { type: 'string', minLength: 1 },
    ...inference,
    // For fetch clients, which cannot rely on EventSource's Last-Event-ID header.
    lastEventId: { type: 'string', maxLength: 100 },
  },
} as const
