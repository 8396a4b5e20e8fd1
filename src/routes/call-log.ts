// The log of one upstream call: every line carries the call's id (streamId, callId), as
// a pino child logger's would, without making one per call. A child serialises its
// bindings when it is made and is held for the call's whole life, while most calls log
// nothing until they end: 10,000 streams waiting on a slow first token held 10,000 of
// them (issue 10). Here the id is added to the lines actually written.
import type { FastifyBaseLogger } from 'fastify'
import type { RelayLogger } from '../bedrock/relay.js'

export class CallLog implements RelayLogger {
  readonly #log: FastifyBaseLogger
  readonly #key: 'streamId' | 'callId'
  readonly #id: string

  constructor (log: FastifyBaseLogger, key: 'streamId' | 'callId', id: string) {
    this.#log = log
    this.#key = key
    this.#id = id
  }

  info (obj: object, msg: string): void { this.#log.info(this.#with(obj), msg) }
  warn (obj: object, msg: string): void { this.#log.warn(this.#with(obj), msg) }
  error (obj: object, msg: string): void { this.#log.error(this.#with(obj), msg) }

  #with (obj: object): object {
    return { [this.#key]: this.#id, ...obj }
  }
}
