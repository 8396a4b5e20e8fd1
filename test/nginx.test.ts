// deploy/nginx.conf, run for real: Debian's nginx as this test's child process, on a free
// loopback port, in front of the proxy. Events arrive one by one (nothing buffered, never
// gzipped), and the page's Stop (DELETE with its own Origin) works through it
// (issue 8, item 4: nginx rewrites Host, FIELD-NOTES 23).
// Skipped with the reason when nginx is missing, unless REQUIRE_NGINX=1 (.ci/run sets it).
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test, type TestContext } from 'node:test'
import { build } from './helper.js'
import { bearer, KEY_A } from './security-helper.js'
import { freePort } from './support/net.js'
import { openStream } from './support/sse.js'
import { eventually } from './support/wait.js'

const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx'
const CONF = readFileSync(new URL('../deploy/nginx.conf', import.meta.url), 'utf8')

function nginxTestOptions (): { skip?: string } {
  if (spawnSync(NGINX, ['-v']).status === 0) return {}
  if (process.env.REQUIRE_NGINX === '1') throw new Error(`REQUIRE_NGINX=1 but ${NGINX} is not installed (apt-get install nginx-light)`)
  return { skip: `${NGINX} not found: install nginx-light (or nginx) to run the reverse-proxy test` }
}

/** deploy/nginx.conf with its two marked lines pointed at the proxy and a free port. */
function templateConf (upstream: string, listen: string): string {
  let substituted = 0
  const conf = CONF.split('\n').map(line => {
    if (!/;\s+# substituted by the test/.test(line)) return line
    substituted++
    if (/^\s*server\s/.test(line)) return line.replace(/server\s+\S+;/, `server ${upstream};`)
    if (/^\s*listen\s/.test(line)) return line.replace(/listen\s+\S+;/, `listen ${listen};`)
    throw new Error(`unexpected marked line: ${line}`)
  }).join('\n')
  assert.equal(substituted, 2, 'deploy/nginx.conf marks exactly the upstream and listen lines')
  return conf
}

async function startNginx (t: TestContext, upstream: string): Promise<string> {
  const prefix = await mkdtemp(path.join(tmpdir(), 'bsp-nginx-'))
  t.after(() => rm(prefix, { recursive: true, force: true }))
  const port = await freePort()
  await writeFile(path.join(prefix, 'bedrock-sse-proxy.conf'), templateConf(upstream, `127.0.0.1:${port}`))
  // A minimal main file around the repo's server block: everything in the temp prefix.
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(kind => `    ${kind}_temp_path ${path.join(prefix, kind)};`).join('\n')
  await writeFile(path.join(prefix, 'nginx.conf'), `
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
pid ${path.join(prefix, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 64; }
http {
    access_log off;
${temp}
    include ${path.join(prefix, 'bedrock-sse-proxy.conf')};
}
`)
  const child = spawn(NGINX, ['-p', prefix, '-e', 'stderr', '-c', path.join(prefix, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8') })
  const exited = new Promise<void>(resolve => child.on('exit', () => resolve()))
  t.after(async () => {
    if (child.exitCode === null) child.kill('SIGTERM')
    await exited
  })
  const url = `http://127.0.0.1:${port}`
  await eventually(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200, 10_000)
    .catch(() => { throw new Error(`nginx did not proxy /healthz (exit ${child.exitCode}):\n${stderr}`) })
  return url
}

test('behind deploy/nginx.conf: events arrive one by one, unbuffered and uncompressed, and the page\'s Stop works', { ...nginxTestOptions(), timeout: 60_000 }, async (t) => {
  // TRUST_PROXY=loopback, as the file's header says: nginx forwards the public host.
  const h = await build(t, { env: { API_KEYS: KEY_A, TRUST_PROXY: 'loopback' } })
  h.secrets.add(KEY_A)
  const publicUrl = await startNginx(t, new URL(h.url).host)
  // Text first, then the model goes quiet: the text can only arrive unbuffered.
  h.emulator.enqueue({
    steps: [
      { event: { messageStart: { role: 'assistant' } } },
      { event: { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Hello' } } } },
      { hang: true },
    ],
    frameDelayMs: 0,
  })
  // What the demo page sends from its own origin, the public one.
  const page = { origin: publicUrl, ...bearer(KEY_A) }
  const stream = await openStream(`${publicUrl}/v1/converse-stream?prompt=hi`, { headers: { ...page, 'accept-encoding': 'gzip' } })
  t.after(() => stream.close())
  assert.equal(stream.status, 200)
  assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/)
  assert.equal(stream.headers.get('content-encoding'), null, 'never compressed')
  const { streamId } = (await stream.until('start')).data as { streamId: string }
  assert.deepEqual((await stream.until('text')).data, { index: 0, text: 'Hello' })
  assert.equal(h.emulator.requests[0]?.outcome, 'pending', 'the text arrived while the upstream call was still open')

  const stop = await fetch(`${publicUrl}/v1/streams/${streamId}`, { method: 'DELETE', headers: page })
  assert.equal(stop.status, 202, await stop.clone().text())
  assert.deepEqual(await stop.json(), { streamId, status: 'cancelling' })
  assert.equal(await h.emulator.waitForOutcome(1), 'aborted')
  const rest = await stream.rest()
  assert.deepEqual(rest.map(e => e.event), ['error', 'usage', 'done'])
  assert.equal((rest[0]?.data as { code: string }).code, 'cancelled')
})
