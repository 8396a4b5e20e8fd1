// Opens one ConverseStream call (issue 10). The SDK's per-call pipeline (a middleware
// stack resolved per call, the request serialised by walking the operation's schema,
// endpoint and auth scheme resolved again, copies of the whole client config) was the
// largest block of the proxy's CPU per stream: 0.4 to 1.4 ms a call in the benchmark
// (BEDROCK_CALLS=sdk against this), as much as relaying 15 to 50 tokens.
// None of it can change between two calls of one client, so this module asks the SDK
// once, per client, what it would do (the endpoint from its rules, its SigV4 signer
// and credential chain, its retry strategy, its HTTP handler) and then does only the
// per-call part: the JSON body, the signature, the request, the retries.
//
// What the SDK guarantees still holds, with its own parts: the body is the Converse
// JSON the SDK sends (blobs as base64), signed by the SDK's SignatureV4 with the SDK's
// credentials; retries follow the SDK's retry strategy and error classification
// (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE), a throttling exception in the first frame
// included, since the call resolves only once the first frame has arrived (FIELD-NOTES
// 3); failures are the SDK's own exception classes with `$metadata`. A client that signs
// with a Bedrock API key (bearer auth) goes the SDK's whole way (`client.send`).
import type { Readable } from 'node:stream'
import {
  AccessDeniedException, BedrockRuntimeServiceException, ConverseStreamCommand, InternalServerException,
  ModelErrorException, ModelNotReadyException, ModelStreamErrorException, ModelTimeoutException,
  ResourceNotFoundException, ServiceQuotaExceededException, ServiceUnavailableException, ThrottlingException,
  ValidationException, type BedrockRuntimeClient, type ConverseStreamCommandInput, type ConverseStreamOutput,
} from '@aws-sdk/client-bedrock-runtime'
import { getEndpointFromInstructions } from '@smithy/core/endpoints'
import { extendedEncodeURIComponent, HttpRequest, type HttpResponse } from '@smithy/core/protocols'
import { getRetryAfterHint, isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry'
import { EventStreamCodec } from '@smithy/eventstream-codec'
import type { Message, ResponseMetadata, RetryErrorInfo, RetryErrorType, RetryToken, RetryStrategyV2 } from '@smithy/types'
import { fromUtf8, toUtf8 } from '@smithy/util-utf8'
import { UpstreamEventStream, eventOf } from './upstream-stream.js'

export type ConverseStreamInput = ConverseStreamCommandInput & { modelId: string }

/** An open call: its event stream, past the first frame. */
export interface OpenedCall {
  stream: UpstreamEventStream | AsyncIterable<ConverseStreamOutput>
  /** HTTP attempts made, retries included. */
  attempts?: number
}

interface Signer {
  sign: (request: HttpRequest, options: { signingDate: Date, signingRegion: string, signingService: string }) => Promise<unknown>
}

/** What the SDK would resolve for every call of one client: asked once. */
interface CallSetup {
  url: URL
  /** Headers the endpoint rules add (none for Bedrock's public endpoints). */
  endpointHeaders: Record<string, string>
  signer: Signer
  signingRegion: string
  signingService: string
  retryStrategy: RetryStrategyV2
  maxAttempts: number
  userAgent: string | undefined
}

/** The slice of the SDK's resolved client config this module reads. */
interface ResolvedConfig {
  region: () => Promise<string>
  authSchemePreference?: () => Promise<string[]>
  signer?: (authScheme?: unknown) => Promise<Signer>
  retryStrategy: () => Promise<unknown>
  maxAttempts: () => Promise<number>
  requestHandler: { handle: (request: HttpRequest, options: { abortSignal: AbortSignal, isEventStream: boolean }) => Promise<{ response: HttpResponse }> }
  defaultUserAgentProvider?: () => Promise<Array<[string, string?]>>
  systemClockOffset?: number
}

const SIGNING_SERVICE = 'bedrock'
const codec = new EventStreamCodec(toUtf8, fromUtf8)
// Clients made by createBedrockClient (BEDROCK_CALLS=direct). Any other client (a plugin
// user's own, with middleware of theirs) goes the SDK's way.
const direct = new WeakSet<BedrockRuntimeClient>()
// One setup per client; undefined: this client goes the SDK's way.
const setups = new WeakMap<BedrockRuntimeClient, Promise<CallSetup | undefined>>()

/** This client's ConverseStream calls skip the SDK's per-call pipeline. */
export function callDirectly (client: BedrockRuntimeClient): void {
  direct.add(client)
}

/**
 * Opens the call and waits for its first frame (a throttled first frame is retried).
 * Rejects with the SDK's exception, a socket error, or the signal's abort.
 */
export async function openConverseStream (client: BedrockRuntimeClient, input: ConverseStreamInput, signal: AbortSignal): Promise<OpenedCall> {
  let setup = direct.has(client) ? setups.get(client) : Promise.resolve(undefined)
  if (setup === undefined) {
    setup = resolveSetup(client)
    setups.set(client, setup)
    // Not kept when it fails (no region, no endpoint yet): the next call asks again.
    setup.catch(() => setups.delete(client))
  }
  const resolved = await setup
  if (resolved === undefined) {
    const response = await client.send(new ConverseStreamCommand(input), { abortSignal: signal })
    return { stream: response.stream ?? emptyStream(), attempts: response.$metadata.attempts }
  }
  return await callWithRetries(client, resolved, input, signal)
}

async function resolveSetup (client: BedrockRuntimeClient): Promise<CallSetup | undefined> {
  const config = client.config as unknown as ResolvedConfig
  // A Bedrock API key (AWS_BEARER_TOKEN_BEDROCK) puts bearer auth first: the SDK's way.
  const preference = await config.authSchemePreference?.()
  if (preference?.[0] === 'httpBearerAuth' || typeof config.signer !== 'function') return undefined
  const retryStrategy = await config.retryStrategy() as Partial<RetryStrategyV2>
  if (typeof retryStrategy.acquireInitialRetryToken !== 'function' || typeof retryStrategy.refreshRetryTokenForRetry !== 'function' || typeof retryStrategy.recordSuccess !== 'function') return undefined
  // ConverseStream has no endpoint parameters of its own: the endpoint is the client's.
  const endpoint = await getEndpointFromInstructions({}, ConverseStreamCommand as never, { ...client.config } as never)
  const scheme = (endpoint.properties?.authSchemes as Array<{ name?: string, signingName?: string, signingRegion?: string }> | undefined)?.[0]
  if (scheme !== undefined && scheme.name !== 'sigv4') return undefined
  const region = await config.region()
  const userAgent = await config.defaultUserAgentProvider?.().then(formatUserAgent, () => undefined)
  return {
    url: new URL(endpoint.url.href),
    endpointHeaders: Object.fromEntries(Object.entries(endpoint.headers ?? {}).map(([name, values]) => [name, values.join(',')])),
    signer: await config.signer(),
    signingRegion: scheme?.signingRegion ?? region,
    signingService: scheme?.signingName ?? SIGNING_SERVICE,
    retryStrategy: retryStrategy as RetryStrategyV2,
    maxAttempts: await config.maxAttempts(),
    userAgent,
  }
}

/** The SDK's retry loop (its standard and adaptive strategies), around one attempt. */
async function callWithRetries (client: BedrockRuntimeClient, setup: CallSetup, input: ConverseStreamInput, signal: AbortSignal): Promise<OpenedCall> {
  const strategy = setup.retryStrategy
  let token: RetryToken = await strategy.acquireInitialRetryToken('')
  let attempts = 0
  let totalRetryDelay = 0
  const body = JSON.stringify(bodyOf(input), blobsAsBase64)
  while (true) {
    try {
      const stream = await attempt(client, setup, input.modelId, body, attempts + 1, signal)
      strategy.recordSuccess(token)
      return { stream, attempts: attempts + 1 }
    } catch (err) {
      if (signal.aborted) throw err
      try {
        token = await strategy.refreshRetryTokenForRetry(token, retryInfo(err))
      } catch {
        throw withAttempts(err, attempts + 1, totalRetryDelay)
      }
      attempts = token.getRetryCount()
      const delay = token.getRetryDelay()
      totalRetryDelay += delay
      if (delay > 0) await sleep(delay, signal)
    }
  }
}

async function attempt (client: BedrockRuntimeClient, setup: CallSetup, modelId: string, body: string, attemptNumber: number, signal: AbortSignal): Promise<UpstreamEventStream> {
  const config = client.config as unknown as ResolvedConfig
  const { url } = setup
  const request = new HttpRequest({
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port !== '' ? { port: Number(url.port) } : {}),
    method: 'POST',
    path: `${url.pathname.replace(/\/$/, '')}/model/${extendedEncodeURIComponent(modelId)}/converse-stream`,
    headers: {
      ...setup.endpointHeaders,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      host: url.host,
      ...(setup.userAgent !== undefined ? { 'user-agent': setup.userAgent, 'x-amz-user-agent': setup.userAgent } : {}),
      'amz-sdk-request': `attempt=${attemptNumber}; max=${setup.maxAttempts}`,
    },
    body,
  })
  const signed = await setup.signer.sign(request, {
    signingDate: new Date(Date.now() + (config.systemClockOffset ?? 0)),
    signingRegion: setup.signingRegion,
    signingService: setup.signingService,
  }) as HttpRequest
  const { response } = await config.requestHandler.handle(signed, { abortSignal: signal, isEventStream: true })
  const skewCorrected = correctClockSkew(config, response)
  const metadata: ResponseMetadata & { clockSkewCorrected?: true } = metadataOf(response)
  if (response.statusCode >= 300) {
    // Marked as the SDK marks it: its retry strategy then retries with the corrected clock.
    if (skewCorrected) metadata.clockSkewCorrected = true
    throw await errorOf(response, metadata)
  }
  const stream = new UpstreamEventStream(response.body as Readable, codec, async message => unmarshal(message, metadata))
  // The first frame before the call counts as open, as the SDK's send() does: an
  // exception in it (throttling) is thrown here, where it can still be retried.
  await stream[Symbol.asyncIterator]().next()
  stream.adopt()
  return stream
}

