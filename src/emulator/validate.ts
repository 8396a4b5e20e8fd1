// Request checks the way Bedrock makes them before a model runs: a failed check answers
// HTTP 400 ValidationException (before any stream), with a message in Bedrock's words.
// Only the rules the proxy's features can run into (issue 12): conversation shape, tool
// use and results, extended thinking (Anthropic's rules, which Bedrock passes on), cache
// points, guardrails. The messages follow what Bedrock and Anthropic answer; where they
// are long, they are shortened but keep the field path and the rule.
// https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference-call.html
// https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking
import { verifySignature } from './signature.js'

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v)
const blocksOf = (message: Json): Json[] => (Array.isArray(message['content']) ? message['content'].filter(isObject) : [])

// Anthropic's smallest thinking budget.
const MIN_THINKING_BUDGET = 1024

/** The thinking settings of a request, when `additionalModelRequestFields.thinking` enables it. */
export function thinkingOf (body: Json): { budgetTokens: number } | undefined {
  const fields = isObject(body['additionalModelRequestFields']) ? body['additionalModelRequestFields'] : {}
  const thinking = isObject(fields['thinking']) ? fields['thinking'] : undefined
  if (thinking?.['type'] !== 'enabled') return undefined
  return { budgetTokens: typeof thinking['budget_tokens'] === 'number' ? thinking['budget_tokens'] : 0 }
}

/** Undefined when Bedrock would accept the request; otherwise its ValidationException message. */
export function validateConverseInput (input: unknown): string | undefined {
  if (!isObject(input)) return 'The request body must be a JSON object.'
  const messages = Array.isArray(input['messages']) ? input['messages'].filter(isObject) : []
  if (messages.length === 0) return 'The model returned the following errors: messages: at least one message is required.'
  if (messages[0]?.['role'] !== 'user') return 'A conversation must start with a user message. Try again with a conversation that starts with a user message.'
  return checkCachePoints(input, messages) ??
    checkTools(input, messages) ??
    checkThinking(input, messages) ??
    checkGuardrail(input)
}

function checkCachePoints (input: Json, messages: Json[]): string | undefined {
  // A cache point marks the end of a cached prefix: it needs content before it.
  const system = Array.isArray(input['system']) ? input['system'].filter(isObject) : []
  if (system[0] !== undefined && 'cachePoint' in system[0]) return 'system.0: a cachePoint block must follow the content it caches; it cannot be the first system block.'
  const tools = isObject(input['toolConfig']) && Array.isArray(input['toolConfig']['tools']) ? input['toolConfig']['tools'].filter(isObject) : []
  if (tools[0] !== undefined && 'cachePoint' in tools[0]) return 'toolConfig.tools.0: a cachePoint block must follow the tools it caches; it cannot be the first tool.'
  for (const [i, message] of messages.entries()) {
    const blocks = blocksOf(message)
    if (blocks[0] !== undefined && 'cachePoint' in blocks[0]) return `messages.${i}.content.0: a cachePoint block must follow the content it caches; it cannot be the first block of a message.`
  }
  return undefined
}

