// The streams of this instance, decorated on the proxy's scope: the hub of streams it
// produces (with their replay buffers), the registry of open responses (for /readyz and
// shutdown), and, with Redis, the shared replay buffer and the cancel subscription.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ProxyError } from '../errors.js'
import { StreamHub } from '../streams/hub.js'
import { CANCEL_CHANNEL, RedisStreams } from '../streams/redis-streams.js'
import { StreamRegistry } from '../streams/registry.js'

// How long open streams get to deliver their final events on shutdown.
const STREAM_DRAIN_MS = 2000

declare module 'fastify' {
  interface FastifyInstance {
    /** Streams produced by this instance, with their replay buffers. */
    streamHub: StreamHub
    /** Open responses (readers, Converse calls), for shutdown and /readyz. */
    openResponses: StreamRegistry
    /** The shared replay buffer when Redis is configured, else null. */
    redisStreams: RedisStreams | null
  }
}

async function streamServices (app: FastifyInstance): Promise<void> {
  const config = app.proxyConfig
  const hub = new StreamHub({ ttlMs: config.streamTtlMs, graceMs: config.resumeGraceMs, maxEndedBytes: config.endedStreamsMaxBytes, log: app.log })
  const redis = app.redisClient
  app.decorate('streamHub', hub)
  app.decorate('openResponses', new StreamRegistry())
  app.decorate('redisStreams', redis !== null ? new RedisStreams(redis, { ttlMs: config.streamTtlMs, log: app.log }) : null)

  if (redis !== null) {
    // DELETE /v1/streams/:id on any instance publishes the id; the producing instance
    // aborts its Bedrock call. One subscriber connection per instance, re-subscribed by
    // ioredis after a reconnect.
    const sub = redis.duplicate({ enableOfflineQueue: true })
    sub.on('error', () => {}) // the main client logs connection trouble
    sub.on('message', (_channel: string, streamId: string) => { hub.cancel(streamId) })
    sub.subscribe(CANCEL_CHANNEL).catch((err: unknown) => app.log.warn({ err }, 'redis: cancel subscription failed; will retry on reconnect'))
    app.addHook('onClose', async function unsubscribeCancels () { sub.disconnect() })
  }

  // Open streams would hold fastify.close() forever (FIELD-NOTES 11): end each with
  // `error` shutting_down + `done`, which lets their responses finish. Waiting for them
  // here means their connections are idle by the time server.close() closes idle
  // connections; otherwise keep-alive would hold close() for 72 s.
  app.addHook('preClose', async function endOpenStreams () {
    app.lifecycle.closing = true
    hub.abortAll(new ProxyError('shutting_down'))
    await app.openResponses.closeAll(STREAM_DRAIN_MS)
  })
  app.addHook('onClose', async function dropBuffers () {
    hub.clear()
    app.redisStreams?.close()
  })
}

export default fp(streamServices, { name: 'bsp-streams', fastify: '5.x', dependencies: ['bsp-core'] })
