// Who a request acts for. Every limit (rate, streams, budget) is keyed by `id`; `name`
// is what logs show. Never holds a secret.
import type { FastifyRequest } from 'fastify'
import type { KeyLimits } from './keys.js'

export interface Principal {
  /** `key:<name>`, `jwt:<sub>` or `ip:<address>` (anonymous, loopback or ALLOW_UNAUTHENTICATED). */
  id: string
  via: 'key' | 'jwt' | 'anonymous'
  /** True when a ticket in the URL stood in for the Authorization header. */
  ticket: boolean
  limits: KeyLimits
  /** Models this principal may use, when narrower than the global allowlist. */
  models: ReadonlySet<string> | undefined
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth plugin on /v1/* routes; null elsewhere. */
    principal: Principal | null
  }
}

export function anonymous (request: FastifyRequest): Principal {
  // request.ip honours TRUST_PROXY; without it X-Forwarded-For cannot change the key.
  return { id: `ip:${request.ip}`, via: 'anonymous', ticket: false, limits: {}, models: undefined }
}

export function queryOf (request: FastifyRequest): Record<string, unknown> {
  const query: unknown = request.query
  return query !== null && typeof query === 'object' ? query as Record<string, unknown> : {}
}

/** Authenticated principals own their streams; anonymous streams (loopback, no keys) are open. */
export function ownerOf (principal: Principal | null | undefined): string | undefined {
  return principal === null || principal === undefined || principal.via === 'anonymous' ? undefined : principal.id
}
