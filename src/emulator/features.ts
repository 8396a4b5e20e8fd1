// Answers that depend on what the request asks for (issue 12), as a model behind
// Bedrock would give them: it calls one of the tools it was offered (input built from the
// tool's JSON schema), reads tool results sent back, thinks first when thinking is on
// (signed, signature.ts), cites documents that ask for citations, counts prompt-cache
// writes and reads, stops for a guardrail (`/guardrail`) with its trace, and echoes
// performanceConfig and serviceTier in metadata. Pure but for the prompt cache, which
// the emulator keeps per instance.
import { createHash } from 'node:crypto'
import { messageScenario, type BlockSpec, type CitationSpec, type MessageScenarioOptions, type Scenario } from './scenario.js'
import { signReasoning } from './signature.js'
import { thinkingOf } from './validate.js'

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v)
const asArray = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : [])

/** Cached prompt prefixes (by hash), per emulator: the first call writes, later ones read. */
export type PromptCache = Set<string>

export const GUARDRAIL_BLOCKED_TEXT = 'Sorry, the model cannot answer this question (blocked by a guardrail).'

export interface FeatureInput {
  body: Json
  prompt: string
  inputTokens: number
  reply: string
}

/** Whether the request uses a feature this module answers for; else the plain responder answers. */
export function usesFeatures (body: Json): boolean {
  return ['toolConfig', 'additionalModelRequestFields', 'guardrailConfig', 'performanceConfig', 'serviceTier'].some(k => body[k] !== undefined) ||
    JSON.stringify(body['messages'] ?? []).includes('"document"') || hasCachePoint(body)
}

export function featureScenario (input: FeatureInput, cache: PromptCache): Scenario {
  const { body, prompt } = input
  const opts: MessageScenarioOptions = { usage: cacheUsage(body, input.inputTokens, cache), ...echoes(body) }
  const guardrail = isObject(body['guardrailConfig']) ? body['guardrailConfig'] : undefined
  if (guardrail !== undefined && prompt.toLowerCase().startsWith('/guardrail')) {
    return messageScenario([{ text: GUARDRAIL_BLOCKED_TEXT }], { ...opts, stopReason: 'guardrail_intervened', ...guardrailTrace(guardrail) })
  }
  const blocks: BlockSpec[] = []
  const thinking = thinkingOf(body)
  if (thinking !== undefined) {
    // Never more thinking than the budget allows (about four characters a token).
    const text = `The user asked: "${prompt.slice(0, 80)}". I will look at the tools and documents I have, then answer.`.slice(0, thinking.budgetTokens * 4)
    blocks.push({ reasoning: { text, signature: signReasoning(text) } })
  }
  const results = toolResultsOf(body)
  const tool = results.length === 0 ? toolToCall(body, prompt) : undefined
  const cited = documentsToCite(body)
  if (results.length > 0) {
    blocks.push({ text: `The tool answered: ${results.join('; ')}. That is all I needed.` })
  } else if (tool !== undefined) {
    blocks.push({ text: `I will call ${tool.name}.` })
    blocks.push({ toolUse: { toolUseId: `tooluse_${hash(JSON.stringify(body['messages'])).slice(0, 20)}`, name: tool.name, input: JSON.stringify(sampleInput(tool.schema)) } })
  } else if (cited.length > 0) {
    const [first] = cited
    blocks.push({ text: `According to ${first?.title ?? 'the document'}: ${first?.quote ?? ''}`, citations: cited.map(c => c.citation) })
  } else {
    blocks.push({ text: input.reply })
  }
  return messageScenario(blocks, opts)
}

/** Texts of the toolResult blocks in the last user message: the client ran the tools. */
function toolResultsOf (body: Json): string[] {
  const last = asArray(body['messages']).at(-1)
  return asArray(last?.['content']).flatMap(block => {
    const result = isObject(block['toolResult']) ? block['toolResult'] : undefined
    if (result === undefined) return []
    return [asArray(result['content']).map(c => typeof c['text'] === 'string' ? c['text'] : JSON.stringify(c['json'] ?? c)).join(' ')]
  })
}

/** toolChoice `tool` names it; `any` takes one named in the prompt, else the first; `auto` calls one the prompt names (or `/tool`). */
function toolToCall (body: Json, prompt: string): { name: string, schema: Json } | undefined {
  const config = isObject(body['toolConfig']) ? body['toolConfig'] : {}
  const specs = asArray(config['tools']).map(t => t['toolSpec']).filter(isObject)
  const tools = specs.map(spec => ({
    name: String(spec['name']),
    schema: isObject(spec['inputSchema']) && isObject(spec['inputSchema']['json']) ? spec['inputSchema']['json'] : {},
  }))
  if (tools.length === 0) return undefined
  const choice = isObject(config['toolChoice']) ? config['toolChoice'] : { auto: {} }
  const forced = choice['tool']
  if (isObject(forced)) return tools.find(t => t.name === forced['name'])
  const lower = prompt.toLowerCase()
  const named = tools.find(t => lower.includes(t.name.toLowerCase()) || lower.includes(t.name.toLowerCase().replaceAll('_', ' ')))
  if ('any' in choice) return named ?? tools[0]
  return named ?? (lower.startsWith('/tool') ? tools[0] : undefined)
}

