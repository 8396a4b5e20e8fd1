// SecurityStore on Redis, so tickets stay single-use, and budgets and stream slots hold,
// across every instance that shares REDIS_URL. A Redis failure on the request path
// refuses the request (server_busy, 503): failing open would let an outage spend the
// budget unchecked.
import type { Redis } from 'ioredis'
import { ProxyError } from '../errors.js'
import type { SecurityStore } from './store.js'

const PREFIX = 'bsp:sec:'
// A slot is a lease in a sorted set (score = lease end), renewed while its response is
// open: an instance that dies without releasing frees its slots within LEASE_MS.
const LEASE_MS = 30_000
const RENEW_EVERY_MS = 10_000

// KEYS[1] slot set; ARGV: now, lease end, max, slot id. Atomic: drop expired leases,
// count, take a slot if one is free.
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1`

// KEYS[1] usage counter; ARGV: amount, expire at (ms).
const ADD_USAGE = `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return total`

export class RedisSecurityStore implements SecurityStore {
  readonly #redis: Redis
  readonly #held = new Map<string, string>() // slot id -> slot set key, for lease renewal
  readonly #renewer: NodeJS.Timeout

  constructor (redis: Redis) {
    this.#redis = redis
    this.#renewer = setInterval(() => { this.#renew().catch(() => {}) }, RENEW_EVERY_MS)
    this.#renewer.unref()
  }

  async claimOnce (key: string, ttlMs: number): Promise<boolean> {
    const ok = await this.#call(() => this.#redis.set(PREFIX + key, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'))
    return ok === 'OK'
  }

  async addUsage (key: string, amount: number, expireAtMs: number): Promise<number> {
    return Number(await this.#call(() => this.#redis.eval(ADD_USAGE, 1, PREFIX + key, amount, expireAtMs)))
  }

  async getUsage (key: string): Promise<number> {
    return Number(await this.#call(() => this.#redis.get(PREFIX + key)) ?? 0)
  }

  async acquireSlot (key: string, slotId: string, max: number): Promise<boolean> {
    const now = Date.now()
    const taken = await this.#call(() => this.#redis.eval(ACQUIRE, 1, PREFIX + key, now, now + LEASE_MS, max, slotId))
    if (taken === 1) this.#held.set(slotId, PREFIX + key)
    return taken === 1
  }

  async releaseSlot (key: string, slotId: string): Promise<void> {
    this.#held.delete(slotId)
    await this.#call(() => this.#redis.zrem(PREFIX + key, slotId))
  }

  close (): void {
    clearInterval(this.#renewer)
  }

  async #renew (): Promise<void> {
    if (this.#held.size === 0) return
    const until = Date.now() + LEASE_MS
    const batch = this.#redis.pipeline()
    for (const [slotId, key] of this.#held) {
      batch.zadd(key, 'XX', until, slotId) // XX: never re-create a slot released meanwhile
      batch.pexpireat(key, until)
    }
    await batch.exec()
  }

  async #call<T> (command: () => Promise<T>): Promise<T> {
    try {
      return await command()
    } catch (err) {
      throw new ProxyError('server_busy', { message: 'The limits store is unavailable; retry shortly.', retryAfterMs: 5000, cause: err })
    }
  }
}
