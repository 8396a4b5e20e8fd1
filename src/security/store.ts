// The state behind tickets, budgets and stream slots. In memory by default (one
// instance); RedisSecurityStore (redis-store.ts) shares it across instances. Both keep
// memory bounded: every entry carries its own expiry.

/**
 * The use of a ticket: `claimed` the first time; `used` after that; `unprovable` when the
 * store cannot tell whether it was used before (Redis unreachable, or restarted empty
 * since the ticket was issued): refused too, never taken as a first use (issue 7).
 */
export type TicketClaim = 'claimed' | 'used' | 'unprovable'

export interface SecurityStore {
  /** Marks ticket `jti` (issued at `issuedAtMs`) used, for `ttlMs` (its remaining life). */
  claimTicket: (jti: string, issuedAtMs: number, ttlMs: number) => Promise<TicketClaim>
  /** Adds `amount` to a counter that disappears at `expireAtMs`; returns the new total. */
  addUsage: (key: string, amount: number, expireAtMs: number) => Promise<number>
  getUsage: (key: string) => Promise<number>
  /** Takes one of `max` slots under `key` for `slotId`; false when all are taken. */
  acquireSlot: (key: string, slotId: string, max: number) => Promise<boolean>
  releaseSlot: (key: string, slotId: string) => Promise<void>
  close: () => void
}

// Sweeping expired entries at most this often keeps the cost off the request path.
const SWEEP_EVERY_MS = 10_000

export class MemorySecurityStore implements SecurityStore {
  readonly #claims = new Map<string, number>() // key -> expires at
  readonly #usage = new Map<string, { total: number, expireAtMs: number }>()
  readonly #slots = new Map<string, Set<string>>()
  #sweptAt = Date.now()

  // In memory the claims die with the process; tickets then die with it too, because in
  // this mode a ticket names the instance (process) that issued it (security/tickets.ts).
  async claimTicket (jti: string, _issuedAtMs: number, ttlMs: number): Promise<TicketClaim> {
    const now = this.#sweep()
    const until = this.#claims.get(jti)
    if (until !== undefined && until > now) return 'used'
    this.#claims.set(jti, now + ttlMs)
    return 'claimed'
  }

  async addUsage (key: string, amount: number, expireAtMs: number): Promise<number> {
    const now = this.#sweep()
    const entry = this.#usage.get(key)
    const total = (entry !== undefined && entry.expireAtMs > now ? entry.total : 0) + amount
    this.#usage.set(key, { total, expireAtMs })
    return total
  }

  async getUsage (key: string): Promise<number> {
    const entry = this.#usage.get(key)
    return entry !== undefined && entry.expireAtMs > Date.now() ? entry.total : 0
  }

  // Process-local slots need no lease: the response's close always releases them, and
  // a crash takes the whole map with it.
  async acquireSlot (key: string, slotId: string, max: number): Promise<boolean> {
    const held = this.#slots.get(key) ?? new Set<string>()
    if (held.size >= max) return false
    held.add(slotId)
    this.#slots.set(key, held)
    return true
  }

  async releaseSlot (key: string, slotId: string): Promise<void> {
    const held = this.#slots.get(key)
    if (held === undefined) return
    held.delete(slotId)
    if (held.size === 0) this.#slots.delete(key)
  }

  close (): void {
    this.#claims.clear()
    this.#usage.clear()
    this.#slots.clear()
  }

  #sweep (): number {
    const now = Date.now()
    if (now - this.#sweptAt < SWEEP_EVERY_MS) return now
    this.#sweptAt = now
    for (const [key, until] of this.#claims) if (until <= now) this.#claims.delete(key)
    for (const [key, entry] of this.#usage) if (entry.expireAtMs <= now) this.#usage.delete(key)
    return now
  }
}
