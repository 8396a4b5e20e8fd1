// The upstream event stream, decoded synchronously (issue 10).
//
// The SDK decodes a ConverseStream response through six stacked async iterators (the
// body's, a frame splitter, a decoder, an unmarshaller, a schema reader, a wrapper): a
// few promises and generator resumptions per token, about half of the proxy's CPU per
// relayed token, and a chain of generator objects for every waiting stream. This module
// is the client's event-stream marshaller instead (`eventStreamSerdeProvider`): it
// splits and decodes frames with the SDK's own codec (CRCs checked), as the body's
// chunks arrive, and hands the relay its events in a plain synchronous callback.
//
// The SDK's semantics stay: the SDK still pulls the FIRST event through this object's
// async iterator and its own unmarshaller, so `send()` resolves after the first frame
// and a throttling exception in it is retried as before (FIELD-NOTES 3); every
// exception frame, first or later, is thrown as the SDK's own class, built by the SDK's
// unmarshaller. Later events skip the SDK's schema reader: their JSON body already has
// the Converse shape (blobs stay base64, which the relay sends as base64 anyway), and
// unknown members pass through instead of being dropped.
import type { Readable } from 'node:stream'
import type { BedrockRuntimeClient, ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime'
import { EventStreamMarshaller as SdkMarshaller, getMessageUnmarshaller } from '@smithy/core/event-streams'
import { EventStreamCodec } from '@smithy/eventstream-codec'
import type { Decoder, Encoder, EventStreamMarshaller, Message } from '@smithy/types'
import { toUtf8 } from '@smithy/util-utf8'

type Unmarshal = (message: Message) => Promise<unknown>

/** What the relay does with the stream once the SDK has given it back. */
export interface UpstreamSink {
  /** One upstream event, synchronously, in order. */
  onEvent: (event: ConverseStreamOutput) => void
  /** After each chunk's events: a promise to wait on before reading more (backpressure), or undefined. */
  afterChunk: () => Promise<void> | undefined
  /** The stream's cancellation: settles the relay at once when it aborts. */
  signal: AbortSignal
}

// Frames decoded but not yet pulled before the body is paused (the SDK pulls one).
const PULL_QUEUE_MAX = 64

/**
 * One ConverseStream response body. An AsyncIterable for the SDK (and any generic
 * reader); `relay()` is the relay's fast path.
 */
export class UpstreamEventStream implements AsyncIterable<ConverseStreamOutput> {
  readonly #body: Readable
  readonly #codec: EventStreamCodec
  readonly #unmarshal: Unmarshal
  // Bytes of a frame whose rest has not arrived yet.
  #partial: Buffer | undefined
  // Frames decoded and not yet consumed (pull mode, or before relay() takes over).
  readonly #queue: Message[] = []
  // The last event handed out by the async iterator: the SDK keeps the first one in its
  // wrapper, which adopt() drops, so it is given again.
  #handedOut: ConverseStreamOutput | undefined
  #redeliver = false
  #listening = false
  #ended = false
  #failure: unknown
  #wake: (() => void) | undefined
  #sink: UpstreamSink | undefined
  #settle: ((err?: unknown) => void) | undefined

  constructor (body: Readable, codec: EventStreamCodec, unmarshal: Unmarshal) {
    this.#body = body
    this.#codec = codec
    this.#unmarshal = unmarshal
  }

  /**
   * Called once `send()` has returned, in place of the SDK's wrapper around this stream:
   * the event the SDK pulled (the first) will be delivered again. False when what the
   * SDK pulled is not a stream event (an initial response), so the wrapper must stay.
   */
  adopt (): boolean {
    const held = this.#handedOut
    if (held !== undefined && Object.getOwnPropertySymbols(held).length > 0) return false
    this.#redeliver = held !== undefined
    return true
  }

  [Symbol.asyncIterator] (): AsyncIterator<ConverseStreamOutput> {
    return {
      next: async () => await this.#pull(),
      return: async () => {
        this.#close()
        return { done: true, value: undefined }
      },
    }
  }

  /**
   * The fast path: every remaining event to `sink.onEvent`, synchronously as chunks
   * arrive. Resolves when the body ends; rejects with the SDK's exception, a decoding
   * error or the body's error. A body that closes without ending resolves too: the
   * relay's completeness check reports it (silent truncation on HTTP/2, FIELD-NOTES 4).
   */
  async relay (sink: UpstreamSink): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      let settled = false
      const onAbort = (): void => this.#settle?.(sink.signal.reason)
      this.#settle = (err?: unknown) => {
        if (settled) return
        settled = true
        this.#sink = undefined
        sink.signal.removeEventListener('abort', onAbort)
        if (err === undefined) resolve()
        else { this.#close(); reject(err) }
      }
      if (sink.signal.aborted) { onAbort(); return }
      sink.signal.addEventListener('abort', onAbort)
      this.#sink = sink
      if (this.#redeliver && this.#handedOut !== undefined) {
        this.#redeliver = false
        sink.onEvent(this.#handedOut)
      }
      this.#handedOut = undefined
      // Frames that arrived while the SDK was pulling the first one.
      this.#dispatch(this.#queue.splice(0))
      if (this.#sink === undefined) return // settled, or an exception frame is being built
      if (this.#failure !== undefined) this.#settle(this.#failure)
      else if (this.#ended) this.#settle()
      else {
        this.#listen()
        if (this.#body.isPaused()) this.#body.resume()
      }
    })
  }

  async #pull (): Promise<IteratorResult<ConverseStreamOutput>> {
    if (this.#redeliver && this.#handedOut !== undefined) {
      this.#redeliver = false
      return { done: false, value: this.#handedOut }
    }
    this.#listen()
    while (true) {
      const message = this.#queue.shift()
      if (message !== undefined) {
        if (this.#queue.length < PULL_QUEUE_MAX && this.#body.isPaused() && !this.#ended) this.#body.resume()
        let event: ConverseStreamOutput | undefined
        try {
          event = await this.#unmarshal(message) as ConverseStreamOutput | undefined
        } catch (err) {
          this.#close() // an exception frame: the SDK throws its class, and the stream is over
          throw err
        }
        if (event === undefined) continue // a member this SDK does not know: it skips those
        this.#handedOut = event
        return { done: false, value: event }
      }
      if (this.#failure !== undefined) throw this.#failure
      if (this.#ended) return { done: true, value: undefined }
      await new Promise<void>(resolve => { this.#wake = resolve })
    }
  }

  #listen (): void {
    if (this.#listening) return
    this.#listening = true
    this.#body.on('data', this.#onData)
    this.#body.once('end', this.#onEnd)
    this.#body.once('error', this.#onError)
    this.#body.once('close', this.#onEnd)
  }

  readonly #onData = (chunk: Buffer): void => {
    const messages = this.#split(chunk)
    const sink = this.#sink
    if (sink === undefined) {
      if (messages !== undefined) this.#queue.push(...messages)
      if (this.#queue.length >= PULL_QUEUE_MAX) this.#body.pause()
    } else if (messages !== undefined) {
      this.#dispatch(messages)
    }
    if (this.#failure !== undefined) {
      this.#fail(this.#failure)
      return
    }
    if (sink === undefined) {
      this.#wakeUp()
      return
    }
    const room = this.#sink === undefined ? undefined : sink.afterChunk()
    if (room !== undefined) {
      this.#body.pause()
      room.then(() => { if (this.#sink !== undefined) this.#body.resume() }, (err: unknown) => this.#settle?.(err))
    }
  }

  /**
   * Complete frames in `chunk` (with what came before it), decoded; undefined for none.
   * A corrupt frame sets the failure, after the good frames before it.
   */
  #split (chunk: Buffer): Message[] | undefined {
    const bytes = this.#partial === undefined ? chunk : Buffer.concat([this.#partial, chunk])
    this.#partial = undefined
    let messages: Message[] | undefined
    let offset = 0
    try {
      while (bytes.length - offset >= 4) {
        const length = bytes.readUInt32BE(offset)
        if (bytes.length - offset < length) break
        // decode checks both CRCs and the lengths, and throws on a corrupt frame.
        ;(messages ??= []).push(this.#codec.decode(bytes.subarray(offset, offset + length)))
        offset += length
      }
    } catch (err) {
      this.#failure ??= err
      this.#stopListening()
      return messages
    }
    // Copied: a view would pin the whole chunk (up to 64 KiB) for a few bytes.
    if (offset < bytes.length) this.#partial = Buffer.from(bytes.subarray(offset))
    return messages
  }

  #dispatch (messages: Message[]): void {
    for (const message of messages) {
      const sink = this.#sink
      if (sink === undefined) return
      let event: ConverseStreamOutput | undefined
      try {
        event = eventOf(message)
      } catch (err) {
        this.#fail(err)
        return
      }
      if (event !== undefined) {
        sink.onEvent(event)
      } else {
        // An exception (or an unknown message type): the SDK builds the error it would
        // have thrown, with its own class; nothing after it is relayed.
        const settle = this.#settle
        this.#settle = undefined // only the exception settles now, not the body's end
        this.#sink = undefined
        this.#body.pause()
        this.#unmarshal(message).then(
          () => settle?.(new Error(`unexpected event-stream message type ${String(message.headers[':message-type']?.value)}`)),
          (err: unknown) => settle?.(err))
        return
      }
    }
  }

  readonly #onEnd = (): void => {
    if (this.#ended) return
    this.#ended = true
    if (this.#partial !== undefined && this.#failure === undefined) {
      this.#failure = new Error('Truncated event message received.')
    }
    this.#stopListening()
    if (this.#failure !== undefined) this.#settle?.(this.#failure)
    else this.#settle?.()
    this.#wakeUp()
  }

  readonly #onError = (err: unknown): void => this.#fail(err)

  #fail (err: unknown): void {
    this.#failure ??= err
    this.#settle?.(this.#failure)
    this.#wakeUp()
  }

  #wakeUp (): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  #stopListening (): void {
    this.#body.off('data', this.#onData)
    this.#body.off('end', this.#onEnd)
    this.#body.off('close', this.#onEnd)
    // An error after the end must not crash the process: keep a listener that ignores it.
    this.#body.off('error', this.#onError)
    this.#body.on('error', ignore)
  }

  /** Stops reading: the body is destroyed unless it already ended (its socket is not reusable mid-response). */
  #close (): void {
    this.#sink = undefined
    if (!this.#ended) {
      this.#ended = true
      this.#stopListening()
      this.#body.destroy()
    }
    this.#queue.length = 0
    this.#wakeUp()
  }
}

function ignore (): void {}

/**
 * An event frame as the member of the ConverseStream union it carries, `{ [event type]:
 * its JSON body }` (the body already has the Converse shape: blobs stay base64, unknown
 * members pass through); undefined for any other frame (an exception). Throws on a body
 * that is not JSON.
 */
export function eventOf (message: Message): ConverseStreamOutput | undefined {
  const eventType = message.headers[':event-type']?.value
  if (message.headers[':message-type']?.value !== 'event' || typeof eventType !== 'string') return undefined
  const payload: unknown = message.body.byteLength === 0 ? {} : JSON.parse(toUtf8(message.body))
  return { [eventType]: payload } as unknown as ConverseStreamOutput
}

// Body -> its stream, for exposeUpstreamStreams (which sees the body, not the stream).
const streams = new WeakMap<object, UpstreamEventStream>()

interface SerdeOptions { utf8Encoder: Encoder, utf8Decoder: Decoder }

/**
 * The client's event-stream marshaller: response streams with a Node body become an
 * UpstreamEventStream; anything else (and every request stream) goes the SDK's way.
 */
export function eventStreamSerdeProvider (options: SerdeOptions): EventStreamMarshaller<unknown> {
  const sdk = new SdkMarshaller(options)
  const codec = new EventStreamCodec(options.utf8Encoder, options.utf8Decoder)
  return {
    deserialize<T> (body: unknown, deserializer: (input: Record<string, Message>) => Promise<T>): AsyncIterable<T> {
      if (!isNodeReadable(body)) return sdk.deserialize(body as Readable, deserializer as (input: Record<string, Message>) => Promise<Record<string, unknown>>) as AsyncIterable<T>
      const stream = new UpstreamEventStream(body, codec, getMessageUnmarshaller(deserializer as (input: Record<string, Message>) => Promise<Record<string, unknown>>, options.utf8Encoder))
      streams.set(body, stream)
      // The SDK reads it as its union type; it holds exactly that (ConverseStreamOutput).
      return stream as unknown as AsyncIterable<T>
    },
    serialize: <T>(input: AsyncIterable<T>, serializer: (event: T) => Message) => sdk.serialize(input, serializer),
  }
}

function isNodeReadable (body: unknown): body is Readable {
  return body !== null && typeof body === 'object' && typeof (body as Readable).on === 'function' && typeof (body as Readable).pause === 'function'
}

/**
 * Puts the UpstreamEventStream itself in the command's output, in place of the SDK's
 * wrapper generator around it (the wrapper is one more async layer per event), so the
 * relay can take the fast path. Runs per attempt, inside the SDK's retries.
 */
export function exposeUpstreamStreams (client: BedrockRuntimeClient): void {
  client.middlewareStack.add((next) => async (args) => {
    const result = await next(args)
    const output = result.output as { stream?: unknown }
    const body = (result.response as { body?: unknown } | undefined)?.body
    const stream = body !== null && typeof body === 'object' ? streams.get(body) : undefined
    if (stream !== undefined && output.stream !== stream && stream.adopt()) output.stream = stream
    return result
  }, { step: 'deserialize', priority: 'high', name: 'exposeUpstreamStream' })
}