/** The request's JSON body: everything but the model id, which is in the path. */
function bodyOf (input: ConverseStreamInput): Omit<ConverseStreamInput, 'modelId'> {
  const { modelId: _inPath, ...rest } = input
  return rest
}

/** JSON.stringify replacer: blobs (images, documents) as base64, as the SDK writes them. */
function blobsAsBase64 (this: Record<string, unknown>, key: string, value: unknown): unknown {
  // `this[key]` is the value before toJSON (a Buffer's toJSON is an array of numbers).
  const original = this[key]
  if (original instanceof Uint8Array) return Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64')
  return value
}

/** An event frame as the Converse union; an exception frame thrown as the SDK's class. */
function unmarshal (message: Message, metadata: ResponseMetadata): ConverseStreamOutput {
  const event = eventOf(message)
  if (event !== undefined) return event
  const type = message.headers[':message-type']?.value
  if (type === 'exception') {
    const raw = String(message.headers[':exception-type']?.value ?? 'UnknownError')
    throw exceptionOf(raw.charAt(0).toUpperCase() + raw.slice(1), parseJson(toUtf8(message.body)), metadata)
  }
  const error = new Error(String(message.headers[':error-message']?.value ?? `unexpected event-stream message type ${String(type)}`))
  error.name = String(message.headers[':error-code']?.value ?? 'UnknownError')
  throw error
}

