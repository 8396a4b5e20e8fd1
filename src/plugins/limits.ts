// Limits on requests that call Bedrock (route kind `generate`) and on followers (kind
// `resume`: a reconnect, or GET /v1/streams/:id), checked in preHandler, after
// validation and before the handler.
//
// A call is admitted with: input size, the key's models, this instance's cap on open
// calls, a token reservation against the key's budget, and one of the key's stream
// slots. What admission takes belongs to the upstream call, not to the connection
// (issue 7): a client that connects and drops at once leaves its call running through
// the resume grace period, and that call keeps its slot and its reservation until it
// has ended. The route says so with request.admission.holdUntilCallEnds(); every
// finished call comes back through app.callEvents, which settles the budget with the
// real usage and frees the rest.
//
// A follower holds a follower slot (per key, and per instance) while its response is open.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { resolveModel } from '../bedrock/converse-input.js'
import type { StreamSummary } from '../bedrock/relay.js'
import { ProxyError } from '../errors.js'
import { billedTokens, estimateTokens, TokenBudget, type CacheWeights, type Reservation } from '../security/budget.js'
import { checkInput } from '../security/input-limits.js'
import type { Principal } from '../security/principal.js'
import { randomBase64url } from '../security/random.js'
import type { ConverseRequest } from '../requests.js'
import { converseRequestOf } from './converse-request.js'
import { kindOf } from './route-kind.js'

// Streams last seconds to minutes; a client told to come back sooner would only be refused again.
const BUSY_RETRY_AFTER_MS = 2000

/**
 * What admission took for one call (an instance slot, a key slot, a budget reservation),
 * given back exactly once: when the upstream call has ended, or, for a request that
 * never started one, when its response closes.
 */
export class Admission {
  #held = false
  #finished = false
  readonly #onFinish: (summary: StreamSummary | undefined) => void

  constructor (onFinish: (summary: StreamSummary | undefined) => void) {
    this.#onFinish = onFinish
  }

