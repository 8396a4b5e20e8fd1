// The generated docs: .env.example and the README's configuration tables are exactly what
// the table renders (src/config/docs.ts), so the docs cannot drift from the code.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { README_END, README_START, renderEnvExample, renderReadmeTables, withReadmeTables } from '../src/config/docs.js'
import { SECTIONS, SETTINGS } from '../src/config/settings.js'

const read = (file: string): string => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8')
const DRIFT = 'out of date with src/config/settings.ts: run npm run config:docs'

test('.env.example is what the table generates', () => {
  assert.equal(read('.env.example'), renderEnvExample(), `.env.example is ${DRIFT}`)
})

test('the README\'s configuration tables are what the table generates, between the markers', () => {
  const readme = read('README.md')
  assert.equal(readme, withReadmeTables(readme), `README.md is ${DRIFT}`)
  const section = readme.slice(readme.indexOf('\n## Configuration\n'), readme.indexOf('\n## Logging\n'))
  assert.ok(section.includes(`${README_START}\n\n${renderReadmeTables()}\n${README_END}`), 'the tables sit inside ## Configuration')
})

test('withReadmeTables keeps the prose around the markers and refuses a README without them', () => {
  const doc = `# Title\n\nbefore\n\n${README_START}\nstale\n${README_END}\n\nafter\n`
  const out = withReadmeTables(doc)
  assert.ok(out.startsWith(`# Title\n\nbefore\n\n${README_START}\n\n**Server**\n`))
  assert.ok(out.endsWith(`${README_END}\n\nafter\n`))
  assert.ok(!out.includes('stale'))
  assert.equal(withReadmeTables(out), out, 'idempotent')
  assert.throws(() => withReadmeTables('# no markers\n'), /config:start/)
})

test('every variable is in exactly one section, with a one-line description', () => {
  const names = SECTIONS.flatMap(section => Object.keys(section.settings))
  assert.deepEqual(names, Object.keys(SETTINGS), 'SETTINGS is the sections in order, no name twice')
  for (const [name, setting] of Object.entries(SETTINGS)) {
    assert.match(name, /^[A-Z][A-Z0-9_]+$/)
    assert.ok(setting.doc.length > 0 && !setting.doc.includes('\n'), `${name}: one line of description`)
  }
})
