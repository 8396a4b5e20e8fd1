// The deployment files (README "Deploy"): the IAM policy grants exactly the one Bedrock
// action the proxy calls (ConverseStream, authorised as InvokeModelWithResponseStream;
// /v1/converse gathers the same call), on named models and inference profiles only; a
// cross-region inference profile also needs its foundation models in every region it
// routes to. deploy/nginx.conf itself runs in test/nginx.test.ts.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

const read = (file: string): string => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8')

interface Statement { Sid?: string, Effect: string, Action: string | string[], Resource: string | string[], Condition?: unknown }
const asList = (value: string | string[]): string[] => Array.isArray(value) ? value : [value]

test('deploy/iam-policy.json parses and allows only InvokeModelWithResponseStream, on named Bedrock resources', () => {
  const policy = JSON.parse(read('deploy/iam-policy.json')) as { Version: string, Statement: Statement[] }
  assert.equal(policy.Version, '2012-10-17')
  assert.ok(policy.Statement.length > 0)
  const actions = new Set<string>()
  const resources: string[] = []
  for (const statement of policy.Statement) {
    assert.equal(statement.Effect, 'Allow')
    for (const action of asList(statement.Action)) actions.add(action)
    resources.push(...asList(statement.Resource))
  }
  assert.deepEqual([...actions].sort(), ['bedrock:InvokeModelWithResponseStream'])
  for (const resource of resources) {
    assert.match(resource, /^arn:aws:bedrock:[a-z0-9-]+:(\d{12})?:(foundation-model|inference-profile|application-inference-profile)\/[^*]+$/, `${resource}: a named model or profile, no wildcard`)
  }
  // The inference profile and the foundation models it routes to, in each region.
  const profile = resources.find(r => r.includes(':inference-profile/'))
  assert.ok(profile !== undefined)
  const modelId = (profile.split('/')[1] ?? '').replace(/^(us|eu|apac|global)\./, '')
  const regions = resources.filter(r => r.endsWith(`:foundation-model/${modelId}`)).map(r => r.split(':')[3])
  assert.ok(regions.length >= 2, `foundation model ${modelId} in the regions the profile routes to: ${regions.join(', ')}`)
})

test('README: the Deploy section covers the proxy, probes, nginx, load balancers, IAM and the front end', () => {
  const readme = read('README.md')
  const deploy = readme.slice(readme.indexOf('\n## Deploy\n'), readme.indexOf('\n## ', readme.indexOf('\n## Deploy\n') + 1))
  assert.ok(deploy.length > 100, 'a ## Deploy section')
  for (const needle of ['deploy/nginx.conf', 'deploy/iam-policy.json', '/healthz', '/readyz', 'SHUTDOWN_DELAY_MS', 'HEARTBEAT_MS',
    'bedrock:InvokeModelWithResponseStream', 'PUBLIC_ORIGIN', 'TRUST_PROXY', 'CORS_ORIGINS', 'AbortController', 'EventSource']) {
    assert.ok(deploy.includes(needle), `Deploy mentions ${needle}`)
  }
  assert.ok(!readme.includes('\n## Docker\n'), 'the Docker section lives inside Deploy now')
})
