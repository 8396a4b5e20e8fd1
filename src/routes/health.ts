// Liveness and readiness for Docker HEALTHCHECK, Kubernetes and load balancers.
import type { FastifyInstance } from 'fastify'
import type { AppContext } from '../app.js'

export async function healthRoutes (app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Liveness: the process answers. Never calls Bedrock.
  app.get('/healthz', async function liveness () {
    return { status: 'ok' }
  })

  // Readiness: 503 while shutting down, so a load balancer drains this instance.
  app.get('/readyz', async function readiness (_request, reply) {
    if (ctx.state.closing) return reply.code(503).send({ status: 'shutting_down', openStreams: ctx.streams.size })
    return { status: 'ready', openStreams: ctx.streams.size }
  })
}
