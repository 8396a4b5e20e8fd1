/**
 * The default responder: what `npm run emulator` and the demo answer when no scenario is queued.
 * The text of the last user message, trimmed, picks the scenario by its first word:
 *
 *   /reasoning   reasoning text + signature, then the answer
 *   /redacted    a redacted reasoning block (opaque bytes), then the answer
 *   /tool        a `get_weather` toolUse block, JSON input in chunks; stopReason tool_use
 *   /throttle    HTTP 429 ThrottlingException before any stream (the SDK retries it: 3 attempts)
 *   /error       some text, then an in-stream modelStreamErrorException
 *   /truncate    some text, then a clean end: no contentBlockStop, messageStop or metadata
 *   /reset       some text, then the stream is dropped (h2 RST_STREAM, HTTP/1.1 socket destroyed)
 *   /slow        no frame at all for 5 s (headers only), then the normal answer
 *   /hang        messageStart, then silence until the client goes away
 *   /tricky      text that breaks naive SSE framing: "\n\ndata: x", a lone \r, \r\n, U+2028, NUL, emoji
 *   /stamped N [D [F]]  N text deltas (default 50) D ms apart (default: frameDelayMs), the first one
 *                F ms late; each delta's text is its send time, `<t:MS>` (stamp.ts; the benchmark)
 *   (anything)   a 60-120 word answer that echoes the prompt ("You asked about ...")
 *
 * A request that uses tools, thinking, documents, prompt caching, a guardrail or the
 * performance settings gets an answer that depends on them (features.ts): a tool call
 * for a tool it offered, thinking with a signature, citations, cache token counts,
 * `/guardrail` blocked with its trace.
 *
 * inferenceConfig.maxTokens is honoured like Bedrock does: a longer answer is cut, stopReason max_tokens.
 * Pacing comes from the emulator's frameDelayMs (default 20 ms per chunk of 8 characters).
 */
import { featureScenario, usesFeatures } from './features.js'
import { messageScenario, textScenario, type MessageScenarioOptions, type Scenario, type Step } from './scenario.js'
import { stampedScenario, type StampedScenarioOptions } from './stamp.js'
import type { ResponderInput } from './types.js'

export const TRICKY_TEXT = 'Tricky: one\n\ndata: x\nevent: admin\rlone CR, then CRLF\r\nU+2028:\u2028 NUL:\u0000 emoji: 👩‍👩‍👧 end.'

const SENTENCES = [
  'This answer comes from the local Bedrock emulator, so no AWS account was charged for it.',
  'Every token you see was sent as a binary event-stream frame, exactly as Bedrock Runtime would send it.',
  'The proxy decoded those frames with the real AWS SDK and relayed them to your browser as Server-Sent Events.',
  'Try a slash command such as /reasoning, /tool or /error to see how the other event types are rendered.',
  'Streaming keeps the first words on screen quickly, even when the whole answer takes several seconds.',
  'If you close the tab now, the proxy should cancel the upstream call instead of paying for the rest.',
  'Usage numbers at the end are estimates: about one token for every four characters of text.',
  'A real model would of course know much more about your question than this friendly little emulator does.',
  'Reconnecting clients can resume from the last event id they saw, without starting a second generation.',
]

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object'

function textOf (content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content.map((b) => (isObject(b) && typeof b['text'] === 'string' ? b['text'] : '')).join('\n')
}

/** The last user message's text, and a token estimate for the whole input (messages + system). */
export function readPrompt (body: unknown): { prompt: string, inputTokens: number, maxTokens?: number } {
  const input = isObject(body) ? body : {}
  const messages = Array.isArray(input['messages']) ? input['messages'].filter(isObject) : []
  const lastUser = messages.filter((m) => m['role'] === 'user').at(-1)
  const allText = messages.map((m) => textOf(m['content'])).join('\n') + textOf(input['system'])
  const config = isObject(input['inferenceConfig']) ? input['inferenceConfig'] : {}
  const maxTokens = typeof config['maxTokens'] === 'number' ? config['maxTokens'] : undefined
  return { prompt: textOf(lastUser?.['content']).trim(), inputTokens: Math.max(1, Math.ceil(allText.length / 4)) + 8, maxTokens }
}

function hash (text: string): number {
  let h = 2166136261
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  return h >>> 0
}

