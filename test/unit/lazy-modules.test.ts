// What a server loads that it does not use costs RSS in every instance (issue 10): ioredis
// (about 6 MiB) is loaded only when REDIS_URL is set. A child process, so this file's own
// imports do not count.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { test } from 'node:test'

const ROOT = new URL('../..', import.meta.url).pathname

function loads (entry: string, pkg: string): boolean {
  const script = `
    import { createRequire } from 'node:module'
    await import(${JSON.stringify(entry)})
    const require = createRequire(import.meta.url)
    process.stdout.write(String(Object.keys(require.cache).some(k => k.includes('/node_modules/${pkg}/'))))
  `
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' }) === 'true'
}

test('the app does not load ioredis until Redis is configured', () => {
  assert.equal(loads('./src/app.ts', 'ioredis'), false, 'app.ts and everything it imports')
  assert.equal(loads('./src/redis.ts', 'ioredis'), true, 'the check sees it when it is loaded')
})
