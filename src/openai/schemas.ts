// The OpenAI-compatible request and response shapes (POST /v1/chat/completions, GET
// /v1/models), defined once as schemas: they validate the request, type it, shape the
// response serializers and publish it all in /openapi.json. Only what maps onto Bedrock
// is accepted: an unknown or unsupported field is a 400 naming it (`param`), never
// silently dropped, so a client never believes a setting took effect when it did not.
// Fields whose only accepted value is OpenAI's default (n: 1, logprobs: false, ...) are
// accepted with that value, because client libraries send them as is.
import { Type, type Static } from 'typebox'

const closed = { additionalProperties: false } as const
// Bedrock's own rules for tool names and tool use ids (OpenAI's function names follow the same).
const toolName = Type.String({ pattern: '^[a-zA-Z0-9_-]{1,64}$' })
const toolCallId = Type.String({ pattern: '^[a-zA-Z0-9_-]{1,64}$' })

const TextPart = Type.Object({ type: Type.Literal('text'), text: Type.String() }, closed)
const ImagePart = Type.Object({
  type: Type.Literal('image_url'),
  image_url: Type.Object({
    url: Type.String({ description: 'A data URL (`data:image/png;base64,...`); the proxy fetches no URLs.' }),
    detail: Type.Optional(Type.Enum(['auto', 'low', 'high'])),
  }, closed),
}, closed)

const SystemMessage = Type.Object({
  role: Type.Enum(['system', 'developer']),
  content: Type.Union([Type.String(), Type.Array(TextPart, { minItems: 1 })]),
}, closed)
const UserMessage = Type.Object({
  role: Type.Literal('user'),
  content: Type.Union([Type.String(), Type.Array(Type.Union([TextPart, ImagePart]), { minItems: 1 })]),
}, closed)
const ToolCall = Type.Object({
  id: toolCallId,
  type: Type.Literal('function'),
  function: Type.Object({ name: toolName, arguments: Type.String({ description: 'The JSON text of the input.' }) }, closed),
}, closed)
const AssistantMessage = Type.Object({
  role: Type.Literal('assistant'),
  content: Type.Optional(Type.Union([Type.String(), Type.Array(TextPart, { minItems: 1 }), Type.Null()])),
  tool_calls: Type.Optional(Type.Array(ToolCall, { minItems: 1 })),
}, closed)
const ToolMessage = Type.Object({
  role: Type.Literal('tool'),
  tool_call_id: toolCallId,
  content: Type.Union([Type.String(), Type.Array(TextPart, { minItems: 1 })]),
}, { ...closed, description: 'The output of a tool the client ran: a toolResult in the next user turn.' })

export const ChatMessage = Type.Union([SystemMessage, UserMessage, AssistantMessage, ToolMessage])

const FunctionTool = Type.Object({
  type: Type.Literal('function'),
  function: Type.Object({
    name: toolName,
    description: Type.Optional(Type.String({ minLength: 1 })),
    parameters: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'A JSON Schema of the input.' })),
    // Bedrock does not promise schema-exact input: `strict: true` would be a promise not kept.
    strict: Type.Optional(Type.Union([Type.Literal(false), Type.Null()])),
  }, closed),
}, closed)

