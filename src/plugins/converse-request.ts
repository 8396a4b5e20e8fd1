// Every generating route speaks its own request shape (the native body or query, OpenAI's
// chat completion, the AI SDK's UI messages), and every one of them becomes the one
// native ConverseRequest before anything is counted: admission (plugins/limits.ts) checks
// the input limits, the model and the budget on it, and the handler builds the Converse
// input from it (bedrock/converse-input.ts). A route declares its translation in
// `config.toConverse`; without one the native shape applies.
import type { FastifyRequest } from 'fastify'
import type { ConverseRequest } from '../requests.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** How this route's validated request becomes the native ConverseRequest; throws a ProxyError (4xx) for what cannot. */
    toConverse?: (request: FastifyRequest) => ConverseRequest
  }
}

const translated = new WeakMap<FastifyRequest, ConverseRequest>()

/** The request as a native ConverseRequest, translated once per request. */
export function converseRequestOf (request: FastifyRequest): ConverseRequest {
  const cached = translated.get(request)
  if (cached !== undefined) return cached
  const translate = request.routeOptions.config.toConverse ?? nativeRequest
  const converse = translate(request)
  translated.set(request, converse)
  return converse
}

/** The native routes: the body of a POST, the query of a GET (without its resume field). */
function nativeRequest (request: FastifyRequest): ConverseRequest {
  if (request.method !== 'GET') return request.body as ConverseRequest
  const { lastEventId: _resume, ...query } = request.query as ConverseRequest & { lastEventId?: string }
  return query
}
