// The page's own tools (issue 12): offered to the model in `toolConfig`, run here in the
// browser when the model calls one. The proxy never runs code; this page runs only these,
// and they are harmless (they read the clock). Any other name gets an error result.

const TOOLS = {
  get_current_time: {
    description: 'The current date and time, read from the user’s browser clock. Give an IANA time zone (e.g. Europe/Paris) for the time there; without one, the browser’s own zone.',
    inputSchema: {
      type: 'object',
      properties: { timeZone: { type: 'string', description: 'An IANA time zone name, e.g. "Asia/Tokyo"' } },
      required: [],
    },
    run: currentTime,
  },
}

/** `toolConfig` for a request: every tool of the page, the model chooses (`auto`). */
export const TOOL_CONFIG = {
  tools: Object.entries(TOOLS).map(([name, { description, inputSchema }]) => ({ toolSpec: { name, description, inputSchema: { json: inputSchema } } })),
  toolChoice: { auto: {} },
}

/**
 * Runs the tool the model asked for; never throws. Returns the `toolResult` block to send
 * back (same `toolUseId`) with `status: 'error'` for an unknown tool or bad input.
 */
export function runTool ({ toolUseId, name, input }) {
  const tool = Object.hasOwn(TOOLS, name) ? TOOLS[name] : undefined
  if (tool === undefined) return errorResult(toolUseId, `Unknown tool "${name}": this page offers ${Object.keys(TOOLS).join(', ')}.`)
  try {
    return { toolResult: { toolUseId, content: [{ json: tool.run(input ?? {}) }], status: 'success' } }
  } catch (err) {
    return errorResult(toolUseId, err instanceof Error ? err.message : String(err))
  }
}

function errorResult (toolUseId, text) {
  return { toolResult: { toolUseId, content: [{ text }], status: 'error' } }
}

function currentTime (input) {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new TypeError('The input must be a JSON object.')
  const { timeZone } = input
  if (timeZone !== undefined && typeof timeZone !== 'string') throw new TypeError('timeZone must be a string such as "Europe/Paris".')
  let format
  try {
    format = new Intl.DateTimeFormat('en-GB', { timeZone: timeZone || undefined, dateStyle: 'full', timeStyle: 'long' })
  } catch {
    throw new RangeError(`Unknown time zone "${timeZone}": use an IANA name such as "Europe/Paris".`)
  }
  const now = new Date()
  return { timeZone: format.resolvedOptions().timeZone, localTime: format.format(now), iso: now.toISOString() }
}
