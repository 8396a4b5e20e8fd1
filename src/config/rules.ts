// Cross-field rules: checks no single setting can make on its own. Each pushes a problem
// naming the variables involved and returns the value the Config gets.
import { isHttpUrl, isRegion } from './checks.js'
import { DEFAULTS } from './defaults.js'
import type { Values } from './settings.js'

/** AWS_REGION, else AWS_DEFAULT_REGION (the SDK reads only the first; boto3 users set the second). */
export function region (v: Values, problems: string[]): string | undefined {
  const [name, value] = v.AWS_REGION !== undefined ? ['AWS_REGION', v.AWS_REGION] : ['AWS_DEFAULT_REGION', v.AWS_DEFAULT_REGION]
  if (value !== undefined && !isRegion(value)) problems.push(`${name} must look like us-east-1 (got "${value}")`)
  return value
}

/** The service-specific endpoint override, else the general one (AWS SDK endpoint precedence). */
export function endpoint (v: Values, problems: string[]): string | undefined {
  const [name, value] = v.AWS_ENDPOINT_URL_BEDROCK_RUNTIME !== undefined
    ? ['AWS_ENDPOINT_URL_BEDROCK_RUNTIME', v.AWS_ENDPOINT_URL_BEDROCK_RUNTIME]
    : ['AWS_ENDPOINT_URL', v.AWS_ENDPOINT_URL]
  if (value !== undefined && !isHttpUrl(value)) problems.push(`${name} must be an http(s) URL (got "${value}")`)
  return value
}

/** BEDROCK_MODEL_ID is always allowed, whatever BEDROCK_ALLOWED_MODELS lists. */
export function allowedModels (v: Values): ReadonlySet<string> {
  return new Set([v.BEDROCK_MODEL_ID, ...v.BEDROCK_ALLOWED_MODELS])
}

/** MODEL_ALIASES as alias -> model id; each model allowed, no alias shadowing a model id. */
export function modelAliases (v: Values, allowed: ReadonlySet<string>, problems: string[]): ReadonlyMap<string, string> {
  const aliases = new Map<string, string>()
  for (const pair of v.MODEL_ALIASES) {
    const [alias, model] = pair.split('=') as [string, string]
    if (!allowed.has(model)) problems.push(`MODEL_ALIASES maps "${alias}" to "${model}", which is not BEDROCK_MODEL_ID or in BEDROCK_ALLOWED_MODELS`)
    else if (allowed.has(alias)) problems.push(`MODEL_ALIASES: "${alias}" is an allowed model id itself; an alias cannot replace it`)
    else if (aliases.has(alias)) problems.push(`MODEL_ALIASES names "${alias}" twice`)
    else aliases.set(alias, model)
  }
  return aliases
}

export function checkRequestTimeouts (v: Values, problems: string[]): void {
  // Node refuses a headers timeout longer than the request timeout.
  if (v.HEADERS_TIMEOUT_MS > v.REQUEST_TIMEOUT_MS) {
    problems.push(`HEADERS_TIMEOUT_MS (${v.HEADERS_TIMEOUT_MS}) must not exceed REQUEST_TIMEOUT_MS (${v.REQUEST_TIMEOUT_MS})`)
  }
}

export function checkBodiesInFlight (v: Values, problems: string[]): void {
  // Otherwise one body of the largest accepted size could never be received.
  if (v.BODIES_IN_FLIGHT_MAX_BYTES < v.BODY_LIMIT_BYTES) {
    problems.push(`BODIES_IN_FLIGHT_MAX_BYTES (${v.BODIES_IN_FLIGHT_MAX_BYTES}) must be at least BODY_LIMIT_BYTES (${v.BODY_LIMIT_BYTES})`)
  }
}

/** The delay is part of the shutdown, not added to it: it must leave open streams time to end. */
export function shutdownDelay (v: Values, delaySet: boolean, problems: string[]): number {
  const delayMs = v.SHUTDOWN_DELAY_MS
  const timeoutMs = v.SHUTDOWN_TIMEOUT_MS
  // Unset, it shrinks so that a short SHUTDOWN_TIMEOUT_MS alone keeps working.
  if (!delaySet) return Math.min(DEFAULTS.shutdownDelayMs, Math.floor(timeoutMs / 2))
  if (delayMs > 0 && delayMs >= timeoutMs) {
    problems.push(`SHUTDOWN_DELAY_MS (${delayMs}) must be less than SHUTDOWN_TIMEOUT_MS (${timeoutMs}): the delay is part of the shutdown, and open streams need time to end after it`)
  }
  return delayMs
}
