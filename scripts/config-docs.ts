// npm run config:docs: rewrites .env.example and the README's configuration tables from the
// table in src/config/settings.ts. test/config-docs.test.ts fails when they differ.
import { readFileSync, writeFileSync } from 'node:fs'
import { renderEnvExample, withReadmeTables } from '../src/config/docs.js'

const ROOT = new URL('../', import.meta.url)

function update (file: string, render: (current: string) => string): void {
  const url = new URL(file, ROOT)
  const current = readFileSync(url, 'utf8')
  const next = render(current)
  if (next === current) return console.log(`${file}: up to date`)
  writeFileSync(url, next)
  console.log(`${file}: written`)
}

update('.env.example', () => renderEnvExample())
update('README.md', withReadmeTables)
