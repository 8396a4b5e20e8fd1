// API keys. Only SHA-256 digests are kept in memory (a heap dump or a log of the config
// never shows a usable key), and a presented key is compared against every stored
// digest with crypto.timingSafeEqual, so the answer time does not tell which bytes
// matched or which key was close.
import { createHash, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import type { GuardrailSettings } from '../bedrock/request-policy.js'

export interface KeyLimits {
  /** Requests per RATE_LIMIT_WINDOW_MS; default RATE_LIMIT_MAX. */
  rateLimit?: number
  /** Open streams at once; default MAX_STREAMS_PER_KEY. */
  concurrentStreams?: number
  /** Tokens (input + output) per TOKEN_BUDGET_PERIOD; default TOKEN_BUDGET_PER_KEY (0 = unlimited). */
  tokenBudget?: number
  /** This key's own Bedrock guardrail, instead of GUARDRAIL_IDENTIFIER's (clients cannot change either). */
  guardrail?: GuardrailSettings
}

export interface ApiKey {
  /** Shown in logs and used as the limits key; never the secret. */
  name: string
  digest: Buffer
  /** When set, this key may use only these models (each also in the global allowlist). */
  models?: readonly string[]
  limits: KeyLimits
}

// Long enough that guessing is hopeless at any request rate; `openssl rand -hex 32` gives 64.
export const MIN_KEY_CHARS = 20
const NAME = /^[A-Za-z0-9._-]{1,64}$/
const HEX_DIGEST = /^[0-9a-f]{64}$/
const FILE_FIELDS = new Set(['name', 'key', 'sha256', 'models', 'rateLimit', 'concurrentStreams', 'tokenBudget', 'guardrail'])
const GUARDRAIL_FIELDS = new Set(['identifier', 'version', 'streamProcessingMode', 'trace'])
const LIMIT_FIELDS = ['rateLimit', 'concurrentStreams', 'tokenBudget'] as const

export function sha256 (text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

/** API_KEYS: comma separated, each a key or `sha256:<hex digest>`; named after their digest. */
export function parseKeyList (entries: readonly string[], problems: string[]): ApiKey[] {
  const keys: ApiKey[] = []
  for (const [i, entry] of entries.entries()) {
    const digest = toDigest(entry.startsWith('sha256:') ? { sha256: entry.slice(7) } : { key: entry }, `API_KEYS entry ${i + 1}`, problems)
    if (digest !== undefined) keys.push({ name: `key-${digest.toString('hex').slice(0, 8)}`, digest, limits: {} })
  }
  return keys
}

/** API_KEYS_FILE: JSON or YAML (YAML is a superset of JSON), `{ keys: [ { name, sha256 | key, ... } ] }`. */
export function readKeyFile (path: string, problems: string[]): ApiKey[] {
  let doc: unknown
  try {
    doc = parseYaml(readFileSync(path, 'utf8'))
  } catch (err) {
    // The parser's message may quote a line of the file, which can hold a key: name the file only.
    problems.push(`API_KEYS_FILE ${path} cannot be read or parsed (${err instanceof Error && 'code' in err ? String(err.code) : 'syntax error'})`)
    return []
  }
  const list = isRecord(doc) ? doc['keys'] : undefined
  if (!Array.isArray(list)) {
    problems.push(`API_KEYS_FILE ${path} must hold { "keys": [ ... ] }`)
    return []
  }
  const keys: ApiKey[] = []
  for (const [i, item] of list.entries()) {
    const where = `API_KEYS_FILE keys[${i}]`
    if (!isRecord(item)) { problems.push(`${where} must be an object`); continue }
    const unknown = Object.keys(item).filter(field => !FILE_FIELDS.has(field))
    if (unknown.length > 0) problems.push(`${where} has unknown fields: ${unknown.join(', ')}`)
    const name = item['name']
    if (typeof name !== 'string' || !NAME.test(name)) { problems.push(`${where}.name must be 1-64 of A-Z a-z 0-9 . _ -`); continue }
    const digest = toDigest(item, `${where} (${name})`, problems)
    const limits: KeyLimits = {}
    for (const field of LIMIT_FIELDS) {
      const value = item[field]
      if (value === undefined) continue
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (field === 'tokenBudget' ? 0 : 1)) {
        problems.push(`${where} (${name}).${field} must be a whole number${field === 'tokenBudget' ? ' (0 = unlimited)' : ' of at least 1'}`)
      } else limits[field] = value
    }
    if (item['guardrail'] !== undefined) {
      const guardrail = readGuardrail(item['guardrail'], `${where} (${name}).guardrail`, problems)
      if (guardrail !== undefined) limits.guardrail = guardrail
    }
    const models = item['models']
    if (models !== undefined && (!Array.isArray(models) || models.length === 0 || !models.every(m => typeof m === 'string'))) {
      problems.push(`${where} (${name}).models must be a non-empty list of model ids`)
    }
    if (digest !== undefined) keys.push({ name, digest, limits, ...(Array.isArray(models) ? { models: models.map(String) } : {}) })
  }
  return keys
}

/** `guardrail: { identifier, version, streamProcessingMode?, trace? }`, as the GUARDRAIL_* settings take them. */
function readGuardrail (value: unknown, where: string, problems: string[]): GuardrailSettings | undefined {
  if (!isRecord(value)) { problems.push(`${where} must be an object { identifier, version, streamProcessingMode?, trace? }`); return undefined }
  const unknown = Object.keys(value).filter(field => !GUARDRAIL_FIELDS.has(field))
  if (unknown.length > 0) problems.push(`${where} has unknown fields: ${unknown.join(', ')}`)
  const { identifier, version, streamProcessingMode: mode, trace } = value
  const before = problems.length
  if (typeof identifier !== 'string' || !/^[A-Za-z0-9:/._-]{1,2048}$/.test(identifier)) problems.push(`${where}.identifier must be a guardrail id or ARN`)
  // YAML reads `version: 1` as a number.
  const versionText = typeof version === 'number' ? String(version) : version
  if (typeof versionText !== 'string' || !/^(DRAFT|[1-9][0-9]{0,7})$/.test(versionText)) problems.push(`${where}.version must be DRAFT or a version number`)
  if (mode !== undefined && mode !== 'sync' && mode !== 'async') problems.push(`${where}.streamProcessingMode must be sync or async`)
  if (trace !== undefined && trace !== 'enabled' && trace !== 'disabled' && trace !== 'enabled_full') problems.push(`${where}.trace must be enabled, disabled or enabled_full`)
  if (problems.length > before) return undefined
  return {
    identifier: identifier as string,
    version: versionText as string,
    ...(mode !== undefined ? { streamProcessingMode: mode as 'sync' | 'async' } : {}),
    ...(trace !== undefined ? { trace: trace as 'enabled' | 'disabled' | 'enabled_full' } : {}),
  }
}

/** Cross-checks: unique names and keys, per-key models inside the global allowlist. */
export function checkKeys (keys: readonly ApiKey[], allowedModels: ReadonlySet<string>, problems: string[]): void {
  const names = new Set<string>()
  const digests = new Set<string>()
  for (const key of keys) {
    if (names.has(key.name)) problems.push(`API key name "${key.name}" is used twice`)
    const hex = key.digest.toString('hex')
    if (digests.has(hex)) problems.push(`API key "${key.name}" is configured twice`)
    names.add(key.name)
    digests.add(hex)
    for (const model of key.models ?? []) {
      if (!allowedModels.has(model)) problems.push(`API key "${key.name}" allows model "${model}", which is not BEDROCK_MODEL_ID or in BEDROCK_ALLOWED_MODELS`)
    }
  }
}

function toDigest (item: Record<string, unknown>, where: string, problems: string[]): Buffer | undefined {
  const { key, sha256: hex } = item
  if ((key === undefined) === (hex === undefined)) { problems.push(`${where} needs exactly one of "sha256" or "key"`); return undefined }
  if (hex !== undefined) {
    if (typeof hex !== 'string' || !HEX_DIGEST.test(hex.toLowerCase())) { problems.push(`${where}: sha256 must be 64 hex digits`); return undefined }
    return Buffer.from(hex.toLowerCase(), 'hex')
  }
  // Never echo the key itself in the problem: start-up errors go to stderr and log collectors.
  if (typeof key !== 'string' || key.length < MIN_KEY_CHARS || /[\s,]/.test(key)) {
    problems.push(`${where}: a key must be at least ${MIN_KEY_CHARS} characters without spaces or commas`)
    return undefined
  }
  return sha256(key)
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

export class KeyStore {
  readonly #keys: readonly ApiKey[]
  readonly #byName: ReadonlyMap<string, ApiKey>

  constructor (keys: readonly ApiKey[]) {
    this.#keys = keys
    this.#byName = new Map(keys.map(k => [k.name, k]))
  }

  get size (): number {
    return this.#keys.length
  }

  /** The key whose digest matches; every stored digest is compared, with no early exit. */
  find (presented: string): ApiKey | undefined {
    const digest = sha256(presented)
    let match: ApiKey | undefined
    for (const key of this.#keys) {
      if (timingSafeEqual(key.digest, digest)) match = key
    }
    return match
  }

  byName (name: string): ApiKey | undefined {
    return this.#byName.get(name)
  }
}
