// The benchmark harness (issue 10) in a tiny mode: it runs end to end and its result is
// well formed. No timing is asserted: numbers depend on the machine.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runBench } from '../bench/bench.js'
import { renderChart } from '../bench/chart.js'
import { renderSection, updateBenchmarksMd, EARLIER, SECTION_START } from '../bench/report.js'

test('bench harness, tiny: our proxy (its three surfaces) and the obvious relay, every stream complete, tokens counted', { timeout: 120_000 }, async () => {
  const result = await runBench({
    paths: ['proxy', 'proxy-openai', 'proxy-ui-chat', 'obvious-relay'],
    concurrency: [2],
    lengths: [3],
    frameDelayMs: 5,
    warmupMs: 200,
    measureMs: 800,
    drainMs: 3000,
    featuresConcurrency: undefined,
    hold: undefined,
    rounds: 2,
    log: () => {},
  })
  assert.deepEqual(result.failures, [])
  assert.deepEqual(result.groups.map((g) => g.path), ['proxy', 'proxy-openai', 'proxy-ui-chat', 'obvious-relay'])
  for (const group of result.groups) {
    assert.equal(group.runs.length, 1)
    const run = group.runs[0]
    assert.ok(run !== undefined)
    assert.ok(run.streamsStarted > 0, `${group.path}: streams started`)
    assert.equal(run.incomplete, 0, `${group.path}: ${JSON.stringify(run.errors)}`)
    assert.equal(run.streamsOk, run.streamsStarted)
    assert.ok(run.tokens > 0, `${group.path}: tokens counted`)
    assert.equal(run.addedMs.count, run.tokens)
    // Every path here calls the emulator over HTTP/2: each token's wait in the emulator is
    // known, and not counted as added latency.
    assert.equal(run.emulatorWaitMs.count, run.tokens, `${group.path}: emulator waits`)
    assert.equal(run.addedFromStampMs.count, run.tokens)
    assert.ok(run.emulatorWaitMs.p50 >= 0 && run.addedFromStampMs.p50 >= run.addedMs.p50)
    assert.ok(Number.isFinite(run.addedMs.p50) && Number.isFinite(run.ttftMs.p50) && Number.isFinite(run.ttfbMs.p50))
    assert.ok(run.rssBytes.idle > 0 && run.rssBytes.peak > 0)
    assert.equal(group.fit, undefined) // one stream length: no fit
  }
  // Interleaved rounds: every path again at the top C, one after the other, in each round.
  assert.deepEqual(result.rounds.map((r) => `${r.round} ${r.path}`),
    [1, 2].flatMap((round) => ['proxy', 'proxy-openai', 'proxy-ui-chat', 'obvious-relay'].map((path) => `${round} ${path}`)))
  for (const { path, run } of result.rounds) assert.ok(run.tokens > 0 && run.incomplete === 0, `round of ${path}: ${JSON.stringify(run.errors)}`)
  const section = renderSection(result, 'benchmarks.svg')
  assert.ok(section.includes('| this proxy | 2 |'))
  assert.ok(section.includes('### 2 interleaved rounds at C=2 (3-token streams)'))
  const rounds = section.slice(section.indexOf('interleaved rounds'))
  const row = (label: string): string[] => rounds.split('\n').find((l) => l.startsWith(`| ${label} | `))?.split(' | ') ?? []
  // The baseline against itself in the same round is exactly 1; no SDK-direct path ran.
  assert.equal(row('obvious relay (baseline)')[5], '1.00x (1.00x-1.00x)')
  assert.match(row('this proxy')[5] ?? '', /^\d+\.\d\dx \(\d+\.\d\dx-\d+\.\d\dx\)$/)
  assert.equal(row('this proxy')[6], 'n/a')
  assert.ok(renderChart(result.groups, 'smoke').startsWith('<svg'))
  // A second run moves the first one under "Earlier measurements".
  const once = updateBenchmarksMd('# Benchmarks\n\n## old run\n\nold table\n', '# Benchmarks', section)
  const twice = updateBenchmarksMd(once, '# Benchmarks', section)
  assert.equal(twice.split(SECTION_START).length, 2)
  assert.ok(twice.indexOf(EARLIER) < twice.indexOf('old table'))
  assert.ok(twice.slice(twice.indexOf(EARLIER)).includes('issue 10 benchmark'))
})
