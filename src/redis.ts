// The shared ioredis client (REDIS_URL). Commands fail fast while Redis is unreachable
// (no offline queue) so a Redis outage never stalls a live stream; ioredis keeps
// reconnecting in the background, and resume works again for new streams once it is back.
import { Redis } from 'ioredis'

export const REDIS_COMMAND_TIMEOUT_MS = 2000

export interface RedisLogger {
  warn: (obj: object, msg: string) => void
  info: (obj: object, msg: string) => void
}

export function createRedis (url: string, log: RedisLogger): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    // A Redis that accepts the connection but stops answering must not stall a request.
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
  })
  let up = false
  // An 'error' event without a listener would crash the process.
  redis.on('error', (err: Error) => {
    if (up) log.warn({ err: { message: err.message } }, 'redis connection lost')
    up = false
  })
  redis.on('ready', () => {
    if (!up) log.info({}, 'redis ready')
    up = true
  })
  return redis
}
