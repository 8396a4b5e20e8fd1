// Public types of the emulator: the request log and the handle tests script it through.
import type { Scenario } from './scenario.js'

export type Operation = 'converse-stream' | 'converse'

export interface EmulatorRequest {
  /** 1-based, in arrival order (restarts at 1 after reset()). */
  id: number
  operation: Operation
  /** Decoded from the path (ARNs and `:` arrive percent-encoded). */
  modelId: string
  protocol: 'h2' | 'http/1.1'
  /** The connection it came on, numbered from 1 in order of first use (a client's reuse shows here). */
  connection: number
  /** The parsed JSON body: the Converse input the SDK sent (messages, system, inferenceConfig ...). */
  body: unknown
  /**
   * completed: the emulator wrote everything and ended (an exception step included);
   * aborted: the client went away first; reset: a reset step ran; error: an HTTP error was answered.
   */
  outcome: 'pending' | 'completed' | 'aborted' | 'reset' | 'error'
  /** Event-stream frames written so far (backpressure tests watch it stop). */
  readonly frames: number
  startedAt: number
  endedAt?: number
}

export type Outcome = EmulatorRequest['outcome']

export interface ResponderInput {
  id: number
  operation: Operation
  modelId: string
  // The Converse input as sent by an arbitrary client: responders pick what they need from it.
  body: any
  /** This emulator's prompt cache (prefix hashes), for cache write/read token counts. */
  promptCache?: Set<string>
}

/** Picks the scenario for a request when the queue is empty. */
export type Responder = (req: ResponderInput) => Scenario | Promise<Scenario>

/** The subset of a pino logger the emulator uses. */
export interface EmulatorLogger {
  info (obj: object, msg?: string): void
  warn (obj: object, msg?: string): void
}

export interface EmulatorOptions {
  /** 0 = a random free port (default 0). */
  port?: number
  /** Default 127.0.0.1. */
  host?: string
  /** Delay before each event frame unless the scenario sets its own (default 20 ms, demo pacing). */
  frameDelayMs?: number
  /** Default: the demo responder (answers the last user message, slash commands pick faults). */
  responder?: Responder
  logger?: EmulatorLogger
  /** Refuse what Bedrock would refuse (validate.ts) with HTTP 400 ValidationException before any scenario plays (default true). */
  validate?: boolean
  /** Streams one HTTP/2 connection may carry at once, as an endpoint advertises it (SETTINGS_MAX_CONCURRENT_STREAMS); Node's default (unbounded) when unset. */
  h2MaxConcurrentStreams?: number
  /**
   * Check every model call's SigV4 signature against these keys (access key id -> secret
   * access key), as Bedrock does: refused with HTTP 403 (UnrecognizedClientException,
   * InvalidSignatureException, MissingAuthenticationTokenException) before any scenario
   * plays. Unset (the default): any signature, or none, is accepted.
   */
  credentials?: Readonly<Record<string, string>>
}

export interface Emulator {
  /** e.g. http://127.0.0.1:4010, for the client's `endpoint` or AWS_ENDPOINT_URL_BEDROCK_RUNTIME. */
  url: string
  port: number
  readonly requests: EmulatorRequest[]
  /** FIFO, one scenario per next incoming model request; when empty the responder answers. Throws for a malformed scenario. */
  enqueue (...scenarios: Scenario[]): void
  setResponder (fn: Responder): void
  /** Resolves with the log once it holds `count` requests; rejects after `timeoutMs` (default 5000). */
  waitForRequests (count: number, timeoutMs?: number): Promise<EmulatorRequest[]>
  /** Resolves when request `id` leaves 'pending'; rejects after `timeoutMs` (default 5000). */
  waitForOutcome (id: number, timeoutMs?: number): Promise<Outcome>
  /** Clears the queue and the request log. */
  reset (): void
  /** Destroys every open connection, then stops listening; never waits for clients. */
  close (): Promise<void>
}
