// The proxy's core services, decorated on its scope (as fastify/demo decorates its
// repositories): the validated configuration, the Bedrock client, the shared Redis
// client, the lifecycle (draining), what /readyz knows about AWS credentials, and the
// call events every finished Bedrock call and every heartbeat is reported to. Routes and
// plugins read them from the instance; nothing is passed around in a bag.
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import { CredentialsState } from '../bedrock/credentials.js'
import type { StreamSummary } from '../bedrock/relay.js'
import type { Config } from '../config.js'

/** Sees every finished stream or Converse call (usage accounting, budgets, metrics, traces). */
export type CallFinishedListener = (request: FastifyRequest, summary: StreamSummary) => void

export class CallEvents {
  readonly #finished: CallFinishedListener[] = []
  readonly #heartbeats: Array<() => void> = []

  onFinished (listener: CallFinishedListener): void { this.#finished.push(listener) }
  finished (request: FastifyRequest, summary: StreamSummary): void {
    for (const listener of this.#finished) listener(request, summary)
  }

  onHeartbeat (listener: () => void): void { this.#heartbeats.push(listener) }
  /** What an SSE response calls per heartbeat; undefined when nobody listens (the usual hot path). */
  get heartbeatListener (): (() => void) | undefined {
    if (this.#heartbeats.length === 0) return undefined
    return () => { for (const listener of this.#heartbeats) listener() }
  }
}

/** Where the instance is in its life: `closing` from the first moment of a shutdown (drain). */
export class Lifecycle {
  closing = false
}

/** Overload state, when a PRESSURE_* bound is configured (plugins/pressure.ts). */
export interface OverloadState {
  underPressure: () => boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    proxyConfig: Config
    bedrockClient: BedrockRuntimeClient
    /** The shared ioredis client (REDIS_URL), or null: state in this process only. */
    redisClient: Redis | null
    lifecycle: Lifecycle
    awsCredentials: CredentialsState
    callEvents: CallEvents
    /** Set by the pressure plugin when a bound is configured. */
    overload: OverloadState | null
  }
}

export interface CoreServicesOptions {
  config: Config
  bedrock: BedrockRuntimeClient
  redis?: Redis | undefined
  lifecycle: Lifecycle
  credentials: CredentialsState
}

async function coreServices (app: FastifyInstance, opts: CoreServicesOptions): Promise<void> {
  app.decorate('proxyConfig', opts.config)
  app.decorate('bedrockClient', opts.bedrock)
  app.decorate('redisClient', opts.redis ?? null)
  app.decorate('lifecycle', opts.lifecycle)
  app.decorate('awsCredentials', opts.credentials)
  app.decorate('callEvents', new CallEvents())
  app.decorate('overload', null)
  // Real calls keep /readyz's credentials current (a call that signed proves them).
  app.callEvents.onFinished(function recordCredentials (_request, summary) { app.awsCredentials.record(summary) })
}

export default fp(coreServices, { name: 'bsp-core', fastify: '5.x' })
