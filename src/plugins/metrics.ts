// GET /metrics (Prometheus text format, prom-client), served per METRICS_* (see
// src/telemetry/settings.ts): on its own listener with METRICS_PORT, else on the main
// port; behind METRICS_TOKEN when set. /metrics is outside /v1, so auth, rate limits and
// overload refusals never apply to it. Registered without encapsulation (fastify-plugin)
// so its hooks see every route.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { StreamSummary } from '../bedrock/relay.js'
import { ProxyError } from '../errors.js'
import { errorCodeOfPayload } from '../telemetry/labels.js'
import { bearerMatches, startMetricsServer, UNAUTHORIZED_HEADERS, type MetricsServer } from '../telemetry/metrics-server.js'
import { ProxyMetrics } from '../telemetry/metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Base URL of the METRICS_PORT listener once the app is ready; undefined when /metrics is on the main port or off. */
    metricsUrl: string | undefined
  }
}

async function metrics (app: FastifyInstance): Promise<void> {
  const config = app.proxyConfig
  const settings = config.metrics
  const proxyMetrics = new ProxyMetrics({
    allowedModels: config.allowedModels,
    byKey: config.security.authMode === 'keys',
    runningStreams: () => app.streamHub.running,
    openResponses: () => app.openResponses.size,
    endedStreams: () => app.streamHub.endedStreams,
    underPressure: app.overload?.underPressure,
  })

  app.callEvents.onFinished(function countCall (request: FastifyRequest, summary: StreamSummary) {
    proxyMetrics.callFinished(summary.document === true ? 'converse' : 'stream', summary, request.principal)
  })
  app.callEvents.onHeartbeat(() => proxyMetrics.heartbeat())

  // Every 4xx/5xx the app answers: streams commit to 200 first, so these are refusals
  // made before any stream started (and /v1/converse failures). Success pays one compare.
  app.addHook('onSend', async function countRefusal (_request: FastifyRequest, reply: FastifyReply, payload: unknown) {
    if (reply.statusCode >= 400) proxyMetrics.refused(errorCodeOfPayload(payload, reply.statusCode))
    return payload
  })

  let server: MetricsServer | undefined
  app.decorate('metricsUrl', { getter: () => server?.url })
  if (settings.port !== undefined) {
    const port = settings.port
    app.addHook('onReady', async function listenForMetrics () {
      server = await startMetricsServer({ host: settings.host, port, token: settings.token, render: () => proxyMetrics.render(), log: app.log })
      app.log.info({ metrics: { url: server.url, token: settings.token !== undefined } }, 'metrics listening')
    })
    app.addHook('onClose', async function closeMetricsListener () {
      await server?.close()
    })
    return
  }

  app.get('/metrics', { logLevel: 'warn' }, async function scrape (request, reply) {
    if (settings.token !== undefined && !bearerMatches(request.headers.authorization, settings.token)) {
      reply.headers(UNAUTHORIZED_HEADERS)
      throw new ProxyError('unauthorized', { message: 'Send the metrics token as "Authorization: Bearer <token>".' })
    }
    const { contentType, body } = await proxyMetrics.render()
    return reply.type(contentType).send(body)
  })
}

export const metricsPlugin = fp(metrics, { name: 'bsp-metrics', fastify: '5.x', dependencies: ['bsp-core', 'bsp-streams'] })
