// request.log of the standalone server (app.ts sets it as Fastify's childLoggerFactory):
// the same pino child with the request id, made the first time the request writes a line
// at a level that is on. Fastify makes a child per request, held for the request's whole
// life; a stream's request usually writes nothing until it ends (its access line), and at
// LOG_LEVEL=warn nothing at all: 10,000 streams waiting on a slow first token held
// 10,000 children, with their serialised bindings (issue 10). The lines are the same.
import type { FastifyBaseLogger } from 'fastify'
import type { Bindings, ChildLoggerOptions, Level } from 'pino'

export function lazyRequestLogger (logger: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions): FastifyBaseLogger {
  // A route with a level or serializers of its own: make the child now, as Fastify would.
  if (Object.keys(opts).length > 0) return logger.child(bindings, opts)
  return new LazyChild(logger, bindings) as unknown as FastifyBaseLogger
}

type Args = [unknown, ...unknown[]]

/** Pino's level check, when the parent is pino (a custom logger gets every line). */
function enabled (logger: FastifyBaseLogger, level: Level): boolean {
  const check = (logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled
  return typeof check !== 'function' || check.call(logger, level)
}

// Methods on the prototype, not arrow fields: an instance is three fields and no closure.
class LazyChild {
  readonly #parent: FastifyBaseLogger
  readonly #bindings: Bindings
  #child: FastifyBaseLogger | undefined

  constructor (parent: FastifyBaseLogger, bindings: Bindings) {
    this.#parent = parent
    this.#bindings = bindings
  }

  get level (): string { return (this.#child ?? this.#parent).level }
  set level (level: string) { this.#made().level = level }

  fatal (...args: Args): void { this.#write('fatal', args) }
  error (...args: Args): void { this.#write('error', args) }
  warn (...args: Args): void { this.#write('warn', args) }
  info (...args: Args): void { this.#write('info', args) }
  debug (...args: Args): void { this.#write('debug', args) }
  trace (...args: Args): void { this.#write('trace', args) }
  silent (): void {}

  child (bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#made().child(bindings, options)
  }

  #write (level: Level, args: Args): void {
    if (this.#child === undefined && !enabled(this.#parent, level)) return
    const child = this.#made()
    Reflect.apply(child[level], child, args)
  }

  #made (): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings)
    return this.#child
  }
}
