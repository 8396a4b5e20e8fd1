// Can the SDK find AWS credentials at all? With none anywhere in the chain, every call
// fails with CredentialsProviderError before a request is sent (FIELD-NOTES 25): a
// server configuration problem, so it is checked once at start-up (server.ts, after
// listen, bounded) and then kept current by real calls, and /readyz reports it.
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'
import type { StreamSummary } from './relay.js'

/** unchecked: not known yet (the start-up check has not answered, or timed out). */
export type CredentialsStatus = 'ok' | 'missing' | 'unchecked'

export interface CredentialsCheck {
  status: CredentialsStatus
  /** What the SDK will sign with, when found. */
  source?: 'aws credentials' | 'bearer token'
  error?: unknown
}

/**
 * Resolves the client's credential chain (memoised by the SDK, so the first real call
 * reuses it). A Bedrock API key (AWS_BEARER_TOKEN_BEDROCK) makes the SDK prefer bearer
 * auth; the SigV4 chain may then be empty without harm. Neither is validated here: only
 * Bedrock can say whether they are allowed, and it answers that per call.
 */
export async function checkCredentials (client: BedrockRuntimeClient, timeoutMs: number): Promise<CredentialsCheck> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<CredentialsCheck>(resolve => {
    timer = setTimeout(resolve, timeoutMs, { status: 'unchecked' }).unref()
  })
  const check = async (): Promise<CredentialsCheck> => {
    const preference = client.config.authSchemePreference
    const schemes = typeof preference === 'function' ? await preference() : preference
    if (schemes?.[0] === 'httpBearerAuth') return { status: 'ok', source: 'bearer token' }
    try {
      await client.config.credentials()
      return { status: 'ok', source: 'aws credentials' }
    } catch (error) {
      return { status: 'missing', error }
    }
  }
  try {
    return await Promise.race([check(), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** The latest answer, from the start-up check or from the calls since. */
export class CredentialsState {
  status: CredentialsStatus = 'unchecked'

  /** A finished call tells more than the start-up check: credentials can appear (a role attached) or expire. */
  record (summary: StreamSummary): void {
    if (summary.errorCode === 'upstream_credentials') this.status = 'missing'
    else if (summary.outcome === 'completed') this.status = 'ok'
  }
}
