// SecurityStore on Redis, so tickets stay single-use, and budgets and stream slots hold,
// across every instance that shares REDIS_URL. A Redis failure throws server_busy; the
// app wraps this store in FallbackSecurityStore, which then counts in this instance's
// memory instead (never failing open: the limits still hold, per instance), except for
// tickets, which are refused (ticket_unverifiable).
import type { Redis } from 'ioredis'
import { ProxyError } from '../errors.js'
import type { SecurityStore, TicketClaim } from './store.js'

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

// Claims of tickets live in Redis; a Redis that restarts empty (or is flushed) forgets
// them. The epoch key, written once with Redis's own clock, says since when the claims
// are complete: a ticket issued before it may have been used in the lost state, so it is
// unprovable. KEYS[1] epoch, KEYS[2] claim; ARGV: issued at (ms), claim ttl (ms).
// Returns 1 claimed, 0 used, -1 unprovable.
const CLAIM_TICKET = `
local since = tonumber(redis.call('GET', KEYS[1]))
if not since then
  local t = redis.call('TIME')
  since = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('SET', KEYS[1], since)
end
if tonumber(ARGV[1]) < since then return -1 end
if redis.call('SET', KEYS[2], '1', 'PX', ARGV[2], 'NX') then return 1 end
return 0`

// Run on every (re)connect, so the epoch is set before any ticket of this era is used.
const MARK_EPOCH = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  local t = redis.call('TIME')
  redis.call('SET', KEYS[1], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
end
return 1`

const EPOCH_KEY = `${PREFIX}epoch`

// KEYS[1] usage counter; ARGV: amount, expire at (ms).
const ADD_USAGE = `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return total`

export class RedisSecurityStore implements SecurityStore {
  readonly #redis: Redis
  readonly #held = new Map<string, string>() // slot id -> slot set key, for lease renewal
  readonly #renewer: NodeJS.Timeout

  readonly #markEpoch = (): void => { this.#redis.eval(MARK_EPOCH, 1, EPOCH_KEY).catch(() => {}) }

  constructor (redis: Redis) {
    this.#redis = redis
    this.#renewer = setInterval(() => { this.#renew().catch(() => {}) }, RENEW_EVERY_MS)
    this.#renewer.unref()
    redis.on('ready', this.#markEpoch)
    if (redis.status === 'ready') this.#markEpoch()
  }

  async claimTicket (jti: string, issuedAtMs: number, ttlMs: number): Promise<TicketClaim> {
    try {
      const result = await this.#redis.eval(CLAIM_TICKET, 2, EPOCH_KEY, `${PREFIX}ticket:${jti}`, issuedAtMs, Math.max(1, Math.ceil(ttlMs)))
      return result === 1 ? 'claimed' : result === 0 ? 'used' : 'unprovable'
    } catch {
      return 'unprovable'
    }
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
    this.#redis.off('ready', this.#markEpoch)
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
