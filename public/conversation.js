// What the page sends and keeps: each question's rounds (one request's answer each) turned
// into the next request's `messages`, and into the shape kept in sessionStorage. No DOM.
import { AssistantContent } from './assistant-content.js'
import { TOOL_CONFIG } from './browser-tools.js'

/** Tool rounds per question; one more call for a tool is not run (the answer says so). */
export const MAX_TOOL_ROUNDS = 4
// Anthropic's smallest thinking budget; the server clamps it to its own maximum.
const THINKING_BUDGET_TOKENS = 1024

/** One request's answer: its blocks, the toolResult blocks the page sent back, its stopReason. */
export const newRound = (blocks) => ({ content: new AssistantContent(blocks), results: [] })

/** The body of the next request for `turn`: earlier `turns`, its question, its rounds so far. */
export function requestFor (turns, turn) {
  return {
    messages: messagesFor(turns, turn),
    model: turn.model,
    ...(turn.options.tools ? { toolConfig: TOOL_CONFIG } : {}),
    ...(turn.options.think ? { reasoning: { budgetTokens: THINKING_BUDGET_TOKENS } } : {}),
  }
}

// Earlier exchanges that produced text, then this turn's question and its tool rounds so
// far. Bedrock wants the roles to alternate, so a failed answer with no text drops its
// question from later requests. Earlier questions go as their text only: their tool calls
// are answered, and Bedrock would want toolConfig (and, with thinking, each tool turn's
// reasoning) for them again.
function messagesFor (turns, turn) {
  const messages = []
  for (const t of turns) {
    if (t === turn) break
    const text = t.rounds.map((r) => r.content.text.trim()).filter(Boolean).join('\n\n')
    if (text !== '') messages.push({ role: 'user', content: t.user }, { role: 'assistant', content: text })
  }
  messages.push({ role: 'user', content: turn.user })
  for (const round of turn.rounds.slice(0, -1)) {
    messages.push({ role: 'assistant', content: round.content.content() }, { role: 'user', content: round.results })
  }
  return messages
}

/** A turn as sessionStorage keeps it. */
export function storedTurn (t) {
  return {
    user: t.user,
    model: t.model,
    options: t.options,
    state: t.view.state,
    streamId: t.streamId,
    error: t.error,
    stop: t.stop,
    meta: t.meta,
    limited: t.limited,
    rounds: t.rounds.map((r) => ({ blocks: r.content.toJSON(), results: r.results, stopReason: r.stopReason })),
  }
}

/** The rounds of a stored turn (one empty round for a turn stored before rounds existed). */
export function storedRounds (s) {
  return (s.rounds ?? [{ blocks: [] }]).map((r) => ({ ...newRound(r.blocks), results: r.results ?? [], stopReason: r.stopReason }))
}
