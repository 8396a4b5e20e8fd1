// Response shapes of the /v1 routes, for the OpenAPI document (/openapi.json) and for
// Fastify's serializers. A stream is sent as a Readable, so its schema is documentation
// only: the event contract of src/events.ts, one entry per event type.
import { Type } from 'typebox'
import { EVENT_SCHEMAS, RELAY_EVENT_TYPES } from '../events.js'
import { ErrorBody } from '../requests.js'

export const EventStream = {
  description: 'A text/event-stream. Each frame: `id: <streamId>-<seq>`, `event: <type>`, `data: <one line of JSON>`; comment lines (`: ping`) are heartbeats. Always ends with `done`.',
  content: {
    'text/event-stream': {
      schema: Type.Union(RELAY_EVENT_TYPES.map(type => Type.Object({ event: Type.Literal(type), data: EVENT_SCHEMAS[type] }))),
    },
  },
}

/** 204: nothing left to resume (fully delivered, unknown, expired): EventSource stops for good. */
export const NothingToResume = { description: 'Nothing left to send for this Last-Event-ID; EventSource stops reconnecting.', type: 'null' } as const

export const ErrorResponses = { '4xx': ErrorBody, '5xx': ErrorBody }

export const ConverseResult = Type.Object({
  text: Type.String({ description: 'The text blocks of the answer, joined.' }),
  content: Type.Array(Type.Unknown(), { description: "Bedrock's content blocks (text, reasoningContent with its signature, toolUse, citationsContent ...), bytes as base64: send them back as they are in the next turn's messages." }),
  stopReason: Type.String(),
  usage: EVENT_SCHEMAS.usage,
  metrics: Type.Object({ latencyMs: Type.Integer() }),
  trace: Type.Optional(Type.Unknown({ description: 'The guardrail trace, when GUARDRAIL_TRACE is on.' })),
  performanceConfig: Type.Optional(Type.Object({ latency: Type.String() })),
  serviceTier: Type.Optional(Type.Object({ type: Type.String() })),
})

export const TicketResult = Type.Object({ ticket: Type.String(), expiresAt: Type.String({ description: 'ISO time.' }) })

export const CancelResult = Type.Object({ streamId: Type.String(), status: Type.Enum(['cancelling', 'ended']) })