/** An input that fits the schema: each required property (or every one) with a plausible value. */
export function sampleInput (schema: Json): Json {
  const properties = isObject(schema['properties']) ? schema['properties'] : {}
  const required = Array.isArray(schema['required']) ? schema['required'].map(String) : Object.keys(properties)
  const input: Json = {}
  for (const name of required) input[name] = sampleValue(isObject(properties[name]) ? properties[name] : {})
  return input
}

function sampleValue (schema: Json): unknown {
  if (Array.isArray(schema['enum']) && schema['enum'].length > 0) return schema['enum'][0]
  if (schema['default'] !== undefined) return schema['default']
  switch (schema['type']) {
    case 'integer': case 'number': return typeof schema['minimum'] === 'number' ? schema['minimum'] : 1
    case 'boolean': return true
    case 'array': return []
    case 'object': return sampleInput(schema)
    default: return 'example'
  }
}

/** Documents of the last user message with citations on: a quote of each, and its citation delta. */
function documentsToCite (body: Json): Array<{ title: string, quote: string, citation: CitationSpec }> {
  const last = asArray(body['messages']).at(-1)
  const docs = asArray(last?.['content']).map(b => b['document']).filter(isObject)
  return docs.flatMap((doc, documentIndex) => {
    if (!isObject(doc['citations']) || doc['citations']['enabled'] !== true) return []
    const source = isObject(doc['source']) ? doc['source'] : {}
    const text = typeof source['text'] === 'string'
      ? source['text']
      : typeof source['bytes'] === 'string' ? Buffer.from(source['bytes'], 'base64').toString('utf8') : ''
    const quote = (text.split(/(?<=[.!?])\s/)[0] ?? '').slice(0, 200)
    const title = String(doc['name'] ?? 'document')
    return [{ title, quote, citation: { title, sourceContent: [{ text: quote }], location: { documentChar: { documentIndex, start: 0, end: quote.length } } } }]
  })
}

function hasCachePoint (body: Json): boolean {
  return cacheItems(body).some(item => item.cachePoint)
}

/** Tools, then system, then messages: the order of Bedrock's cached prefix. */
function cacheItems (body: Json): Array<{ cachePoint: boolean, text: string }> {
  const config = isObject(body['toolConfig']) ? body['toolConfig'] : {}
  const blocks = [
    ...asArray(config['tools']),
    ...asArray(body['system']),
    ...asArray(body['messages']).flatMap(m => asArray(m['content'])),
  ]
  return blocks.map(block => ({ cachePoint: 'cachePoint' in block, text: JSON.stringify(block) }))
}

/**
 * Prompt caching: the prefix up to the last cachePoint is written the first time and read
 * after; its tokens are reported apart from inputTokens, as Bedrock does.
 */
function cacheUsage (body: Json, inputTokens: number, cache: PromptCache): MessageScenarioOptions['usage'] {
  const items = cacheItems(body)
  const last = items.findLastIndex(item => item.cachePoint)
  if (last < 0) return { inputTokens }
  const prefix = items.slice(0, last).map(item => item.text).join('\n')
  const prefixTokens = Math.max(1, Math.ceil(prefix.length / 4))
  const key = hash(prefix)
  const remaining = Math.max(1, inputTokens - prefixTokens)
  if (cache.has(key)) return { inputTokens: remaining, cacheReadInputTokens: prefixTokens, cacheWriteInputTokens: 0 }
  cache.add(key)
  return { inputTokens: remaining, cacheReadInputTokens: 0, cacheWriteInputTokens: prefixTokens }
}

function echoes (body: Json): Pick<MessageScenarioOptions, 'performanceConfig' | 'serviceTier'> {
  const out: Pick<MessageScenarioOptions, 'performanceConfig' | 'serviceTier'> = {}
  const perf = isObject(body['performanceConfig']) ? body['performanceConfig'] : undefined
  if (typeof perf?.['latency'] === 'string') out.performanceConfig = { latency: perf['latency'] }
  const tier = isObject(body['serviceTier']) ? body['serviceTier'] : undefined
  if (typeof tier?.['type'] === 'string') out.serviceTier = { type: tier['type'] }
  return out
}

/** The trace of a blocked input, when the guardrail's trace is on. */
function guardrailTrace (config: Json): Pick<MessageScenarioOptions, 'trace'> {
  const trace = config['trace']
  if (trace !== 'enabled' && trace !== 'enabled_full') return {}
  const id = String(config['guardrailIdentifier'])
  return {
    trace: {
      guardrail: {
        inputAssessment: {
          [id]: { topicPolicy: { topics: [{ name: 'Emulated forbidden topic', type: 'DENY', action: 'BLOCKED', detected: true }] } },
        },
        actionReason: 'Guardrail blocked.',
      },
    },
  }
}

function hash (text: string): string {
  return createHash('sha256').update(text).digest('hex')
}
