// Configuration: validated once, every problem reported at once. The variable names come
// from the table (src/config/settings.ts); test/config-docs.test.ts keeps .env.example and
// the README equal to what the table generates.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { ConfigError, DEFAULTS, loadConfig, type Env } from '../src/config.js'
import { SETTINGS } from '../src/config/settings.js'
import { readSettings } from '../src/config/read.js'
import { endedStreamsMaxBytes, pressureConfig, processHeapLimit } from '../src/config/telemetry.js'
import { oldGenerationLimit } from '../src/telemetry/heap-limit.js'

const ROOT = new URL('../', import.meta.url)

function problemsOf (env: Env): readonly string[] {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  return []
}

const INT_SETTINGS = Object.entries(SETTINGS).flatMap(([name, setting]) =>
  setting.kind === 'int' && setting.min !== undefined && setting.max !== undefined ? [{ name, min: setting.min, max: setting.max }] : [])

test('.env.example lists every variable of the table, in its order, each with a comment right above', () => {
  const lines = readFileSync(new URL('.env.example', ROOT), 'utf8').split('\n')
  const names = lines.flatMap(l => /^#?([A-Z][A-Z0-9_]+)=/.exec(l)?.[1] ?? [])
  assert.deepEqual(names, Object.keys(SETTINGS))
  for (const name of names) {
    const i = lines.findIndex(l => l.startsWith(`${name}=`) || l.startsWith(`#${name}=`))
    assert.match(lines[i - 1] ?? '', /^# \S/, `${name} has a comment above it`)
  }
})

test('.env.example itself is a valid configuration', () => {
  const env: Record<string, string> = {}
  for (const m of readFileSync(new URL('.env.example', ROOT), 'utf8').matchAll(/^([A-Z][A-Z0-9_]+)=(.*)$/gm)) env[m[1] as string] = m[2] as string
  const config = loadConfig(env)
  assert.equal(config.region, 'us-east-1')
})

test('the README documents every variable', () => {
  const readme = readFileSync(new URL('README.md', ROOT), 'utf8')
  for (const name of Object.keys(SETTINGS)) assert.ok(readme.includes(`| \`${name}\` |`), `README has a row for ${name}`)
})

test('defaults are safe: capped output, loopback, no CORS, no demo page, default model always allowed', () => {
  const config = loadConfig({ AWS_REGION: 'eu-west-1' })
  assert.equal(config.host, '127.0.0.1')
  assert.equal(config.maxOutputTokens, DEFAULTS.maxOutputTokens)
  assert.deepEqual(config.corsOrigins, [])
  assert.equal(config.demoPage, false)
  assert.deepEqual([...config.allowedModels], [DEFAULTS.defaultModelId])
  assert.equal(config.region, 'eu-west-1')
})

test('AWS_DEFAULT_REGION is the fallback for AWS_REGION; AWS_REGION wins', () => {
  assert.equal(loadConfig({ AWS_DEFAULT_REGION: 'ap-south-1' }).region, 'ap-south-1')
  assert.equal(loadConfig({ AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'ap-south-1' }).region, 'us-west-2')
  assert.equal(loadConfig({}).region, undefined)
})

test('the endpoint override comes from AWS_ENDPOINT_URL_BEDROCK_RUNTIME, then AWS_ENDPOINT_URL', () => {
  assert.equal(loadConfig({ AWS_ENDPOINT_URL: 'http://a:1' }).endpoint, 'http://a:1')
  assert.equal(loadConfig({ AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_BEDROCK_RUNTIME: 'http://b:2' }).endpoint, 'http://b:2')
})

test('allowed models: the list plus the default', () => {
  const config = loadConfig({ BEDROCK_MODEL_ID: 'm.one-v1:0', BEDROCK_ALLOWED_MODELS: ' m.two-v1:0 , arn:aws:bedrock:us-east-1:123456789012:inference-profile/x ' })
  assert.deepEqual([...config.allowedModels], ['m.one-v1:0', 'm.two-v1:0', 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/x'])
})

test('every problem is reported at once', () => {
  const err = (() => {
    try {
      loadConfig({ PORT: 'eighty', MAX_OUTPUT_TOKENS: '0', BEDROCK_ALLOWED_MODELS: '*', CORS_ORIGINS: '*,https://ok.example/path', LOG_LEVEL: 'loud', AWS_REGION: 'mars', DEMO_PAGE: 'maybe' })
    } catch (e) { return e }
    return undefined
  })()
  assert.ok(err instanceof ConfigError)
  assert.equal(err.problems.length, 8, err.message)
  for (const name of ['PORT', 'MAX_OUTPUT_TOKENS', 'BEDROCK_ALLOWED_MODELS', 'CORS_ORIGINS', 'LOG_LEVEL', 'AWS_REGION', 'DEMO_PAGE']) {
    assert.ok(err.message.includes(name), `names ${name}`)
  }
})

test('an invalid value of every integer setting is reported with its name and range', () => {
  for (const name of ['PORT', 'METRICS_PORT', 'TOKEN_BUDGET_PER_KEY']) assert.ok(INT_SETTINGS.some(s => s.name === name), `${name} is an integer setting`)
  for (const { name, min, max } of INT_SETTINGS) {
    for (const bad of ['many', '1.5', String(min - 1), String(max + 1)]) {
      assert.deepEqual(problemsOf({ [name]: bad }), [`${name} must be an integer from ${min} to ${max} (got "${bad}")`])
    }
    assert.deepEqual(problemsOf({ [name]: String(max) }).filter(p => p.startsWith(`${name} must be an integer`)), [], `${name}=${max} is accepted`)
  }
})

test('every integer setting invalid at once: one problem each, all reported together', () => {
  const env: Env = Object.fromEntries(INT_SETTINGS.map(({ name }) => [name, 'x']))
  // An invalid value falls back to the default, so no cross-field rule adds a problem.
  assert.deepEqual(problemsOf(env), INT_SETTINGS.map(({ name, min, max }) => `${name} must be an integer from ${min} to ${max} (got "x")`))
})

test('a region or endpoint problem names the variable the value came from', () => {
  assert.deepEqual(problemsOf({ AWS_DEFAULT_REGION: 'mars' }), ['AWS_DEFAULT_REGION must look like us-east-1 (got "mars")'])
  assert.deepEqual(problemsOf({ AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'mars' }), [], 'an unused fallback is not checked')
  assert.deepEqual(problemsOf({ AWS_ENDPOINT_URL: 'ftp://x' }), ['AWS_ENDPOINT_URL must be an http(s) URL (got "ftp://x")'])
})

test('cross-field rules name both variables', () => {
  assert.deepEqual(problemsOf({ REQUEST_TIMEOUT_MS: '1000', HEADERS_TIMEOUT_MS: '2000' }), ['HEADERS_TIMEOUT_MS (2000) must not exceed REQUEST_TIMEOUT_MS (1000)'])
  assert.deepEqual(problemsOf({ BODY_LIMIT_BYTES: '4096', BODIES_IN_FLIGHT_MAX_BYTES: '2048' }), ['BODIES_IN_FLIGHT_MAX_BYTES (2048) must be at least BODY_LIMIT_BYTES (4096)'])
  assert.match(problemsOf({ SHUTDOWN_DELAY_MS: '3000', SHUTDOWN_TIMEOUT_MS: '3000' }).join(), /^SHUTDOWN_DELAY_MS \(3000\) must be less than SHUTDOWN_TIMEOUT_MS \(3000\)/)
  assert.equal(loadConfig({ SHUTDOWN_TIMEOUT_MS: '3000' }).shutdownDelayMs, 1500, 'unset, the delay shrinks to half a short timeout')
})

test('start-up without any region exits non-zero and names AWS_REGION', () => {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && v !== undefined) env[k] = v
  // An empty config file so a developer's own ~/.aws profile cannot supply a region.
  env.AWS_CONFIG_FILE = '/dev/null'
  env.AWS_SHARED_CREDENTIALS_FILE = '/dev/null'
  env.PORT = '0'
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 })
  assert.equal(run.status, 1, run.stderr)
  assert.match(run.stderr, /AWS_REGION/)
})

test('invalid configuration exits non-zero before listening', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT, env: { ...process.env, AWS_REGION: 'us-east-1', PORT: '-1', HEARTBEAT_MS: 'often' }, encoding: 'utf8', timeout: 30_000,
  })
  assert.equal(run.status, 1)
  assert.match(run.stderr, /PORT must be/)
  assert.match(run.stderr, /HEARTBEAT_MS must be/)
})

