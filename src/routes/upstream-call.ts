// The two steps every generating surface takes the same way, streamed or gathered: the
// admitted request's Converse input (the operator's rules, with the call's context), and
// the upstream call run by the relay with this server's client and timeouts.
import type { FastifyRequest } from 'fastify'
import { toConverseInput, type ConverseInput } from '../bedrock/converse-input.js'
import { relayConverseStream, type RelayOptions } from '../bedrock/relay.js'
import { converseRequestOf } from '../plugins/converse-request.js'
import { callContextOf } from './call-context.js'

/** The Converse input of the admitted request for the call `callId`; throws a 4xx before anything is sent. */
export function callInput (request: FastifyRequest, callId: string): ConverseInput {
  return toConverseInput(converseRequestOf(request), request.server.proxyConfig, callContextOf(request, callId))
}

/**
 * Runs the upstream call to its end (it never throws; every event goes to `call.emit`).
 * Returns the relay's own promise rather than awaiting it: a stream waiting on a slow
 * first token then holds no suspended frame of this function (issue 10).
 */
export function runCall (request: FastifyRequest, call: Omit<RelayOptions, 'client' | 'firstEventTimeoutMs' | 'idleTimeoutMs'>): Promise<void> {
  const { bedrockClient, proxyConfig } = request.server
  return relayConverseStream({
    client: bedrockClient,
    firstEventTimeoutMs: proxyConfig.upstreamFirstEventTimeoutMs,
    idleTimeoutMs: proxyConfig.upstreamIdleTimeoutMs,
    ...call,
  })
}
