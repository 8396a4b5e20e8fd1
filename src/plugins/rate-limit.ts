// Request rate per principal (@fastify/rate-limit) on every /v1/* route: RATE_LIMIT_MAX
// requests per RATE_LIMIT_WINDOW_MS, or the key's own `rateLimit`. Its onRequest hook is
// route-level, so it runs after the origin check and authentication (instance-level):
// the count is keyed by the authenticated principal, and anonymous requests by
// request.ip (X-Forwarded-For only with TRUST_PROXY). In memory (the plugin's LRU
// store) by default; on Redis, when configured, so the limit holds across instances.
import rateLimit, { type FastifyRateLimitStore, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { ProxyError } from '../errors.js'

// Fixed window: the first hit sets the window's expiry. KEYS[1]; ARGV[1] window ms.
const INCR = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return { current, ttl }`

/**
 * The plugin's own Redis store would surface a Redis outage as a bare error (500); this
 * one counts in this instance's memory while Redis is unreachable (the limit then holds
 * per instance), so an outage never takes the proxy down.
 */
function redisRateStore (redis: Redis): FastifyRateLimitStoreCtor {
  const local = new Map<string, { current: number, resetAt: number }>()
  const countLocally = (key: string, timeWindow: number): { current: number, ttl: number } => {
    const now = Date.now()
    if (local.size > 10_000) for (const [k, v] of local) if (v.resetAt <= now) local.delete(k)
    const entry = local.get(key)
    const next = entry !== undefined && entry.resetAt > now ? { current: entry.current + 1, resetAt: entry.resetAt } : { current: 1, resetAt: now + timeWindow }
    local.set(key, next)
    return { current: next.current, ttl: next.resetAt - now }
  }
  return class RedisRateStore implements FastifyRateLimitStore {
    incr (key: string, callback: (error: Error | null, result?: { current: number, ttl: number }) => void, timeWindow: number): void {
      if (redis.status !== 'ready') return callback(null, countLocally(key, timeWindow))
      redis.eval(INCR, 1, `bsp:rl:${key}`, timeWindow).then(result => {
        const [current, ttl] = result as [number, number]
        callback(null, { current, ttl })
      }, () => callback(null, countLocally(key, timeWindow)))
    }

    child (): FastifyRateLimitStore {
      return this // one count per principal across all /v1/* routes
    }
  }
}

export async function registerRateLimit (app: FastifyInstance): Promise<void> {
  const security = app.proxyConfig.security
  const redis = app.redisClient
  if (security.rateLimitMax === 0) return
  await app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    timeWindow: security.rateLimitWindowMs,
    max: (request) => request.principal?.limits.rateLimit ?? security.rateLimitMax,
    keyGenerator: (request) => request.principal?.id ?? `ip:${request.ip}`,
    ...(redis !== null ? { store: redisRateStore(redis) } : {}),
    errorResponseBuilder: (_request, context) => new ProxyError('rate_limited', { retryAfterMs: context.ttl }),
  })
}
