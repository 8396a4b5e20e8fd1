// Liveness and readiness for Docker HEALTHCHECK, Kubernetes and load balancers.
import type { FastifyInstance } from 'fastify'
import type { AppContext } from '../app.js'

export async function healthRoutes (app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Liveness: the process answers. Never calls Bedrock.
  app.get('/healthz', async function liveness () {
    return { status: 'ok' }
  })

  // Readiness: 503 while shutting down, so a load balancer drains this instance. Redis
  // down is `degraded`, not unready: live streaming still works, only resume across
  // instances is off, and pulling every instance would be worse.
  app.get('/readyz', async function readiness (_request, reply) {
    const redis = ctx.remote === undefined ? 'off' : ctx.remote.healthy ? 'up' : 'down'
    const body = { openStreams: ctx.streams.size, runningStreams: ctx.hub.running, redis }
    if (ctx.state.closing) return reply.code(503).send({ status: 'shutting_down', ...body })
    return { status: redis === 'down' ? 'degraded' : 'ready', ...body }
  })
}
