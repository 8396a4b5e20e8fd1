// Limits on requests that call Bedrock (routeKind `generate`), checked in preHandler,
// after validation and before the handler: input size, the key's models, this
// instance's cap on open calls, the key's token budget, the key's concurrent streams.
// Slots are released on the response's close (FIELD-NOTES 10: not request.signal), so
// a client that disconnects frees its slot at once, not when Bedrock would have ended.
// Usage is debited from every finished call through ctx.callFinished.
import { randomBytes } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ConverseRequest } from '../bedrock/converse-input.js'
import type { StreamSummary } from '../bedrock/relay.js'
import { ProxyError } from '../errors.js'
import { estimateTokens, TokenBudget } from '../security/budget.js'
import { checkInput } from '../security/input-limits.js'
import { routeKind, type Principal } from '../security/principal.js'
import type { SecurityConfig } from '../security/settings.js'
import type { SecurityStore } from '../security/store.js'
import type { AppContext } from '../app.js'

// Streams last seconds to minutes; a client told to come back sooner would only be refused again.
const BUSY_RETRY_AFTER_MS = 2000

export interface LimitsOptions {
  ctx: AppContext
  security: SecurityConfig
  store: SecurityStore
}

export async function registerLimits (app: FastifyInstance, { ctx, security, store }: LimitsOptions): Promise<void> {
  const budget = new TokenBudget(store, security.tokenBudgetPeriod)
  /** Text size of each admitted request, for a usage estimate when Bedrock's never came. */
  const inputChars = new WeakMap<FastifyRequest, number>()
  let openCalls = 0

  const budgetOf = (p: Principal): number => p.limits.tokenBudget ?? security.tokenBudgetPerKey

  app.addHook('preHandler', async function admitCall (request: FastifyRequest, reply: FastifyReply) {
    const principal = request.principal
    if (routeKind(request) !== 'generate' || principal === null) return
    const body = (request.method === 'GET' ? request.query : request.body) as ConverseRequest
    inputChars.set(request, checkInput(body, security))
    const model = body.model ?? ctx.config.defaultModelId
    if (principal.models !== undefined && !principal.models.has(model)) {
      throw new ProxyError('model_not_allowed', { message: `Model "${model.slice(0, 200)}" is not allowed for this key.` })
    }
    // Counted before the first await, so concurrent requests cannot all pass the check.
    // Bedrock calls whose client left keep running through the resume grace period: they
    // count too, or connect-and-drop loops could pile up orphaned calls past the cap.
    if (openCalls >= security.maxOpenStreams || ctx.hub.running >= security.maxOpenStreams) {
      throw new ProxyError('server_busy', { retryAfterMs: BUSY_RETRY_AFTER_MS })
    }
    openCalls += 1
    const slotKey = `slots:${principal.id}`
    const slotId = randomBytes(9).toString('base64url')
    let slotTaken = false
    onResponseClose(reply, function releaseCall () {
      openCalls -= 1
      if (slotTaken) store.releaseSlot(slotKey, slotId).catch(err => request.log.warn({ err }, 'stream slot release failed'))
    })
    await budget.check(principal.id, budgetOf(principal))
    const max = principal.limits.concurrentStreams ?? security.maxStreamsPerKey
    slotTaken = await store.acquireSlot(slotKey, slotId, max)
    if (!slotTaken) {
      throw new ProxyError('too_many_streams', { message: `At most ${max} open streams per key; close one first.`, retryAfterMs: BUSY_RETRY_AFTER_MS })
    }
    if (reply.raw.destroyed) await store.releaseSlot(slotKey, slotId) // the client left while we waited
  })

  ctx.callFinished.push(function debitUsage (request: FastifyRequest, summary: StreamSummary) {
    const principal = request.principal
    if (principal === null) return
    const tokens = tokensOf(summary, inputChars.get(request) ?? 0)
    if (tokens === 0) return
    budget.debit(principal.id, tokens).then(
      total => request.log.debug({ budget: { principal: principal.id, tokens, total } }, 'usage debited'),
      err => request.log.error({ err, budget: { principal: principal.id, tokens } }, 'usage debit failed'))
  })
}

/**
 * What a finished call cost: Bedrock's usage when it came (a partial stream's estimate
 * included, when the summary carries one); otherwise the input, estimated from its text,
 * whenever Bedrock may have read it: the client left, or the call failed after Bedrock
 * had started answering. Calls refused before that cost nothing.
 */
export function tokensOf (summary: StreamSummary, inputChars: number): number {
  if (summary.inputTokens !== undefined || summary.outputTokens !== undefined) {
    return (summary.inputTokens ?? 0) + (summary.outputTokens ?? 0)
  }
  const reached = summary.outcome === 'client_closed' || summary.timeToFirstTokenMs !== undefined
  return reached ? estimateTokens(inputChars) : 0
}

/** Runs `release` once when the response closes, or at once if it already has. */
function onResponseClose (reply: FastifyReply, release: () => void): void {
  let done = false
  const once = (): void => { if (!done) { done = true; release() } }
  reply.raw.once('close', once)
  if (reply.raw.destroyed) once()
}
