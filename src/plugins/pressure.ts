// Overload protection (@fastify/under-pressure). Past any bound, requests that would start a
// Bedrock call (routeKind `generate`) get 503 server_overloaded with Retry-After; everything
// else passes, so open streams keep flowing, resumes replay, and /healthz, /readyz and
// /metrics answer. The bounds:
// - PRESSURE_MAX_EVENT_LOOP_DELAY_MS: a stalled process;
// - the heap (PRESSURE_MAX_HEAP_PERCENT of the old generation V8 lets it fill, by default):
//   a process at that limit dies with every stream it carries. Judged on the heap left
//   after each major GC (telemetry/live-heap.ts), not on heapUsed, which counts garbage;
// - resident memory (PRESSURE_MAX_RSS_PERCENT of a container's memory limit, by default):
//   past the limit the kernel kills the process.
// under-pressure samples the event loop and RSS once a second (its default); the heap is
// read after each major GC. The state is shown on /readyz and in metrics through app.overload.
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { ProxyError } from '../errors.js'
import { LiveHeap } from '../telemetry/live-heap.js'
import { kindOf } from './route-kind.js'

// A sample lasts a second; retrying within a couple of samples is the earliest that can succeed.
const OVERLOADED_RETRY_AFTER_MS = 2000

/** Refuses a request that would start a Bedrock call; lets everything else through. */
function refuseNewStream (request: FastifyRequest, type: string, value: number | undefined): void {
  // Routes outside /v1 declare no kind (health, metrics, the page): they keep answering.
  if (request.routeOptions.config.kind === undefined || kindOf(request) !== 'generate') return
  request.log.warn({ pressure: { type, value } }, 'overloaded: new stream refused')
  throw new ProxyError('server_overloaded', { retryAfterMs: OVERLOADED_RETRY_AFTER_MS })
}

async function pressure (app: FastifyInstance): Promise<void> {
  const { maxEventLoopDelayMs, maxHeapBytes, maxRssBytes } = app.proxyConfig.pressure
  if (maxEventLoopDelayMs === 0 && maxHeapBytes === 0 && maxRssBytes === 0) return
  let sampled = (): boolean => false
  if (maxEventLoopDelayMs > 0 || maxRssBytes > 0) {
    await app.register(underPressure, {
      maxEventLoopDelay: maxEventLoopDelayMs,
      maxRssBytes,
      // Called only while a bound is crossed. Returning nothing lets the request through.
      pressureHandler: async function refuseNewStreams (request: FastifyRequest, _reply: FastifyReply, type: string, value: number | undefined) {
        refuseNewStream(request, type, value)
      },
    })
    sampled = () => app.isUnderPressure()
  }
  let heapOver = (): boolean => false
  if (maxHeapBytes > 0) {
    const heap = new LiveHeap()
    heapOver = () => heap.bytes > maxHeapBytes
    app.addHook('onRequest', async function refuseOnHeap (request: FastifyRequest) {
      if (heapOver()) refuseNewStream(request, 'heapUsedBytes', heap.bytes)
    })
    app.addHook('onClose', async function stopHeapWatch () { heap.stop() })
  }
  app.overload = { underPressure: () => sampled() || heapOver() }
}

export const pressurePlugin = fp(pressure, { name: 'bsp-pressure', fastify: '5.x', dependencies: ['bsp-core'] })
