// What the Vercel AI SDK's `useChat` sends through its default transport
// (DefaultChatTransport: `{ id, messages: UIMessage[], trigger, messageId, ...body }`), for
// POST /v1/ui-chat. A UIMessage's parts are open-ended in the AI SDK (its own schemas
// accept extra keys: state, providerMetadata), so parts are checked by their `type` when
// they are mapped (ui-chat/to-converse.ts), and the rest of the body is closed as
// everywhere else: the inference options are the native ones, sent through the
// transport's `body` option.
import { Type, type Static } from 'typebox'

const inference = {
  model: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'A model id from the allowlist; default BEDROCK_MODEL_ID.' })),
  system: Type.Optional(Type.String({ minLength: 1 })),
  maxTokens: Type.Optional(Type.Integer({ minimum: 1, description: 'Clamped to MAX_OUTPUT_TOKENS.' })),
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  topP: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
}

export const UIPart = Type.Object({ type: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: true })

export const UIMessage = Type.Object({
  id: Type.String({ maxLength: 200 }),
  role: Type.Enum(['system', 'user', 'assistant']),
  parts: Type.Array(UIPart),
  metadata: Type.Optional(Type.Unknown()),
}, { additionalProperties: false })

// The chat id names the stream for the reconnect (GET /v1/ui-chat/{id}/stream).
export const ChatId = Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })

export const UIChatBody = Type.Object({
  id: ChatId,
  messages: Type.Array(UIMessage, { minItems: 1 }),
  trigger: Type.Optional(Type.Enum(['submit-message', 'regenerate-message'])),
  messageId: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
  ...inference,
}, { additionalProperties: false, description: "The AI SDK's chat request (useChat with DefaultChatTransport)." })

export type UIChatRequest = Static<typeof UIChatBody>
export type UIMessagePart = Static<typeof UIPart> & Record<string, unknown>

export const UIChatParams = Type.Object({ chatId: ChatId })

export const UIMessageStream = {
  description: "The AI SDK's UI message stream (header `x-vercel-ai-ui-message-stream: v1`): `data:` lines of JSON chunks (`start`, `text-start` / `text-delta` / `text-end`, `reasoning-*`, `tool-input-*`, `error`, `finish`), ending with `data: [DONE]`.",
  content: { 'text/event-stream': { schema: Type.String() } },
}
