// An OpenAI chat completion request -> the native ConverseRequest, which then meets the
// same rules as every other (input limits, allowlist, output cap: converse-input.ts).
// What Bedrock models differently is mapped, not dropped: system and developer messages
// become the system prompt (Bedrock has no system turns), consecutive turns of one role
// are merged (Bedrock requires alternation; OpenAI does not), images come only as data
// URLs (the proxy fetches no URLs for anyone), function tools become toolConfig, an
// assistant's tool_calls toolUse blocks and `tool` messages toolResult blocks in the
// next user turn, reasoning_effort a thinking budget.
import { ProxyError } from '../errors.js'
import type { ConverseRequest, PublicContentBlock, PublicMessage } from '../requests.js'
import { appendTurn, imageFromDataUrl } from '../turns.js'
import type { ChatCompletionRequest } from './schemas.js'

type Content = string | Array<{ type: 'text', text: string } | { type: 'image_url', image_url: { url: string } }>
type Part = Exclude<Content, string>[number]

export function chatToConverse (body: ChatCompletionRequest, aliases: ReadonlyMap<string, string>): ConverseRequest {
  const system: string[] = []
  const messages: PublicMessage[] = []
  body.messages.forEach((message, i) => {
    const at = `messages.${i}`
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(toBlocks(message.content, `${at}.content`).map(b => 'text' in b ? b.text : '').join(''))
        return
      case 'user':
        appendTurn(messages, 'user', toBlocks(message.content, `${at}.content`))
        return
      case 'assistant': {
        const text = message.content === undefined || message.content === null || message.content === '' ? [] : toBlocks(message.content, `${at}.content`)
        const calls = (message.tool_calls ?? []).map((call, j) => toolUseOf(call, `${at}.tool_calls.${j}.function.arguments`))
        if (text.length + calls.length === 0) throw new ProxyError('bad_request', { message: `${at} has neither content nor tool_calls.`, param: at })
        appendTurn(messages, 'assistant', [...text, ...calls])
        return
      }
      case 'tool': {
        // Tool outputs answer the assistant's calls in the next user turn (Bedrock's toolResult).
        const output = toBlocks(message.content, `${at}.content`) as Array<{ text: string }>
        appendTurn(messages, 'user', [{ toolResult: { toolUseId: message.tool_call_id, content: output } }])
      }
    }
  })
  if (messages.length === 0) throw new ProxyError('bad_request', { message: 'Send at least one user message.', param: 'messages' })
  const maxTokens = body.max_completion_tokens ?? body.max_tokens
  const thinking = body.reasoning_effort != null ? THINKING_BUDGETS[body.reasoning_effort] : undefined
  const stop = typeof body.stop === 'string' ? [body.stop] : body.stop
  return {
    model: aliases.get(body.model) ?? body.model,
    messages,
    ...(system.length > 0 ? { system: system.join('\n\n') } : {}),
    ...(maxTokens != null ? { maxTokens } : {}),
    ...(body.temperature != null ? { temperature: body.temperature } : {}),
    ...(body.top_p != null ? { topP: body.top_p } : {}),
    ...(stop != null && stop.length > 0 ? { stopSequences: stop } : {}),
    ...(body.tools !== undefined ? { toolConfig: toolConfigOf(body.tools, body.tool_choice) } : {}),
    ...(thinking !== undefined ? { reasoning: { budgetTokens: thinking } } : {}),
  }
}

// OpenAI's effort levels as thinking budgets; the operator's maximum clamps them.
const THINKING_BUDGETS = { minimal: undefined, low: 1024, medium: 4096, high: 16_384 } as const

function toolConfigOf (tools: NonNullable<ChatCompletionRequest['tools']>, choice: ChatCompletionRequest['tool_choice']): NonNullable<ConverseRequest['toolConfig']> {
  return {
    tools: tools.map(({ function: f }) => ({
      toolSpec: {
        name: f.name,
        ...(f.description !== undefined ? { description: f.description } : {}),
        inputSchema: { json: (f.parameters as Record<string, unknown> | undefined) ?? { type: 'object', properties: {} } },
      },
    })),
    ...(choice === 'auto' ? { toolChoice: { auto: {} } } : {}),
    ...(choice === 'required' ? { toolChoice: { any: {} } } : {}),
    ...(typeof choice === 'object' && choice !== null ? { toolChoice: { tool: { name: choice.function.name } } } : {}),
  }
}

function toolUseOf (call: { id: string, function: { name: string, arguments: string } }, param: string): PublicContentBlock {
  let input: unknown
  try {
    input = call.function.arguments === '' ? {} : JSON.parse(call.function.arguments)
  } catch {
    throw new ProxyError('bad_request', { message: `${param} is not JSON.`, param })
  }
  return { toolUse: { toolUseId: call.id, name: call.function.name, input } }
}

function toBlocks (content: Content, param: string): PublicContentBlock[] {
  const parts: Part[] = typeof content === 'string' ? [{ type: 'text', text: content }] : content
  return parts.map((part, j) => {
    const at = typeof content === 'string' ? param : `${param}.${j}`
    if (part.type === 'text') {
      // Bedrock refuses blank text blocks; say where, in the client's terms.
      if (part.text === '') throw new ProxyError('bad_request', { message: `${at} is empty.`, param: at })
      return { text: part.text }
    }
    return imageFromDataUrl(part.image_url.url, `${at}.image_url.url`)
  })
}
