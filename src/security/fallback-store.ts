// Limits on Redis that degrade to this instance's memory while Redis is unreachable:
// a Redis outage must not take the proxy down (issue 3: new streams keep working), so
// during one the limits hold per instance instead of across instances. The switch is
// per call; nothing has to be restored when Redis returns. Ticket claims are the
// exception: single use cannot be proven locally, so they fail closed.
import type { Redis } from 'ioredis'
import { MemorySecurityStore, type SecurityStore, type TicketClaim } from './store.js'

export class FallbackSecurityStore implements SecurityStore {
  readonly #redis: Redis
  readonly #shared: SecurityStore
  readonly #local = new MemorySecurityStore()
  readonly #onFallback: (err: unknown) => void

  constructor (redis: Redis, shared: SecurityStore, onFallback: (err: unknown) => void) {
    this.#redis = redis
    this.#shared = shared
    this.#onFallback = onFallback
  }

  async #use<T> (call: (store: SecurityStore) => Promise<T>): Promise<T> {
    if (this.#redis.status !== 'ready') return await call(this.#local)
    try {
      return await call(this.#shared)
    } catch (err) {
      this.#onFallback(err)
      return await call(this.#local)
    }
  }

  // Never local: this instance's memory has not seen the claims made in Redis, so a used
  // ticket would pass again (issue 7). While Redis is away, no ticket is provably unused.
  async claimTicket (jti: string, issuedAtMs: number, ttlMs: number): Promise<TicketClaim> {
    if (this.#redis.status !== 'ready') return 'unprovable'
    return await this.#shared.claimTicket(jti, issuedAtMs, ttlMs)
  }

  async addUsage (key: string, amount: number, expireAtMs: number): Promise<number> { return await this.#use(s => s.addUsage(key, amount, expireAtMs)) }
  async getUsage (key: string): Promise<number> { return await this.#use(s => s.getUsage(key)) }
  async acquireSlot (key: string, slotId: string, max: number): Promise<boolean> { return await this.#use(s => s.acquireSlot(key, slotId, max)) }
  // Released on both: the slot may have been taken on either side of an outage.
  async releaseSlot (key: string, slotId: string): Promise<void> {
    await this.#local.releaseSlot(key, slotId)
    if (this.#redis.status === 'ready') await this.#shared.releaseSlot(key, slotId).catch(() => {})
  }

  close (): void {
    this.#shared.close()
    this.#local.close()
  }
}
