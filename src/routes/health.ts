// Liveness and readiness for Docker HEALTHCHECK, Kubernetes and load balancers.
import type { FastifyInstance } from 'fastify'

export async function healthRoutes (app: FastifyInstance): Promise<void> {
  // Liveness: the process answers. Never calls Bedrock.
  app.get('/healthz', async function liveness () {
    return { status: 'ok' }
  })

  // Readiness: 503 while shutting down, so a load balancer drains this instance. Redis
  // down is `degraded`, not unready: live streaming still works, only resume across
  // instances is off, and pulling every instance would be worse. Missing AWS credentials
  // are `degraded` too, not unready: every instance shares the configuration, so a 503
  // would pull them all and clients would get the balancer's bare 502 instead of
  // `upstream_credentials`; draining cannot fix it, the operator must (alert on it).
  app.get('/readyz', async function readiness (_request, reply) {
    const redis = app.redisStreams === null ? 'off' : app.redisStreams.healthy ? 'up' : 'down'
    // Overload refuses new streams (503 server_overloaded) but stays ready: were every
    // instance overloaded at once, a load balancer would otherwise have nowhere to go.
    const pressure = app.overload === null ? 'off' : app.overload.underPressure() ? 'overloaded' : 'ok'
    const credentials = app.awsCredentials.status
    const body = { openStreams: app.openResponses.size, runningStreams: app.streamHub.running, redis, credentials, pressure }
    if (app.lifecycle.closing) return reply.code(503).send({ status: 'shutting_down', ...body })
    return { status: redis === 'down' || credentials === 'missing' ? 'degraded' : 'ready', ...body }
  })
}
