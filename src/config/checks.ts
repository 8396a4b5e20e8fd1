// Predicates the table (settings*.ts) and the cross-field rules (rules.ts) check values with.

// Bedrock model ids, inference profile ids and ARNs: letters, digits and . : / _ -
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,2047}$/
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/

export function isModelId (value: string): boolean {
  return MODEL_ID.test(value)
}

export function isRegion (value: string): boolean {
  return REGION.test(value)
}

export function isHttpUrl (value: string): boolean {
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}

/** scheme://host[:port] exactly, as a browser sends it in Origin: no path, no trailing slash. */
export function isOrigin (value: string): boolean {
  try {
    const url = new URL(value)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value
  } catch {
    return false
  }
}
