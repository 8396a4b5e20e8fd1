// Redis Streams as the shared replay buffer, so a reconnect that a load balancer sends
// to another instance resumes there. Per stream:
//   bsp:s:{id}          hash   model, status (running|ended), lastSeq, resumable
//   bsp:s:{id}:events   stream one entry per relay event: id 0-{seq}, fields t (type), d (data JSON);
//                       readers on other instances XRANGE it and wait on one shared XREAD BLOCK
//   bsp:s:{id}:lease    string set by the producer every LEASE_REFRESH_MS; gone = producer died
//   bsp:s:{id}:readers  string set by remote readers while attached (keeps the grace period open)
//   bsp:a:{sha256}      string the stream id a client knows by another name (the AI SDK's
//                       chat id, scoped to its owner): the latest stream under that name
//   bsp:cancel          pub/sub channel: DELETE on any instance reaches the producer
// Writes are pipelined fire-and-forget in order; a Redis failure mid-stream never
// disturbs the live stream (it only loses resumability), see StreamMirror.
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import { sequenced, type RelayEvent, type RelayEventType, type SequencedEvent } from '../events.js'
import { ProxyError } from '../errors.js'
import { estimateFromEvents, lostEvents } from './lost.js'
import type { BufferedEvent } from './replay-buffer.js'
import type { StreamMirror } from './mirror.js'
import { RedisTail } from './redis-tail.js'

const LEASE_MS = 3000
const LEASE_REFRESH_MS = 1000
const READERS_MS = 3000
/** Safety expiry while running, refreshed with the lease: a crashed producer leaves no garbage. */
const RUNNING_TTL_MS = 60_000
/** Past the buffer bound: keep about this many recent entries for readers following live. */
const LIVE_TAIL_ENTRIES = 1000
const BLOCK_MS = 1000

/** An XRANGE/XREAD entry back to the event: its id is 0-{seq}; its data JSON passes through unparsed. */
function fromEntry ([id, fields]: [string, string[]]): SequencedEvent {
  return { seq: Number(id.slice(2)), type: fields[1] as RelayEventType, json: fields[3] as string }
}

const key = (id: string, part?: string): string => part === undefined ? `bsp:s:${id}` : `bsp:s:${id}:${part}`
// Hashed: an alias holds client text (a chat id), never used raw in a key.
const aliasKey = (alias: string): string => `bsp:a:${createHash('sha256').update(alias).digest('hex')}`
/** An alias outlives any stream it names (an hour, or the replay TTL if longer); a stale one finds an ended or gone stream. */
const ALIAS_MIN_TTL_MS = 3_600_000
export const CANCEL_CHANNEL = 'bsp:cancel'

export interface RemoteInfo {
  model: string
  status: 'running' | 'ended'
  lastSeq: number
  resumable: boolean
  /** False when a running stream's producer stopped renewing its lease. */
  alive: boolean
  owner: string | undefined
}

export interface RedisStreamsOptions {
  ttlMs: number
  log: { warn: (obj: object, msg: string) => void }
}

export class RedisStreams {
  readonly redis: Redis
  readonly #opts: RedisStreamsOptions
  readonly #tail: RedisTail

  constructor (redis: Redis, opts: RedisStreamsOptions) {
    this.redis = redis
    this.#opts = opts
    this.#tail = new RedisTail(redis, BLOCK_MS)
  }

  get healthy (): boolean {
    return this.redis.status === 'ready'
  }