export const ChatCompletionBody = Type.Object({
  model: Type.String({ minLength: 1, maxLength: 2048, description: 'An allowed model id, or an alias from MODEL_ALIASES.' }),
  messages: Type.Array(ChatMessage, { minItems: 1 }),
  stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  stream_options: Type.Optional(Type.Union([Type.Null(), Type.Object({ include_usage: Type.Optional(Type.Boolean()) }, closed)])),
  max_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  max_completion_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  temperature: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1, description: "Bedrock's range: 0 to 1." }), Type.Null()])),
  top_p: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()])),
  stop: Type.Optional(Type.Union([
    Type.String({ minLength: 1, maxLength: 1000 }),
    Type.Array(Type.String({ minLength: 1, maxLength: 1000 }), { maxItems: 32 }),
    Type.Null(),
  ])),
  tools: Type.Optional(Type.Array(FunctionTool, { minItems: 1, description: 'Function tools (toolConfig): the client runs them; MAX_TOOLS, MAX_TOOL_CONFIG_BYTES.' })),
  tool_choice: Type.Optional(Type.Union([
    Type.Enum(['auto', 'required'], { description: '`none` has no Bedrock equivalent: leave out `tools` instead.' }),
    Type.Object({ type: Type.Literal('function'), function: Type.Object({ name: toolName }, closed) }, closed),
    Type.Null(),
  ])),
  reasoning_effort: Type.Optional(Type.Union([
    Type.Enum(['minimal', 'low', 'medium', 'high'], { description: 'Extended thinking: low 1024, medium 4096, high 16384 tokens (clamped to REASONING_MAX_BUDGET_TOKENS); minimal: none.' }),
    Type.Null(),
  ])),
  // Defaults only: the value a client library sends when the caller set nothing.
  parallel_tool_calls: Type.Optional(Type.Union([Type.Literal(true), Type.Null()])),
  n: Type.Optional(Type.Union([Type.Literal(1), Type.Null()])),
  presence_penalty: Type.Optional(Type.Union([Type.Literal(0), Type.Null()])),
  frequency_penalty: Type.Optional(Type.Union([Type.Literal(0), Type.Null()])),
  logprobs: Type.Optional(Type.Union([Type.Literal(false), Type.Null()])),
  store: Type.Optional(Type.Union([Type.Literal(false), Type.Null()])),
  // An end-user id for the caller's own abuse tracking: it changes nothing in the answer.
  user: Type.Optional(Type.String({ maxLength: 256 })),
}, { ...closed, description: 'OpenAI Chat Completions, the part that maps onto Bedrock ConverseStream.' })

export type ChatCompletionRequest = Static<typeof ChatCompletionBody>

export const OpenAIError = Type.Object({
  error: Type.Object({
    message: Type.String(),
    type: Type.String(),
    code: Type.String({ description: 'This proxy\'s error code (README "Error codes").' }),
    param: Type.Union([Type.String(), Type.Null()]),
  }),
}, { description: "An error in OpenAI's shape." })

export const OpenAIErrorResponses = { '4xx': OpenAIError, '5xx': OpenAIError }

export const ModelList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(Type.Object({
    id: Type.String(),
    object: Type.Literal('model'),
    created: Type.Integer(),
    owned_by: Type.String({ description: '`bedrock`, or `alias:<model id>` for an alias from MODEL_ALIASES.' }),
  })),
}, { description: 'The models this key may use, the default first, then the aliases.' })

const Usage = Type.Object({
  prompt_tokens: Type.Integer(),
  completion_tokens: Type.Integer(),
  total_tokens: Type.Integer(),
  prompt_tokens_details: Type.Object({ cached_tokens: Type.Integer() }),
})

export const ChatCompletion = Type.Object({
  id: Type.String(),
  object: Type.Literal('chat.completion'),
  created: Type.Integer(),
  model: Type.String(),
  choices: Type.Array(Type.Object({
    index: Type.Integer(),
    message: Type.Object({
      role: Type.Literal('assistant'),
      content: Type.Union([Type.String(), Type.Null()]),
      reasoning_content: Type.Optional(Type.String()),
      tool_calls: Type.Optional(Type.Array(Type.Object({
        id: Type.String(),
        type: Type.Literal('function'),
        function: Type.Object({ name: Type.String(), arguments: Type.String() }),
      }))),
      refusal: Type.Null(),
    }),
    logprobs: Type.Null(),
    finish_reason: Type.String(),
  })),
  usage: Usage,
})

export type ChatCompletionResult = Static<typeof ChatCompletion>

export const ChatCompletionStream = {
  description: 'A text/event-stream of `data: {chat.completion.chunk}` lines, ending with `data: [DONE]`; a failure after the first token is a `data: {"error": ...}` line before the end.',
  content: { 'text/event-stream': { schema: Type.String() } },
}
