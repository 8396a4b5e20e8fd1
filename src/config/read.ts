// The only place the environment is read: every setting of the table parsed by its kind,
// every problem collected (prefixed with the variable's name) rather than thrown.
import { SETTINGS, type SettingName, type Values } from './settings.js'
import type { Env } from './types.js'

export interface Reading {
  values: Values
  /** Whether the variable was given a value (a default can depend on it: SHUTDOWN_DELAY_MS). */
  isSet: (name: SettingName) => boolean
}

export function readSettings (env: Env, problems: string[]): Reading {
  const raw = (name: string): string | undefined => {
    const value = env[name]?.trim()
    return value === '' ? undefined : value
  }
  const values: Record<string, unknown> = {}
  for (const [name, setting] of Object.entries(SETTINGS)) {
    values[name] = setting.parse(raw(name), message => problems.push(`${name} ${message}`))
  }
  // Filled above, key by key, each by its own entry's parse: the shape Values describes.
  return { values: values as Values, isSet: name => raw(name) !== undefined }
}