/** "You asked about ..." plus five sentences chosen by the prompt, so one prompt always reads the same. */
export function composeReply (prompt: string): string {
  const words = prompt.split(/\s+/).filter(Boolean)
  const topic = words.slice(0, 10).join(' ') + (words.length > 10 ? '…' : '')
  const opening = topic === '' ? 'You sent an empty message.' : `You asked about “${topic}”.`
  const start = hash(prompt) % SENTENCES.length
  const picked = Array.from({ length: 5 }, (_, i) => SENTENCES[(start + i) % SENTENCES.length])
  return [opening, ...picked].join(' ')
}

/** messageStart and the text deltas only: what a client has seen when a stream breaks mid-answer. */
function partialSteps (text: string): Step[] {
  return textScenario(text).steps.filter((s) => 'event' in s && ('messageStart' in s.event || 'contentBlockDelta' in s.event))
}

function answer (reply: string, opts: MessageScenarioOptions, maxTokens?: number): Scenario {
  const points = Array.from(reply)
  if (maxTokens !== undefined && Math.ceil(points.length / 4) > maxTokens) {
    const cut = points.slice(0, Math.max(1, maxTokens * 4)).join('')
    return textScenario(cut, { ...opts, stopReason: 'max_tokens', usage: { ...opts.usage, outputTokens: maxTokens } })
  }
  return textScenario(reply, opts)
}

/** `/stamped N D F`: each argument a non-negative integer, a missing or malformed one takes its default. */
function stampedCommand (prompt: string): Scenario {
  const [tokens, frameDelayMs, firstTokenDelayMs] = prompt.split(/\s+/).slice(1).map((arg) => /^\d+$/.test(arg) ? Number(arg) : undefined)
  const opts: StampedScenarioOptions = {}
  if (frameDelayMs !== undefined) opts.frameDelayMs = frameDelayMs
  if (firstTokenDelayMs !== undefined) opts.firstTokenDelayMs = firstTokenDelayMs
  return stampedScenario(tokens ?? 50, opts)
}

export function defaultResponder (req: ResponderInput): Scenario {
  const { prompt, inputTokens, maxTokens } = readPrompt(req.body)
  const command = prompt.split(/\s+/)[0]?.toLowerCase() ?? ''
  const opts: MessageScenarioOptions = { usage: { inputTokens } }
  const reply = composeReply(prompt)
  const firstSentence = `${reply.split('. ')[0] ?? reply}.`
  const body: Json = isObject(req.body) ? req.body : {}
  // The slash commands that script faults keep working under a guardrail or with tools offered.
  const featureCommand = !command.startsWith('/') || command === '/guardrail' || (command === '/tool' && body['toolConfig'] !== undefined)
  if (featureCommand && usesFeatures(body)) return featureScenario({ body, prompt, inputTokens, reply }, req.promptCache ?? new Set())

  switch (command) {
    case '/reasoning':
      return messageScenario([
        { reasoning: { text: 'The user wants to see reasoning. I will think briefly, then answer plainly.', signature: 'emulator-signature-' + String(hash(prompt)) } },
        { text: reply },
      ], opts)
    case '/redacted':
      return messageScenario([{ redactedReasoning: Buffer.from('opaque encrypted reasoning bytes \u0000\u00ff') }, { text: reply }], opts)
    case '/tool':
      return messageScenario([
        { text: 'Let me check the weather for you.' },
        { toolUse: { toolUseId: `tooluse_${hash(prompt).toString(36)}`, name: 'get_weather', input: '{"city":"Paris","unit":"celsius"}' } },
      ], { ...opts, chunkChars: 6 })
    case '/throttle':
      return { httpError: { status: 429, type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' }, steps: [] }
    case '/error':
      return { steps: [...partialSteps(firstSentence), { exception: 'modelStreamErrorException', message: 'The model stream failed (emulated).' }] }
    case '/truncate':
      return { steps: [...partialSteps(firstSentence), { end: true }] }
    case '/reset':
      return { steps: [...partialSteps(firstSentence), { reset: true }] }
    case '/slow':
      return { steps: [{ delayMs: 5000 }, ...answer(reply, opts, maxTokens).steps] }
    case '/hang':
      return { steps: [{ event: { messageStart: { role: 'assistant' } } }, { hang: true }] }
    case '/tricky':
      return textScenario(TRICKY_TEXT, { ...opts, chunkChars: 3 })
    case '/stamped':
      return stampedCommand(prompt)
    default:
      return answer(reply, opts, maxTokens)
  }
}