test('the heap bound is on by default: PRESSURE_MAX_HEAP_PERCENT (80) of the heap the process can fill; PRESSURE_MAX_HEAP_BYTES replaces it; 0 turns it off', () => {
  const limit = processHeapLimit()
  assert.ok(limit > 0)
  assert.equal(loadConfig({}).pressure.maxHeapBytes, Math.floor(limit * 0.8))
  assert.equal(loadConfig({ PRESSURE_MAX_HEAP_PERCENT: '50' }).pressure.maxHeapBytes, Math.floor(limit * 0.5))
  assert.equal(loadConfig({ PRESSURE_MAX_HEAP_BYTES: '123456789' }).pressure.maxHeapBytes, 123456789)
  assert.equal(loadConfig({ PRESSURE_MAX_HEAP_PERCENT: '0' }).pressure.maxHeapBytes, 0)
  assert.deepEqual(problemsOf({ PRESSURE_MAX_HEAP_PERCENT: '101' }).length, 1)
})

test('the heap the process can fill is V8\'s old-generation limit, not heap_size_limit (which adds the young generation\'s reserve)', () => {
  const MiB = 1024 * 1024
  // heap_size_limit as measured on Node 24 with these arguments (host: 24 GiB; "cgroup": a
  // memory cgroup of that size), and the old-generation limit it holds.
  const measured: Array<[where: string, args: string[], heapSizeLimitMiB: number, oldMiB: number]> = [
    ['host', ['--max-old-space-size=96'], 288, 96],
    ['host', ['--max_old_space_size', '96'], 288, 96],
    ['host', ['--max-old-space-size=96', '--max-semi-space-size=8'], 120, 96],
    ['host', [], 4288, 4096],
    ['host', ['--max-semi-space-size=8'], 4120, 4096],
    ['cgroup 512 MiB', [], 259, 256],
    ['cgroup 512 MiB', ['--max-semi-space-size=8'], 280, 256],
    ['cgroup 512 MiB', ['--max-old-space-size=352'], 355, 352],
    ['cgroup 768 MiB', [], 432, 384],
    ['cgroup 1 GiB', [], 560, 512],
    ['cgroup 1.5 GiB', [], 864, 768],
    ['cgroup 2 GiB', [], 1120, 1024],
    ['cgroup 3 GiB', [], 1728, 1536],
    ['cgroup 4 GiB', [], 2240, 2048],
  ]
  for (const [where, args, heapSizeLimitMiB, oldMiB] of measured) {
    assert.equal(oldGenerationLimit(heapSizeLimitMiB * MiB, args) / MiB, oldMiB, `${where} ${args.join(' ')}`)
  }
})