type ExceptionClass = new (opts: { message: string, $metadata: ResponseMetadata } & Record<string, unknown>) => BedrockRuntimeServiceException

// The errors ConverseStream declares, by name, as the SDK builds them.
const EXCEPTIONS: Record<string, ExceptionClass> = {
  AccessDeniedException,
  InternalServerException,
  ModelErrorException,
  ModelNotReadyException,
  ModelStreamErrorException,
  ModelTimeoutException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
} as unknown as Record<string, ExceptionClass>

function exceptionOf (name: string, body: Record<string, unknown>, metadata: ResponseMetadata, response?: HttpResponse): BedrockRuntimeServiceException {
  const message = typeof body.message === 'string' ? body.message : typeof body.Message === 'string' ? body.Message : 'UnknownError'
  const Known = EXCEPTIONS[name]
  const error = Known !== undefined
    ? new Known({ ...body, message, $metadata: metadata })
    : new BedrockRuntimeServiceException({ name, $fault: (metadata.httpStatusCode ?? 0) >= 500 ? 'server' : 'client', message, $metadata: metadata })
  // The response rides along, as the SDK's: its retry-after header is read from there.
  if (response !== undefined) Object.defineProperty(error, '$response', { value: response, enumerable: false })
  return error
}

/** An error response as the SDK reads a REST-JSON error: the type from x-amzn-errortype, else the body. */
async function errorOf (response: HttpResponse, metadata: ResponseMetadata): Promise<Error> {
  const body = parseJson(await readBody(response.body as Readable))
  const raw = headerOf(response, 'x-amzn-errortype') ?? (typeof body.code === 'string' ? body.code : undefined) ?? (typeof body.__type === 'string' ? body.__type : undefined)
  return exceptionOf(raw === undefined ? 'UnknownError' : sanitizeErrorCode(raw), body, metadata, response)
}

