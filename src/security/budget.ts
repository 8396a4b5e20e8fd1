// Token budgets: each principal may spend so many tokens (input + output, as Bedrock
// reports them) per calendar period in UTC, so the reset time is the same for every
// instance and easy to state. A request is refused once the period's total reached the
// budget. Each call reserves its input estimate plus its output cap when it is admitted
// and settles with Bedrock's usage when it ends (issue 7: a client that drops its
// connection cannot start calls the budget does not see), so a period overshoots by at
// most one call's reservation plus what the input estimate missed.
import { ProxyError } from '../errors.js'
import type { BudgetPeriod } from './settings.js'
import type { SecurityStore } from './store.js'

export interface PeriodWindow {
  startMs: number
  endMs: number
}

export function periodWindow (period: BudgetPeriod, nowMs: number): PeriodWindow {
  const d = new Date(nowMs)
  const y = d.getUTCFullYear()
  const m = d.getUTCMonth()
  switch (period) {
    case 'hour': {
      const startMs = Date.UTC(y, m, d.getUTCDate(), d.getUTCHours())
      return { startMs, endMs: startMs + 3_600_000 }
    }
    case 'day': {
      const startMs = Date.UTC(y, m, d.getUTCDate())
      return { startMs, endMs: Date.UTC(y, m, d.getUTCDate() + 1) }
    }
    case 'month':
      return { startMs: Date.UTC(y, m, 1), endMs: Date.UTC(y, m + 1, 1) }
  }
}

/** How much a prompt-cache token counts, in percent of an input token (BUDGET_CACHE_*_PERCENT). */
export interface CacheWeights {
  budgetCacheReadPercent: number
  budgetCacheWritePercent: number
}

export interface BilledUsage {
  inputTokens?: number | undefined
  outputTokens?: number | undefined
  cacheReadInputTokens?: number | undefined
  cacheWriteInputTokens?: number | undefined
}

/**
 * What a call's usage weighs in the budget. Bedrock's `inputTokens` leaves out the
 * prompt-cache tokens, which are billed apart (reads at about a tenth, writes at about
 * 1.25 times an input token), so they are added at their weight; counting them as 0
 * would let a cached prompt run outside the budget. Reasoning (thinking) tokens are
 * output tokens in Bedrock's usage, and bounded by maxTokens at admission.
 */
export function billedTokens (usage: BilledUsage, weights: CacheWeights): number {
  const cacheRead = Math.ceil((usage.cacheReadInputTokens ?? 0) * weights.budgetCacheReadPercent / 100)
  const cacheWrite = Math.ceil((usage.cacheWriteInputTokens ?? 0) * weights.budgetCacheWritePercent / 100)
  return (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0) + cacheRead + cacheWrite
}

// Used only when Bedrock's usage never arrived (a client that left early): the input
// was sent and is billed.
export { estimateTokens } from '../usage-estimate.js'

export class TokenBudget {
  readonly #store: SecurityStore
  readonly #period: BudgetPeriod

  constructor (store: SecurityStore, period: BudgetPeriod) {
    this.#store = store
    this.#period = period
  }

  #key (principalId: string, window: PeriodWindow): string {
    return `budget:${principalId}:${window.startMs}`
  }

  /**
   * Admission (issue 7): adds the most a call can cost (its input estimate plus its output
   * cap) to the period's counter before Bedrock is called, so calls that are still
   * running, or whose client left, count at once. Refused, and nothing kept, when the
   * counter had already reached the budget. `settle` replaces the reservation with the
   * real usage when the call ends. With no budget (0) nothing is reserved.
   */
  async reserve (principalId: string, limit: number, tokens: number, nowMs = Date.now()): Promise<Reservation> {
    const window = periodWindow(this.#period, nowMs)
    if (limit === 0 || tokens === 0) return { windowStartMs: window.startMs, tokens: 0 }
    const key = this.#key(principalId, window)
    const total = await this.#store.addUsage(key, tokens, window.endMs + 60_000)
    if (total - tokens >= limit) {
      await this.#store.addUsage(key, -tokens, window.endMs + 60_000)
      throw this.#exhausted(limit, window, nowMs)
    }
    return { windowStartMs: window.startMs, tokens }
  }

  /**
   * Replaces a reservation with what the call really cost. The reservation is returned to
   * the period it was taken from; the usage is counted in the current one (they differ
   * only for a call that ran across the boundary). Returns the current period's total.
   */
  async settle (principalId: string, reservation: Reservation, tokens: number, nowMs = Date.now()): Promise<number> {
    const window = periodWindow(this.#period, nowMs)
    if (reservation.windowStartMs === window.startMs) {
      return await this.debit(principalId, tokens - reservation.tokens, nowMs)
    }
    if (reservation.tokens > 0) {
      const old = periodWindow(this.#period, reservation.windowStartMs)
      await this.#store.addUsage(this.#key(principalId, old), -reservation.tokens, old.endMs + 60_000)
    }
    return await this.debit(principalId, tokens, nowMs)
  }

  /** Adds spent tokens to the current period; the counter expires with its period. */
  async debit (principalId: string, tokens: number, nowMs = Date.now()): Promise<number> {
    const window = periodWindow(this.#period, nowMs)
    // Kept a little past the period, so a late debit near the boundary still lands somewhere sane.
    return this.#store.addUsage(this.#key(principalId, window), tokens, window.endMs + 60_000)
  }

  #exhausted (limit: number, window: PeriodWindow, nowMs: number): ProxyError {
    const resetAt = new Date(window.endMs).toISOString()
    return new ProxyError('budget_exhausted', {
      message: `The token budget of this key (${limit} tokens per ${this.#period}) is used up, or held by its open streams, until ${resetAt}.`,
      retryAfterMs: window.endMs - nowMs,
      resetAt,
    })
  }
}

/** Tokens set aside at admission, in the period they were taken from. */
export interface Reservation {
  windowStartMs: number
  tokens: number
}