function checkTools (input: Json, messages: Json[]): string | undefined {
  const config = isObject(input['toolConfig']) ? input['toolConfig'] : undefined
  const names = new Set<unknown>((Array.isArray(config?.['tools']) ? config['tools'] : [])
    .filter(isObject).map(tool => isObject(tool['toolSpec']) ? tool['toolSpec']['name'] : undefined))
  const choice = isObject(config?.['toolChoice']) ? config['toolChoice'] : undefined
  const forced = isObject(choice?.['tool']) ? choice['tool']['name'] : undefined
  if (forced !== undefined && !names.has(forced)) return 'The tool specified in toolChoice does not exist in toolConfig.tools.'
  const usesTools = messages.some(m => blocksOf(m).some(b => 'toolUse' in b || 'toolResult' in b))
  if (usesTools && config === undefined) return 'The toolConfig field must be defined when using toolUse and toolResult content blocks.'
  // Each user turn after an assistant turn with toolUse blocks answers every one of them, and nothing else.
  for (const [i, message] of messages.entries()) {
    const results = blocksOf(message).filter(b => 'toolResult' in b).map(b => isObject(b['toolResult']) ? b['toolResult']['toolUseId'] : undefined)
    const previous = i > 0 ? messages[i - 1] : undefined
    const uses = previous?.['role'] === 'assistant'
      ? blocksOf(previous).filter(b => 'toolUse' in b).map(b => isObject(b['toolUse']) ? b['toolUse']['toolUseId'] : undefined)
      : []
    if (message['role'] === 'assistant') {
      if (results.length > 0) return `messages.${i}.content: toolResult blocks belong in a user message.`
      continue
    }
    if (results.length > uses.length) return `The number of toolResult blocks at messages.${i}.content exceeds the number of toolUse blocks of previous turn.`
    const unknown = results.find(id => !uses.includes(id))
    if (unknown !== undefined) return `messages.${i}.content: toolResult.toolUseId "${String(unknown)}" does not match any toolUse block of the previous turn.`
    const missing = uses.filter(id => !results.includes(id))
    if (missing.length > 0) return `Expected toolResult blocks at messages.${i}.content for the following Ids: ${missing.join(', ')}`
  }
  return undefined
}

function checkThinking (input: Json, messages: Json[]): string | undefined {
  const fields = isObject(input['additionalModelRequestFields']) ? input['additionalModelRequestFields'] : {}
  if (!isObject(fields['thinking'])) return undefined
  const thinking = thinkingOf(input)
  if (thinking === undefined) return fields['thinking']['type'] === 'disabled' ? undefined : 'thinking.type: Input should be \'enabled\' or \'disabled\''
  if (!('budget_tokens' in fields['thinking'])) return 'thinking.enabled.budget_tokens: Field required'
  if (thinking.budgetTokens < MIN_THINKING_BUDGET) return `thinking.enabled.budget_tokens: Input should be greater than or equal to ${MIN_THINKING_BUDGET}`
  const inference = isObject(input['inferenceConfig']) ? input['inferenceConfig'] : {}
  const maxTokens = typeof inference['maxTokens'] === 'number' ? inference['maxTokens'] : Infinity
  if (thinking.budgetTokens >= maxTokens) return '`max_tokens` must be greater than `thinking.budget_tokens`.'
  if (inference['temperature'] !== undefined && inference['temperature'] !== 1) return '`temperature` may only be set to 1 when thinking is enabled.'
  const choice = isObject(input['toolConfig']) && isObject(input['toolConfig']['toolChoice']) ? input['toolConfig']['toolChoice'] : {}
  if ('any' in choice || 'tool' in choice) return 'Thinking may not be enabled when tool_choice forces tool use.'
  // With thinking and tools, the assistant turn that called a tool goes back with its
  // thinking block first, signature intact (Anthropic verifies it).
  for (const [i, message] of messages.entries()) {
    if (message['role'] !== 'assistant') continue
    const blocks = blocksOf(message)
    if (blocks.some(b => 'toolUse' in b) && !(blocks[0] !== undefined && 'reasoningContent' in blocks[0])) {
      return `messages.${i}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`tool_use\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block.`
    }
    for (const [j, block] of blocks.entries()) {
      const reasoning = isObject(block['reasoningContent']) ? block['reasoningContent'] : undefined
      const text = isObject(reasoning?.['reasoningText']) ? reasoning['reasoningText'] : undefined
      if (text !== undefined && !verifySignature(String(text['text'] ?? ''), text['signature'])) {
        return `messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`
      }
    }
  }
  return undefined
}

function checkGuardrail (input: Json): string | undefined {
  const config = input['guardrailConfig']
  if (config === undefined) return undefined
  if (!isObject(config) || typeof config['guardrailIdentifier'] !== 'string' || typeof config['guardrailVersion'] !== 'string') {
    return 'guardrailConfig: guardrailIdentifier and guardrailVersion are required.'
  }
  return undefined
}
