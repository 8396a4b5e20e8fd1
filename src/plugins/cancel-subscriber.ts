// DELETE /v1/streams/:id on any instance publishes the id; the instance producing that
// stream aborts its Bedrock call. One subscriber connection per instance.
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import type { StreamHub } from '../streams/hub.js'
import { CANCEL_CHANNEL } from '../streams/redis-streams.js'

export async function subscribeToCancels (app: FastifyInstance, redis: Redis, hub: StreamHub): Promise<void> {
  const sub = redis.duplicate({ enableOfflineQueue: true }) // re-subscribes by itself after a reconnect
  sub.on('error', () => {}) // the main client logs connection trouble
  sub.on('message', (_channel: string, streamId: string) => { hub.cancel(streamId) })
  sub.subscribe(CANCEL_CHANNEL).catch((err: unknown) => app.log.warn({ err }, 'redis: cancel subscription failed; will retry on reconnect'))
  app.addHook('onClose', async () => { sub.disconnect() })
}
