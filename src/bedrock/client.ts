// The Bedrock Runtime client. Credentials come from the SDK's default chain (env keys,
// profile, SSO, container and instance roles, AWS_BEARER_TOKEN_BEDROCK) and never
// leave this process.
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'

export interface BedrockClientOptions {
  region: string | undefined
  endpoint: string | undefined
}

export function createBedrockClient (opts: BedrockClientOptions): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    // undefined lets the SDK read the profile's region (AWS_PROFILE, ~/.aws/config).
    ...(opts.region !== undefined ? { region: opts.region } : {}),
    ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint } : {}),
  })
}

/** The region the client will sign for, or undefined when no source has one. */
export async function resolveRegion (client: BedrockRuntimeClient): Promise<string | undefined> {
  try {
    const region = await client.config.region()
    return region === '' ? undefined : region
  } catch {
    return undefined
  }
}
