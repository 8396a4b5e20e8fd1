// Renders the table (settings.ts) as .env.example and as the README's configuration
// tables. Pure: scripts/config-docs.ts writes the files, test/config-docs.test.ts checks
// that the checked-in files are exactly this output.
import type { Setting } from './kinds.js'
import { SECTIONS } from './settings.js'

export const README_START = '<!-- config:start: generated from src/config/settings.ts by npm run config:docs; edit the table there -->'
export const README_END = '<!-- config:end -->'
const WIDTH = 92

// Variables the SDK reads by itself are documented, never parsed: a fixed header.
const ENV_HEADER = `# bedrock-sse-proxy configuration. Copy to .env and edit. Generated from src/config/settings.ts
# by \`npm run config:docs\`: edit the table there, not this file (a test keeps them equal).
# Unset or empty means the default. The AWS SDK also reads its own credential variables
# (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE,
# AWS_BEARER_TOKEN_BEDROCK, container and instance roles).
`

export function renderEnvExample (): string {
  const parts = [ENV_HEADER]
  for (const section of SECTIONS) {
    const lines = [`# ---- ${section.title} `.padEnd(WIDTH, '-')]
    if (section.note !== undefined) lines.push(...comment(section.note), '')
    for (const [name, setting] of Object.entries(section.settings)) {
      // The example line shows the default, except where the README needs words for it.
      const doc = setting.defaultDoc !== undefined ? `${sentence(setting.doc)} Default: ${setting.defaultDoc}` : setting.doc
      lines.push(...comment(doc), `${setting.commented === true ? '#' : ''}${name}=${setting.example ?? setting.defaultText ?? ''}`)
    }
    parts.push(lines.join('\n') + '\n')
  }
  return parts.join('\n')
}

export function renderReadmeTables (): string {
  const parts: string[] = []
  for (const section of SECTIONS) {
    const rows = Object.entries(section.settings).map(([name, setting]) =>
      `| \`${name}\` | ${cell(defaultCell(setting))} | ${cell(setting.doc)} |`)
    const heading = section.note !== undefined ? `**${section.title}.** ${section.note}` : `**${section.title}**`
    parts.push(`${heading}\n\n| variable | default | meaning |\n|---|---|---|\n${rows.join('\n')}\n`)
  }
  return parts.join('\n')
}

/** The README with its generated part (between the markers) replaced by renderReadmeTables(). */
export function withReadmeTables (readme: string): string {
  const start = readme.indexOf(README_START)
  const end = readme.indexOf(README_END)
  if (start === -1 || end < start) throw new Error(`README.md needs the markers ${README_START} and ${README_END}`)
  return `${readme.slice(0, start + README_START.length)}\n\n${renderReadmeTables()}\n${readme.slice(end)}`
}

function defaultCell (setting: Setting<unknown>): string {
  if (setting.defaultDoc !== undefined) return setting.defaultDoc
  return setting.defaultText !== undefined ? `\`${setting.defaultText}\`` : 'none'
}

/** A table cell: a `|` would end it, even inside backticks (GitHub Flavored Markdown). */
function cell (markdown: string): string {
  return markdown.replaceAll('|', '\\|')
}

/** Markdown as `# ` lines: a sentence, README links named, wrapped at WIDTH. */
function comment (markdown: string): string[] {
  const text = sentence(markdown.replace(/\[([^\]]+)\]\(#[^)]+\)/g, 'README "$1"'))
  const lines: string[] = []
  let line = '#'
  for (const word of text.split(' ')) {
    if (line !== '#' && line.length + 1 + word.length > WIDTH) {
      lines.push(line)
      line = '#'
    }
    line += ` ${word}`
  }
  lines.push(line)
  return lines
}

/** A description as a sentence: capitalised, with a full stop. */
function sentence (text: string): string {
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1)
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`
}
