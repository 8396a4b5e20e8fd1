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
    assert.ok(Number.isFinite(run.addedMs.p50) && Number.isFinite(run.ttftMs.p50) && Number.isFinite(run.ttfbMs.p50))
    assert.ok(run.rssBytes.idle > 0 && run.rssBytes.peak > 0)
    assert.equal(group.fit, undefined) // one stream length: no fit
  }
  const section = renderSection(result, 'benchmarks.svg')
  assert.ok(section.includes('| this proxy | 2 |'))
  assert.ok(renderChart(result.groups, 'smoke').startsWith('<svg'))
  // A second run moves the first one under "Earlier measurements".
  const once = updateBenchmarksMd('# Benchmarks\n\n## old run\n\nold table\n', '# Benchmarks', section)
  const twice = updateBenchmarksMd(once, '# Benchmarks', section)
  assert.equal(twice.split(SECTION_START).length, 2)
  assert.ok(twice.indexOf(EARLIER) < twice.indexOf('old table'))
  assert.ok(twice.slice(twice.indexOf(EARLIER)).includes('issue 10 benchmark'))
})
