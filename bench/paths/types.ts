// What a path under test is: how to start its server, and how a client opens one stream
// through it and finds the stamped tokens in its wire format.

export type PathId = 'obvious-relay' | 'sdk-direct' | 'proxy' | 'portkey' | 'ai-sdk' | 'proxy-openai' | 'proxy-ui-chat' | 'proxy-http1'

export interface LaunchContext {
  emulatorUrl: string
  port: number
  /** Extra environment for this run (the proxy's feature variants). */
  env: Record<string, string>
}

export interface ServerCommand {
  command: string
  args: string[]
  env: Record<string, string>
}

export interface Target {
  /** Base URL of the server under test; for sdk-direct, the emulator's. */
  url: string
  emulatorUrl: string
  /** Sent as `Authorization: Bearer` (the proxy's auth variant). */
  apiKey?: string | undefined
}

/** Told as a stream goes; times are the stamp clock's ms (stampClockMs). */
export interface StreamObserver {
  /** The first bytes of the response body (the SDK: its first event). */
  firstByte: (at: number) => void
  /** Stamps found in what arrived at `at` (one token each). */
  tokens: (stamps: number[], at: number) => void
}

/** ok: the path's own end marker arrived and no error did. */
export type StreamOutcome = { ok: true } | { ok: false, error: string }

export interface PathSpec {
  id: PathId
  label: string
  /** The server process; none when the load client calls Bedrock itself (sdk-direct). */
  server?: (ctx: LaunchContext) => ServerCommand
  openStream: (target: Target, prompt: string, observer: StreamObserver, signal: AbortSignal) => Promise<StreamOutcome>
}

/** Environment every Node server under test gets: fake credentials, the emulator as Bedrock. */
export function nodeEnv (ctx: LaunchContext): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    EMULATOR_URL: ctx.emulatorUrl,
    PORT: String(ctx.port),
    NODE_ENV: 'production',
    ...ctx.env,
  }
}

export const MODEL_ID = 'bench.model-v1:0'
