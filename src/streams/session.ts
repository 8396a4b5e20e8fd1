// One stream produced by this instance, and its one owner: the upstream call's
// cancellation (one AbortController), the replay buffer, the readers attached to it, the
// Redis mirror, and every event the client sees, terminal ones included (the relay emits
// them through `emit`, in order). Readers are SSE responses (sse/sink.ts) that the session
// writes each frame to, encoded once; the upstream call waits only when a reader is a
// whole window behind (backpressure). The hub (hub.ts) keeps the sessions and decides
// what happens when the last reader leaves (the resume grace period).
import type { RelayEvent } from '../events.js'
import { nativeFraming, type FramingFactory } from '../sse/framing.js'
import { SseSink } from '../sse/sink.js'
import type { StreamMirror } from './mirror.js'
import { ReplayBuffer } from './replay-buffer.js'

export interface SessionOptions {
  streamId: string
  model: string
  /** The authenticated principal that started it; undefined for anonymous streams. */
  owner: string | undefined
  /** Replay buffer bound; 0 for a stream nobody can resume (its events are not kept). */
  maxBytes: number
  mirror: StreamMirror | undefined
  /** How events are written for this stream's readers (default: the native event stream). */
  framing?: FramingFactory
}

export class StreamSession {
  readonly streamId: string
  readonly model: string
  readonly owner: string | undefined
  readonly controller = new AbortController()
  readonly mirror: StreamMirror | undefined
  readonly #buffer: ReplayBuffer
  readonly #sinks = new Set<SseSink>()
  #ended = false
  #onReadersChange: ((count: number) => void) | undefined
  #output: RelayEvent | undefined
  #onOutput: ((event: RelayEvent) => void) | undefined

  constructor (opts: SessionOptions) {
    this.streamId = opts.streamId
    this.model = opts.model
    this.owner = opts.owner
    this.mirror = opts.mirror
    this.#buffer = new ReplayBuffer(opts.streamId, opts.maxBytes, (opts.framing ?? nativeFraming)(opts))
  }

  get ended (): boolean { return this.#ended }
  get lastSeq (): number { return this.#buffer.lastSeq }
  get resumable (): boolean { return this.#buffer.resumable }
  get readerCount (): number { return this.#sinks.size }
  /** Bytes its replay buffer holds (see ReplayBuffer.heldBytes). */
  get heldBytes (): number { return this.#buffer.heldBytes }

  onReadersChange (fn: (count: number) => void): void { this.#onReadersChange = fn }

  /** True when a reader resuming after `afterSeq` can get every later event. */
  canReplayFrom (afterSeq: number): boolean { return this.#buffer.canReplayFrom(afterSeq) }

  /** The relay's `emit`: buffer, mirror, and push to every reader. The hot path. */
  readonly emit = (event: RelayEvent): void => {
    const entry = this.#buffer.append(event)
    this.mirror?.append(entry, this.#buffer.resumable)
    if (entry.frame.length > 0) for (const sink of this.#sinks) sink.send(entry.frame)
    if (this.#output === undefined && event.type !== 'start') {
      this.#output = event
      this.#onOutput?.(event)
    }
    if (event.type === 'done') {
      this.#ended = true
      for (const sink of this.#sinks) sink.finish()
      this.mirror?.finish(this)
    }
  }

  /**
   * The first event after `start`: the first content, or the error that ended the call
   * before any. A surface whose clients expect an HTTP status for a refused call (OpenAI's)
   * waits on it before committing to 200.
   */
  async firstOutput (): Promise<RelayEvent> {
    if (this.#output !== undefined) return this.#output
    return await new Promise(resolve => { this.#onOutput = resolve })
  }

  /** The relay's backpressure check: undefined unless a reader is a window behind. */
  readonly waitForRoom = (): Promise<void> | undefined => {
    for (const sink of this.#sinks) if (sink.full) return this.#room()
    return undefined
  }

  /**
   * A reader: the events after `afterSeq` from the buffer, then live until `done`. It
   * counts as attached at once, so the grace clock knows someone is there.
   */
  attach (afterSeq: number, heartbeatMs: number, onPing?: () => void): SseSink {
    const sink = new SseSink(heartbeatMs, onPing)
    for (const frame of this.#buffer.framesAfter(afterSeq)) sink.send(frame)
    if (this.#ended) {
      sink.finish()
      return sink
    }
    this.#sinks.add(sink)
    sink.onClose(() => {
      if (this.#sinks.delete(sink) && !this.#ended) this.#onReadersChange?.(this.#sinks.size)
    })
    this.#onReadersChange?.(this.#sinks.size)
    return sink
  }

  /** Waits while any reader is a window behind; a reader that leaves, or an abort, ends the wait. */
  async #room (): Promise<void> {
    const { signal } = this.controller
    while (!signal.aborted) {
      let lagging: SseSink | undefined
      for (const sink of this.#sinks) if (sink.full) { lagging = sink; break }
      if (lagging === undefined) return
      await new Promise<void>(resolve => {
        const onAbort = (): void => resolve()
        signal.addEventListener('abort', onAbort, { once: true })
        lagging.room().then(() => { signal.removeEventListener('abort', onAbort); resolve() }, resolve)
      })
    }
  }
}
