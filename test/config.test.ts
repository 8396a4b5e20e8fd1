// Configuration: validated once, every problem reported at once, and .env.example in
// sync with the code (same names, same order).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { ConfigError, DEFAULTS, loadConfig } from '../src/config.js'

const ROOT = new URL('../', import.meta.url)

/** Variable names in src/config.ts, in the order the code reads them. */
function namesInCode (): string[] {
  const source = readFileSync(new URL('src/config.ts', ROOT), 'utf8')
  return [...source.matchAll(/\b(?:str|int|bool|list)\('([A-Z0-9_]+)'/g)].map(m => m[1] as string)
    .filter((name, i, all) => all.indexOf(name) === i)
}

function namesInExample (): string[] {
  const text = readFileSync(new URL('.env.example', ROOT), 'utf8')
  return [...text.matchAll(/^#?([A-Z][A-Z0-9_]+)=/gm)].map(m => m[1] as string)
}

test('.env.example lists every variable the code reads, in the same order, each with a comment', () => {
  assert.deepEqual(namesInExample(), namesInCode())
  const lines = readFileSync(new URL('.env.example', ROOT), 'utf8').split('\n')
  for (const name of namesInCode()) {
    const i = lines.findIndex(l => l.startsWith(`${name}=`) || l.startsWith(`#${name}=`))
    const before = lines.slice(0, i).reverse()
    const commented = before.findIndex(l => l.startsWith('# ')) < before.findIndex(l => l === '') || before.findIndex(l => l === '') === -1
    assert.ok(commented, `${name} has a comment above it`)
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
  for (const name of namesInCode()) assert.ok(readme.includes(`\`${name}\``), `README mentions ${name}`)
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
