// The kinds of setting the table (settings.ts) is made of: how a raw environment value
// becomes a typed one, the message when it cannot, and what the docs show as its default.
// A kind reports a problem without the variable's name; readSettings (read.ts) prefixes it,
// so every message starts with the name, whatever the kind.

export type Kind = 'int' | 'bool' | 'string' | 'secret' | 'list' | 'enum'
/** Reports one problem with a value ("must be ...", "has ..."); the caller names the variable. */
export type Report = (message: string) => void

/** How the README and .env.example show a setting (docs.ts renders both). */
export interface Docs {
  /** One line of Markdown: the README's "meaning" cell and the comment above the variable in .env.example. */
  doc: string
  /** The README's default cell, in Markdown, when the bare default would mislead. */
  defaultDoc?: string
  /** The value .env.example shows when not the default: a placeholder for an optional setting. */
  example?: string
  /** .env.example shows it commented out, because leaving it unset is the usual choice. */
  commented?: boolean
}

export interface Setting<T> extends Docs {
  readonly kind: Kind
  /** The default as text (README, .env.example); undefined: none (unset means off). */
  readonly defaultText: string | undefined
  /** Accepted range, integers only. */
  readonly min?: number
  readonly max?: number
  /** raw: trimmed; undefined when unset or empty (`FOO=` in a .env file means unset). */
  readonly parse: (raw: string | undefined, report: Report) => T
}

/** A check of one value: undefined when fine, else the problem ("must ..."). */
export type Check = (value: string) => string | undefined

interface IntOptions extends Docs { default?: number, min: number, max: number }

export function int (o: IntOptions & { default: number }): Setting<number>
export function int (o: IntOptions & { default?: undefined }): Setting<number | undefined>
export function int ({ default: fallback, min, max, ...docs }: IntOptions): Setting<number | undefined> {
  return {
    ...docs,
    kind: 'int',
    defaultText: fallback?.toString(),
    min,
    max,
    parse (raw, report) {
      if (raw === undefined) return fallback
      const value = Number(raw)
      if (Number.isInteger(value) && value >= min && value <= max) return value
      report(`must be an integer from ${min} to ${max} (got "${raw}")`)
      // An invalid value still counts as set (METRICS_PORT), so a cross-field rule does not
      // add a second, misleading problem about it being unset.
      return fallback ?? min
    },
  }
}

export function bool ({ default: fallback, ...docs }: Docs & { default: boolean }): Setting<boolean> {
  return {
    ...docs,
    kind: 'bool',
    defaultText: String(fallback),
    parse (raw, report) {
      const value = raw?.toLowerCase()
      if (value === undefined) return fallback
      if (['true', '1', 'yes'].includes(value)) return true
      if (['false', '0', 'no'].includes(value)) return false
      report(`must be true or false (got "${value}")`)
      return fallback
    },
  }
}

interface StringOptions extends Docs { default?: string, check?: Check }

export function string (o: StringOptions & { default: string }): Setting<string>
export function string (o: StringOptions & { default?: undefined }): Setting<string | undefined>
export function string ({ default: fallback, check, ...docs }: StringOptions): Setting<string | undefined> {
  return {
    ...docs,
    kind: 'string',
    defaultText: fallback,
    parse (raw, report) {
      const value = raw ?? fallback
      const problem = value === undefined ? undefined : check?.(value)
      if (problem !== undefined) report(problem)
      return value
    },
  }
}

/** An HMAC secret or bearer token: optional, and never shorter than minChars when set. */
export function secret ({ minChars, ...docs }: Docs & { minChars: number }): Setting<string | undefined> {
  return {
    ...docs,
    kind: 'secret',
    defaultText: undefined,
    parse (raw, report) {
      // The message never quotes the value: start-up errors reach stderr and log collectors.
      if (raw !== undefined && raw.length < minChars) report(`must be at least ${minChars} characters`)
      return raw
    },
  }
}

/** Comma separated; blanks around and between items are dropped. Unset: empty. */
export function list ({ check, ...docs }: Docs & { check?: Check }): Setting<string[]> {
  return {
    ...docs,
    kind: 'list',
    defaultText: undefined,
    parse (raw, report) {
      const items = (raw ?? '').split(',').map(s => s.trim()).filter(s => s !== '')
      for (const item of items) {
        const problem = check?.(item)
        if (problem !== undefined) report(problem)
      }
      return items
    },
  }
}

export function enumOf<const V extends string> ({ values, default: fallback, ...docs }: Docs & { values: readonly V[], default: V }): Setting<V> {
  return {
    ...docs,
    kind: 'enum',
    defaultText: fallback,
    parse (raw, report) {
      if (raw === undefined) return fallback
      if ((values as readonly string[]).includes(raw)) return raw as V
      report(`must be one of ${values.join(', ')} (got "${raw}")`)
      return fallback
    },
  }
}