  /** The call outlives the response (a stream with a resume grace period): only its end frees it. */
  holdUntilCallEnds (): void { this.#held = true }
  get held (): boolean { return this.#held }
  get finished (): boolean { return this.#finished }

  /** `summary`: the call's end, with its usage; undefined: no call was made. */
  finish (summary?: StreamSummary): void {
    if (this.#finished) return
    this.#finished = true
    this.#onFinish(summary)
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the limits plugin on requests that call Bedrock; null elsewhere. */
    admission: Admission | null
  }
}

export async function registerAdmission (app: FastifyInstance): Promise<void> {
  const config = app.proxyConfig
  const security = config.security
  const store = app.securityStore
  const budget = new TokenBudget(store, security.tokenBudgetPeriod)
  let openCalls = 0
  let openFollowers = 0

  const budgetOf = (p: Principal): number => p.limits.tokenBudget ?? security.tokenBudgetPerKey
  app.decorateRequest('admission', null)

  async function admitCall (request: FastifyRequest, reply: FastifyReply, principal: Principal): Promise<void> {
    const body = converseRequestOf(request)
    const inputChars = checkInput(body, security)
    // Refused before anything is counted: a model nobody may use costs no slot and no budget.
    const model = resolveModel(body.model, config)
    if (principal.models !== undefined && !principal.models.has(model)) {
      throw new ProxyError('model_not_allowed', { message: `Model "${model.slice(0, 200)}" is not allowed for this key.` })
    }
    // Counted before the first await, so concurrent requests cannot all pass the check.
    if (openCalls >= security.maxOpenStreams) throw new ProxyError('server_busy', { retryAfterMs: BUSY_RETRY_AFTER_MS })
    openCalls += 1
    const slotKey = `slots:${principal.id}`
    const slotId = randomBase64url(9)
    // What this call holds so far; giveBack returns exactly that.
    const held: { slot: boolean, reservation: Reservation | undefined } = { slot: false, reservation: undefined }

    const admission = new Admission(function giveBack (summary) {
      openCalls -= 1
      const { reservation } = held
      if (held.slot) store.releaseSlot(slotKey, slotId).catch(err => request.log.warn({ err }, 'stream slot release failed'))
      const spent = summary !== undefined ? tokensOf(summary, inputChars, security) : 0
      if (reservation === undefined && spent === 0) return
      const settled = reservation !== undefined
        ? budget.settle(principal.id, reservation, spent)
        : budget.debit(principal.id, spent)
      settled.then(
        total => request.log.debug({ budget: { principal: principal.id, tokens: spent, reserved: reservation?.tokens ?? 0, total } }, 'usage settled'),
        err => request.log.error({ err, budget: { principal: principal.id, tokens: spent } }, 'usage settlement failed'))
    })
    request.admission = admission
    onResponseClose(reply, function releaseUnlessHeld () {
      if (!admission.held) admission.finish()
    })

    const taken = await budget.reserve(principal.id, budgetOf(principal), reservationOf(body, inputChars, config.maxOutputTokens, security))
    // The client may have left while we waited: finish() already ran, so give this back here.
    if (admission.finished) {
      await budget.settle(principal.id, taken, 0)
      return
    }
    held.reservation = taken
    const max = principal.limits.concurrentStreams ?? security.maxStreamsPerKey
    const gotSlot = await store.acquireSlot(slotKey, slotId, max)
    if (admission.finished) {
      if (gotSlot) await store.releaseSlot(slotKey, slotId)
      return
    }
    held.slot = gotSlot
    if (!gotSlot) {
      throw new ProxyError('too_many_streams', { message: `At most ${max} open streams per key; close one first.`, retryAfterMs: BUSY_RETRY_AFTER_MS })
    }
  }

  async function admitFollower (request: FastifyRequest, reply: FastifyReply, principal: Principal): Promise<void> {
    if (openFollowers >= security.maxOpenFollowers) throw new ProxyError('server_busy', { retryAfterMs: BUSY_RETRY_AFTER_MS })
    openFollowers += 1
    const slotKey = `followers:${principal.id}`
    const slotId = randomBase64url(9)
    const slot = { taken: false, closed: false }
    onResponseClose(reply, function releaseFollower () {
      openFollowers -= 1
      slot.closed = true
      if (slot.taken) store.releaseSlot(slotKey, slotId).catch(err => request.log.warn({ err }, 'follower slot release failed'))
    })
    const max = security.maxFollowersPerKey
    const gotSlot = await store.acquireSlot(slotKey, slotId, max)
    if (slot.closed) {
      if (gotSlot) await store.releaseSlot(slotKey, slotId)
      return
    }
    if (!gotSlot) {
      throw new ProxyError('too_many_streams', { message: `At most ${max} open followers (resumed or followed streams) per key; close one first.`, retryAfterMs: BUSY_RETRY_AFTER_MS })
    }
    slot.taken = true
  }

  app.addHook('preHandler', async function admit (request: FastifyRequest, reply: FastifyReply) {
    const principal = request.principal
    if (principal === null) return
    const kind = kindOf(request)
    if (kind === 'generate') await admitCall(request, reply, principal)
    else if (kind === 'resume') await admitFollower(request, reply, principal)
  })

  app.callEvents.onFinished(function settleAdmission (request: FastifyRequest, summary: StreamSummary) {
    request.admission?.finish(summary)
  })
}

/**
 * What a finished call cost: Bedrock's usage when it came (a partial stream's estimate
 * included, when the summary carries one); otherwise the input, estimated from its text,
 * whenever Bedrock may have read it: the client left, or the call failed after Bedrock
 * had started answering. Calls refused before that cost nothing.
 */
export function tokensOf (summary: StreamSummary, inputChars: number, weights: CacheWeights): number {
  if (summary.inputTokens !== undefined || summary.outputTokens !== undefined) return billedTokens(summary, weights)
  const reached = summary.outcome === 'client_closed' || summary.timeToFirstTokenMs !== undefined
  return reached ? estimateTokens(inputChars) : 0
}

/**
 * The most a call can cost, reserved at admission: its input, estimated from its text
 * and its binary documents (at the cache-write weight when it asks for prompt caching,
 * which may write all of it), plus its output cap, which bounds thinking tokens too
 * (they are output tokens).
 */
export function reservationOf (body: ConverseRequest, inputChars: number, maxOutputTokens: number, weights: CacheWeights): number {
  const maxOutput = Math.min(body.maxTokens ?? maxOutputTokens, maxOutputTokens)
  const input = estimateTokens(inputChars + documentBytesOf(body))
  const caching = asksForCaching(body)
  return (caching ? Math.ceil(input * Math.max(100, weights.budgetCacheWritePercent) / 100) : input) + maxOutput
}

/**
 * Bytes of the binary documents a request sends, decoded. A page of PDF costs some
 * thousand tokens and MAX_PROMPT_CHARS cannot see it: a byte per character is a generous
 * upper bound (most of a PDF's bytes are fonts and images), and the reservation is the
 * most a call may cost; it settles with Bedrock's real usage.
 */
function documentBytesOf (body: ConverseRequest): number {
  let bytes = 0
  for (const message of body.messages ?? []) {
    if (typeof message.content === 'string') continue
    for (const block of message.content) {
      const docs = 'document' in block ? [block.document] : 'toolResult' in block ? block.toolResult.content.flatMap(c => 'document' in c ? [c.document] : []) : []
      for (const doc of docs) if ('bytes' in doc.source) bytes += Buffer.byteLength(doc.source.bytes, 'base64')
    }
  }
  return bytes
}

function asksForCaching (body: ConverseRequest): boolean {
  const isCachePoint = (block: object): boolean => 'cachePoint' in block
  return (Array.isArray(body.system) && body.system.some(isCachePoint)) ||
    (body.toolConfig?.tools.some(isCachePoint) ?? false) ||
    (body.messages?.some(m => typeof m.content !== 'string' && m.content.some(isCachePoint)) ?? false)
}

/** Runs `release` once when the response closes, or at once if it already has. */
export function onResponseClose (reply: FastifyReply, release: () => void): void {
  // No guard closure of its own: it stays with every open stream (issue 10).
  if (reply.raw.destroyed) release()
  else reply.raw.once('close', release)
}

/** True when the client is gone: its socket closed before the answer was complete. */
export function clientGone (reply: FastifyReply): boolean {
  return reply.raw.destroyed || reply.raw.socket?.destroyed === true
}
