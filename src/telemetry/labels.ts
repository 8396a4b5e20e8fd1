// Label values for metrics and span attributes. Every label set stays bounded: no prompt,
// no stream id, no IP address, no JWT subject; models only from the server's allowlist,
// codes only from the error catalogue, keys only by their configured name.
import { ERROR_CATALOGUE } from '../errors.js'
import type { Principal } from '../security/principal.js'

/** `key` label: the API key's configured name (never the key); a fixed value otherwise. */
export function keyLabel (principal: Principal | null | undefined): string {
  if (principal === null || principal === undefined) return 'anonymous'
  if (principal.via === 'key') return principal.id.slice('key:'.length)
  return principal.via === 'jwt' ? 'jwt' : 'anonymous'
}

/** The model id when the server allows it (always, past validation); `other` guards the bound. */
export function modelLabel (model: string, allowed: ReadonlySet<string>): string {
  return allowed.has(model) ? model : 'other'
}

/** A catalogue code, else `http_<status>` (a body this proxy did not write, e.g. Fastify's own 503 while closing). */
export function codeLabel (code: unknown, status: number): string {
  return typeof code === 'string' && Object.hasOwn(ERROR_CATALOGUE, code) ? code : `http_${status}`
}

/**
 * The error code of an error answer, read from the JSON body the app is sending
 * (`{ "error": { "code" } }`). Only called for statuses >= 400, so the hot path never parses.
 */
export function errorCodeOfPayload (payload: unknown, status: number): string {
  if (typeof payload !== 'string' || !payload.startsWith('{')) return codeLabel(undefined, status)
  try {
    const body = JSON.parse(payload) as { error?: { code?: unknown } }
    return codeLabel(body.error?.code, status)
  } catch {
    return codeLabel(undefined, status)
  }
}