// "aws.protocols#ThrottlingException:http://internal..." -> "ThrottlingException", as the SDK does.
function sanitizeErrorCode (raw: string): string {
  let code = raw
  if (code.includes(':')) code = code.split(':')[0] ?? code
  if (code.includes('#')) code = code.split('#')[1] ?? code
  return code
}

// An error body is small; a body past this is not an AWS error document.
const ERROR_BODY_MAX_BYTES = 64 * 1024

async function readBody (body: Readable | undefined): Promise<string> {
  if (body === undefined) return ''
  const chunks: Buffer[] = []
  let bytes = 0
  try {
    for await (const chunk of body) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk as Buffer
      bytes += buffer.byteLength
      if (bytes > ERROR_BODY_MAX_BYTES) break
      chunks.push(buffer)
    }
  } catch {
    // A body cut short still leaves the status and headers to report.
  }
  body.destroy()
  return Buffer.concat(chunks).toString('utf8')
}

function parseJson (text: string): Record<string, unknown> {
  if (text === '') return {}
  try {
    const value: unknown = JSON.parse(text)
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : {}
  } catch {
    return {}
  }
}

function headerOf (response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name] ?? Object.entries(response.headers).find(([key]) => key.toLowerCase() === name)?.[1]
  return typeof value === 'string' ? value : undefined
}

function metadataOf (response: HttpResponse): ResponseMetadata {
  return {
    httpStatusCode: response.statusCode,
    requestId: headerOf(response, 'x-amzn-requestid') ?? headerOf(response, 'x-amzn-request-id') ?? headerOf(response, 'x-amz-request-id'),
    extendedRequestId: headerOf(response, 'x-amz-id-2'),
    cfId: headerOf(response, 'x-amz-cf-id'),
  }
}

/** The SDK's classification of a failed attempt, which its retry strategy decides on. */
function retryInfo (err: unknown): RetryErrorInfo {
  const error = (err !== null && typeof err === 'object' ? err : new Error(String(err))) as Error & { $response?: HttpResponse }
  const errorType: RetryErrorType = isThrottlingError(error as never)
    ? 'THROTTLING'
    : isTransientError(error as never) ? 'TRANSIENT' : isServerError(error as never) ? 'SERVER_ERROR' : 'CLIENT_ERROR'
  const retryAfterHint = getRetryAfterHint(error.$response)
  return { errorType, ...(retryAfterHint !== undefined ? { retryAfterHint } : {}) } as RetryErrorInfo
}

function withAttempts (err: unknown, attempts: number, totalRetryDelay: number): unknown {
  if (err === null || typeof err !== 'object') return err
  const withMetadata = err as { $metadata?: ResponseMetadata }
  withMetadata.$metadata = { ...withMetadata.$metadata, attempts, totalRetryDelay }
  return err
}

// A host clock more than five minutes off fails every signature (Bedrock answers 403):
// the SDK then signs with the server's time; so does this, from the response's Date.
const CLOCK_SKEW_MAX_MS = 5 * 60 * 1000

/** True when the offset changed. */
function correctClockSkew (config: ResolvedConfig, response: HttpResponse): boolean {
  const date = headerOf(response, 'date')
  if (date === undefined) return false
  const serverTime = Date.parse(date)
  if (Number.isNaN(serverTime)) return false
  const offset = config.systemClockOffset ?? 0
  if (Math.abs(serverTime - (Date.now() + offset)) < CLOCK_SKEW_MAX_MS) return false
  config.systemClockOffset = serverTime - Date.now()
  return true
}

function formatUserAgent (pairs: Array<[string, string?]>): string {
  return pairs.map(([name, version]) => version === undefined ? name : `${name}/${version}`).join(' ')
}

async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

async function * emptyStream (): AsyncGenerator<ConverseStreamOutput> {}
