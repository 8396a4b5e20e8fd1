// Non-streaming Converse: the same scenario a stream would play, assembled into one JSON answer
// (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html). Pure.
import { exceptionHttpError, type Scenario } from './scenario.js'
import { eventMember } from './frames.js'

export interface ConverseBody {
  output: { message: { role: 'assistant', content: Array<Record<string, unknown>> } }
  stopReason?: string
  usage: { inputTokens: number, outputTokens: number, totalTokens: number, [k: string]: number }
  metrics: { latencyMs: number }
  trace?: unknown
  performanceConfig?: unknown
  serviceTier?: unknown
}

export type ConverseOutcome =
  | { kind: 'json', body: ConverseBody }
  | { kind: 'httpError', status: number, type: string, message: string }
  | { kind: 'reset', scope?: 'stream' | 'connection' }
  | { kind: 'hang' }

/** What to answer, after how long: the whole generation time, as a real non-streaming call takes. */
export interface ConversePlan { delayMs: number, outcome: ConverseOutcome }

interface BlockState { text?: string, citations?: unknown[], reasoning?: string, signature?: string, redacted?: string, tool?: { toolUseId: string, name: string, input: string } }

type Json = Record<string, unknown>
const asObject = (v: unknown): Json => (v !== null && typeof v === 'object' ? v as Json : {})
const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

function applyEvent (type: string, payload: Json, blocks: Map<number, BlockState>, out: Json): void {
  const index = typeof payload['contentBlockIndex'] === 'number' ? payload['contentBlockIndex'] : 0
  const block = blocks.get(index) ?? {}
  if (type === 'contentBlockStart') {
    const tool = asObject(asObject(payload['start'])['toolUse'])
    block.tool = { toolUseId: asString(tool['toolUseId']) ?? '', name: asString(tool['name']) ?? '', input: '' }
  } else if (type === 'contentBlockDelta') {
    const delta = asObject(payload['delta'])
    const reasoning = asObject(delta['reasoningContent'])
    if (typeof delta['text'] === 'string') block.text = (block.text ?? '') + delta['text']
    if (delta['citation'] !== undefined) (block.citations ??= []).push(delta['citation'])
    if (typeof reasoning['text'] === 'string') block.reasoning = (block.reasoning ?? '') + reasoning['text']
    if (typeof reasoning['signature'] === 'string') block.signature = reasoning['signature']
    if (typeof reasoning['redactedContent'] === 'string') block.redacted = reasoning['redactedContent']
    const toolInput = asString(asObject(delta['toolUse'])['input'])
    if (toolInput !== undefined) {
      block.tool ??= { toolUseId: '', name: '', input: '' }
      block.tool.input += toolInput
    }
  } else if (type === 'messageStop') {
    out['stopReason'] = payload['stopReason']
  } else if (type === 'metadata') {
    Object.assign(out, payload)
  }
  if (type === 'contentBlockStart' || type === 'contentBlockDelta') blocks.set(index, block)
}

function toContent (block: BlockState): Array<Record<string, unknown>> {
  const content: Array<Record<string, unknown>> = []
  if (block.reasoning !== undefined) {
    content.push({ reasoningContent: { reasoningText: { text: block.reasoning, signature: block.signature } } })
  }
  if (block.redacted !== undefined) content.push({ reasoningContent: { redactedContent: block.redacted } })
  // A cited answer comes back from Converse as one citationsContent block: its text, then its citations.
  if (block.citations !== undefined) content.push({ citationsContent: { content: [{ text: block.text ?? '' }], citations: block.citations } })
  else if (block.text !== undefined) content.push({ text: block.text })
  if (block.tool) {
    let input: unknown
    // Converse returns tool input as a JSON document; the stream sends it as JSON text in pieces.
    try { input = JSON.parse(block.tool.input === '' ? '{}' : block.tool.input) } catch { input = block.tool.input }
    content.push({ toolUse: { toolUseId: block.tool.toolUseId, name: block.tool.name, input } })
  }
  return content
}

export function planConverse (scenario: Scenario, defaultFrameDelayMs: number): ConversePlan {
  const frameDelayMs = scenario.frameDelayMs ?? defaultFrameDelayMs
  if (scenario.httpError) {
    const { status, type, message } = scenario.httpError
    return { delayMs: 0, outcome: { kind: 'httpError', status, type, message: message ?? type } }
  }
  let delayMs = 0
  const blocks = new Map<number, BlockState>()
  const meta: Json = {}
  for (const step of scenario.steps) {
    if ('delayMs' in step) delayMs += step.delayMs
    else if ('reset' in step) return { delayMs, outcome: { kind: 'reset', scope: step.scope } }
    else if ('hang' in step) return { delayMs, outcome: { kind: 'hang' } }
    else if ('end' in step) break
    else if ('goaway' in step) continue
    else if ('exception' in step) {
      const { status, type } = exceptionHttpError[step.exception]
      return { delayMs, outcome: { kind: 'httpError', status, type, message: step.message ?? type } }
    } else {
      delayMs += frameDelayMs
      const { type, payload } = eventMember(step.event)
      applyEvent(type, asObject(payload), blocks, meta)
    }
  }
  const content = [...blocks.entries()].sort(([a], [b]) => a - b).flatMap(([, block]) => toContent(block))
  const usage = asObject(meta['usage']) as Record<string, number>
  const body: ConverseBody = {
    output: { message: { role: 'assistant', content } },
    usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0, ...usage },
    metrics: { latencyMs: delayMs, ...asObject(meta['metrics']) },
  }
  if (typeof meta['stopReason'] === 'string') body.stopReason = meta['stopReason']
  if (meta['trace'] !== undefined) body.trace = meta['trace']
  if (meta['performanceConfig'] !== undefined) body.performanceConfig = meta['performanceConfig']
  if (meta['serviceTier'] !== undefined) body.serviceTier = meta['serviceTier']
  return { delayMs, outcome: { kind: 'json', body } }
}