test('the resident-memory bound: PRESSURE_MAX_RSS_PERCENT (90) of a container\'s memory limit, none without a limit; PRESSURE_MAX_RSS_BYTES replaces it; 0 turns it off', () => {
  const MiB = 1024 * 1024
  const values = (env: Env): ReturnType<typeof readSettings>['values'] => readSettings(env, []).values
  const heap = 4096 * MiB
  assert.equal(pressureConfig(values({}), heap, 512 * MiB).maxRssBytes, Math.floor(512 * MiB * 0.9))
  assert.equal(pressureConfig(values({ PRESSURE_MAX_RSS_PERCENT: '75' }), heap, 512 * MiB).maxRssBytes, 384 * MiB)
  assert.equal(pressureConfig(values({}), heap, 0).maxRssBytes, 0)
  assert.equal(pressureConfig(values({ PRESSURE_MAX_RSS_BYTES: '300000000' }), heap, 0).maxRssBytes, 300000000)
  assert.equal(pressureConfig(values({ PRESSURE_MAX_RSS_PERCENT: '0' }), heap, 512 * MiB).maxRssBytes, 0)
  assert.deepEqual(problemsOf({ PRESSURE_MAX_RSS_PERCENT: '101' }).length, 1)
})

test('the ended streams\' bound: ENDED_STREAMS_MAX_PERCENT (25) of the heap limit; ENDED_STREAMS_MAX_BYTES replaces it; 0 turns it off', () => {
  const MiB = 1024 * 1024
  const values = (env: Env): ReturnType<typeof readSettings>['values'] => readSettings(env, []).values
  assert.equal(endedStreamsMaxBytes(values({}), 256 * MiB), 64 * MiB)
  assert.equal(endedStreamsMaxBytes(values({ ENDED_STREAMS_MAX_PERCENT: '10' }), 1000 * MiB), 100 * MiB)
  assert.equal(endedStreamsMaxBytes(values({ ENDED_STREAMS_MAX_BYTES: '5000000' }), 256 * MiB), 5000000)
  assert.equal(endedStreamsMaxBytes(values({ ENDED_STREAMS_MAX_PERCENT: '0' }), 256 * MiB), 0)
  assert.equal(loadConfig({}).endedStreamsMaxBytes, Math.floor(processHeapLimit() / 4), 'the default, from this process\'s own heap limit')
  assert.deepEqual(problemsOf({ ENDED_STREAMS_MAX_PERCENT: '101' }).length, 1)
})
