// The configuration table: every environment variable the proxy reads, defined once
// (kind, default, bounds, checks, one line of docs), grouped in sections. loadConfig
// (load.ts) parses it; docs.ts renders .env.example and the README's tables from it
// (npm run config:docs); the tests take variable names from here, never from source text.
import type { Setting } from './kinds.js'
import { BEDROCK, BROWSERS, REQUESTS, SERVER, SHUTDOWN, STREAMS } from './settings-service.js'
import { AUTHENTICATION, LIMITS } from './settings-security.js'
import { FEATURES } from './settings-features.js'
import { METRICS, OVERLOAD, TRACING } from './settings-telemetry.js'

export interface Section {
  title: string
  /** Markdown shown above the section's table (README) and its variables (.env.example). */
  note?: string
  settings: Readonly<Record<string, Setting<unknown>>>
}

/** The order of the README tables and of .env.example. */
export const SECTIONS: readonly Section[] = [
  { title: 'Server', settings: SERVER },
  { title: 'Bedrock', settings: BEDROCK },
  { title: 'Requests', settings: REQUESTS },
  { title: 'Streams and resume', settings: STREAMS },
  { title: 'Browsers and reverse proxies', settings: BROWSERS },
  {
    title: 'Authentication',
    note: 'With no keys and no JWT the proxy runs without authentication, which it allows only when `HOST` is loopback, or with `ALLOW_UNAUTHENTICATED=true` (see [Security](#security)).',
    settings: AUTHENTICATION,
  },
  { title: 'Limits and budgets', settings: LIMITS },
  {
    title: 'Model features',
    note: 'What clients may ask of Bedrock beyond a plain conversation (tools, thinking, caching, documents, tiers), and the guardrail on every call (see [Request](#request)).',
    settings: FEATURES,
  },
  { title: 'Shutdown', settings: SHUTDOWN },
  {
    title: 'Metrics',
    note: '`GET /metrics` is served when `METRICS_PORT` or `METRICS_TOKEN` is set, or when the proxy runs on loopback without keys; otherwise it is off (see [Observability](#observability)).',
    settings: METRICS,
  },
  {
    title: 'Tracing',
    note: 'OpenTelemetry traces over OTLP/HTTP. With neither endpoint set there is no tracing, and the SDK is not even loaded.',
    settings: TRACING,
  },
  { title: 'Overload', note: 'Past these bounds new streams get 503 `server_overloaded`; open ones go on.', settings: OVERLOAD },
]

// A name in two sections would be silently overwritten here: test/config.test.ts checks
// that SETTINGS has as many entries as the sections together.
export const SETTINGS = {
  ...SERVER, ...BEDROCK, ...REQUESTS, ...STREAMS, ...BROWSERS, ...AUTHENTICATION, ...LIMITS, ...FEATURES, ...SHUTDOWN, ...METRICS, ...TRACING, ...OVERLOAD,
}

export type SettingName = keyof typeof SETTINGS
/** Each variable's parsed value, typed by its kind and default. */
export type Values = { [K in SettingName]: (typeof SETTINGS)[K] extends Setting<infer T> ? T : never }
