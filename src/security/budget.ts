// Token budgets: each principal may spend so many tokens (input + output, as Bedrock
// reports them) per calendar period in UTC, so the reset time is the same for every
// instance and easy to state. A request is refused once the period's total reached the
// budget; a stream already running finishes, so one period can overshoot by at most
// (open streams of the key) x (their output cap): MAX_STREAMS_PER_KEY x MAX_OUTPUT_TOKENS.
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

  /** Throws budget_exhausted (with the reset time) when `limit` tokens are spent this period; 0 = no budget. */
  async check (principalId: string, limit: number, nowMs = Date.now()): Promise<void> {
    if (limit === 0) return
    const window = periodWindow(this.#period, nowMs)
    const used = await this.#store.getUsage(this.#key(principalId, window))
    if (used < limit) return
    throw new ProxyError('budget_exhausted', {
      message: `The token budget of this key (${limit} tokens per ${this.#period}) is used up until ${new Date(window.endMs).toISOString()}.`,
      retryAfterMs: window.endMs - nowMs,
      resetAt: new Date(window.endMs).toISOString(),
    })
  }

  /** Adds spent tokens to the current period; the counter expires with its period. */
  async debit (principalId: string, tokens: number, nowMs = Date.now()): Promise<number> {
    const window = periodWindow(this.#period, nowMs)
    // Kept a little past the period, so a late debit near the boundary still lands somewhere sane.
    return this.#store.addUsage(this.#key(principalId, window), tokens, window.endMs + 60_000)
  }

  async used (principalId: string, nowMs = Date.now()): Promise<number> {
    return this.#store.getUsage(this.#key(principalId, periodWindow(this.#period, nowMs)))
  }
}