  /** Starts mirroring a new stream; undefined when Redis is unreachable (the stream then runs local-only). */
  async createMirror (live: { streamId: string, model: string, owner: string | undefined, alias?: string | undefined }): Promise<StreamMirror | undefined> {
    const id = live.streamId
    try {
      const tx = this.redis.multi()
        .hset(key(id), { model: live.model, status: 'running', lastSeq: 0, resumable: 1, owner: live.owner ?? '' })
        .pexpire(key(id), RUNNING_TTL_MS)
        .set(key(id, 'lease'), '1', 'PX', LEASE_MS)
      if (live.alias !== undefined) tx.set(aliasKey(live.alias), id, 'PX', Math.max(ALIAS_MIN_TTL_MS, this.#opts.ttlMs))
      await tx.exec()
    } catch (err) {
      this.#opts.log.warn({ err, streamId: id }, 'redis unavailable: stream runs without cross-instance resume')
      return undefined
    }
    return new RedisMirror(this.redis, id, this.#opts)
  }

  async info (streamId: string): Promise<RemoteInfo | undefined> {
    const [meta, lease] = await Promise.all([this.redis.hgetall(key(streamId)), this.redis.exists(key(streamId, 'lease'))])
    if (meta.status === undefined) return undefined
    return {
      model: meta.model ?? '',
      status: meta.status === 'ended' ? 'ended' : 'running',
      lastSeq: Number(meta.lastSeq ?? 0),
      resumable: meta.resumable === '1',
      alive: meta.status === 'ended' || lease === 1,
      owner: meta.owner === undefined || meta.owner === '' ? undefined : meta.owner,
    }
  }

  /** The stream last started under `alias` on any instance (see createMirror). */
  async streamIdOf (alias: string): Promise<string | undefined> {
    return await this.redis.get(aliasKey(alias)) ?? undefined
  }

  async requestCancel (streamId: string): Promise<void> {
    await this.redis.publish(CANCEL_CHANNEL, streamId)
  }

  /**
   * Replays the events after `afterSeq`, then follows live until `done`. When the producer
   * dies (its lease lapses) or events were trimmed away, ends with the truth: `error`
   * stream_lost, a partial `usage`, `done`. Ends without `done` only when `signal` aborts.
   */
  async * read (streamId: string, afterSeq: number, signal: AbortSignal): AsyncGenerator<SequencedEvent, void, undefined> {
    const events = key(streamId, 'events')
    const markAttached = (): void => { this.redis.set(key(streamId, 'readers'), '1', 'PX', READERS_MS).catch(() => {}) }
    markAttached()
    const attached = setInterval(markAttached, READERS_MS / 3)
    let last = afterSeq
    try {
      while (!signal.aborted) {
        let entries: Array<[string, string[]]>
        try {
          entries = await this.redis.xrange(events, `(0-${last}`, '+', 'COUNT', 256)
          if (entries.length === 0) {
            // Caught up: wait on the instance's one blocking connection (redis-tail.ts).
            const wake = await this.#tail.wait(events, last, signal)
            if (wake === 'aborted') return
            if (wake === 'idle') {
              const info = await this.info(streamId)
              if (info === undefined || !info.alive || (info.status === 'ended' && info.lastSeq <= last)) {
                yield * this.#lost(streamId, last)
                return
              }
            }
            continue
          }
        } catch {
          if (signal.aborted) return
          // Redis went away under a reader of another instance's stream: say so, never hang.
          yield * this.#lost(streamId, last)
          return
        }
        for (const entry of entries) {
          const event = fromEntry(entry)
          if (event.seq !== last + 1) { // trimmed past the bound: the reader fell behind
            yield * this.#lost(streamId, last)
            return
          }
          yield event
          last = event.seq
          if (event.type === 'done') return
        }
      }
    } finally {
      clearInterval(attached)
    }
  }

  /** Stops the shared blocking connection (on app close). */
  close (): void {
    this.#tail.close()
  }

  async * #lost (streamId: string, last: number): AsyncGenerator<SequencedEvent, void, undefined> {
    let seen: RelayEvent[] = []
    try {
      const all = await this.redis.xrange(key(streamId, 'events'), '-', '+')
      seen = all.map(([, fields]) => ({ type: fields[1], data: JSON.parse(fields[3] as string) }) as RelayEvent)
    } catch {}
    const error = new ProxyError('stream_lost')
    let seq = last
    for (const event of lostEvents(error, estimateFromEvents(seen))) {
      seq += 1
      yield sequenced(seq, event)
    }
  }
}

class RedisMirror implements StreamMirror {
  readonly #redis: Redis
  readonly #id: string
  readonly #opts: RedisStreamsOptions
  readonly #lease: NodeJS.Timeout
  #broken = false

  constructor (redis: Redis, id: string, opts: RedisStreamsOptions) {
    this.#redis = redis
    this.#id = id
    this.#opts = opts
    this.#lease = setInterval(() => {
      this.#run(this.#redis.multi()
        .set(key(id, 'lease'), '1', 'PX', LEASE_MS)
        .pexpire(key(id), RUNNING_TTL_MS)
        .pexpire(key(id, 'events'), RUNNING_TTL_MS))
    }, LEASE_REFRESH_MS)
    this.#lease.unref()
  }

  append (entry: BufferedEvent, resumable: boolean): void {
    const tx = this.#redis.multi()
    const fields = [`0-${entry.seq}`, 't', entry.type, 'd', entry.json]
    if (resumable) tx.xadd(key(this.#id, 'events'), ...fields)
    else tx.xadd(key(this.#id, 'events'), 'MAXLEN', '~', String(LIVE_TAIL_ENTRIES), ...fields)
    tx.hset(key(this.#id), { lastSeq: entry.seq, resumable: resumable ? 1 : 0 })
    if (entry.seq === 1) tx.pexpire(key(this.#id, 'events'), RUNNING_TTL_MS)
    this.#run(tx)
  }

  finish (live: { lastSeq: number, resumable: boolean }): void {
    clearInterval(this.#lease)
    const ttl = this.#opts.ttlMs
    this.#run(this.#redis.multi()
      .hset(key(this.#id), { status: 'ended', lastSeq: live.lastSeq, resumable: live.resumable ? 1 : 0 })
      .pexpire(key(this.#id), ttl)
      .pexpire(key(this.#id, 'events'), ttl)
      .del(key(this.#id, 'lease')))
  }

  async hasRemoteReaders (): Promise<boolean> {
    try {
      return await this.#redis.exists(key(this.#id, 'readers')) === 1
    } catch {
      return false
    }
  }

  #run (tx: ReturnType<Redis['multi']>): void {
    tx.exec().catch((err: unknown) => {
      if (!this.#broken) this.#opts.log.warn({ err, streamId: this.#id }, 'redis write failed: this stream can no longer be resumed on other instances')
      this.#broken = true
    })
  }
}
