// Retained sizes in a V8 heap snapshot (dominator tree, Cooper-Harvey-Kennedy), to see
// which per-stream objects hold the memory of a waiting stream (bench/hold-memory.ts
// writes the snapshots). Prints, for the classes that retain the most in all, their count
// and retained bytes, and what each one's dominated children are, by class.
//
//   node --max-old-space-size=8000 --import tsx bench/snapshot-retained.ts file.heapsnapshot [Class,Class...]
import { readFileSync } from 'node:fs'

interface Snapshot {
  snapshot: { meta: { node_fields: string[], node_types: [string[], ...unknown[]], edge_fields: string[], edge_types: [string[], ...unknown[]] }, node_count: number }
  nodes: number[]
  edges: number[]
  strings: string[]
}

const file = process.argv[2] ?? ''
const focus = (process.argv[3] !== undefined && !process.argv[3].startsWith('--') ? process.argv[3] : '').split(',').filter((s) => s !== '')
const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot
const meta = snap.snapshot.meta
const NW = meta.node_fields.length
const EW = meta.edge_fields.length
const nodeCount = snap.nodes.length / NW
const iType = meta.node_fields.indexOf('type')
const iName = meta.node_fields.indexOf('name')
const iSize = meta.node_fields.indexOf('self_size')
const iEdges = meta.node_fields.indexOf('edge_count')
const eType = meta.edge_fields.indexOf('type')
const eTo = meta.edge_fields.indexOf('to_node')
const nodeTypes = meta.node_types[0]
const edgeTypes = meta.edge_types[0]
const WEAK = edgeTypes.indexOf('weak')
const SHORTCUT = edgeTypes.indexOf('shortcut')

const firstEdge = new Uint32Array(nodeCount + 1)
for (let n = 0, e = 0; n < nodeCount; n++) {
  firstEdge[n] = e
  e += (snap.nodes[n * NW + iEdges] as number) * EW
}
firstEdge[nodeCount] = snap.edges.length

function label (n: number): string {
  const type = nodeTypes[snap.nodes[n * NW + iType] as number] ?? '?'
  const name = snap.strings[snap.nodes[n * NW + iName] as number] ?? '?'
  if (type === 'string' || type === 'concatenated string' || type === 'sliced string') return '(string)'
  if (type === 'object' || type === 'native' || type === 'closure') return `${type === 'object' ? '' : `${type} `}${name.slice(0, 50)}`
  return `(${type}) ${name.slice(0, 40)}`
}

const strong = (e: number): boolean => {
  const t = snap.edges[e + eType] as number
  return t !== WEAK && t !== SHORTCUT
}

// Postorder by iterative DFS from the root (node 0), strong edges only.
const order = new Int32Array(nodeCount).fill(-1) // postorder number
const post: number[] = []
{
  const visited = new Uint8Array(nodeCount)
  const stack: number[] = [0]
  const cursor = new Uint32Array(nodeCount)
  visited[0] = 1
  cursor[0] = firstEdge[0] as number
  while (stack.length > 0) {
    const n = stack[stack.length - 1] as number
    const end = firstEdge[n + 1] as number
    let pushed = false
    while ((cursor[n] as number) < end) {
      const e = cursor[n] as number
      cursor[n] = e + EW
      if (!strong(e)) continue
      const to = (snap.edges[e + eTo] as number) / NW
      if (visited[to] === 1) continue
      visited[to] = 1
      cursor[to] = firstEdge[to] as number
      stack.push(to)
      pushed = true
      break
    }
    if (!pushed) {
      stack.pop()
      order[n] = post.length
      post.push(n)
    }
  }
}

// Predecessors (reachable ones only), as CSR.
const predCount = new Uint32Array(nodeCount + 1)
for (let n = 0; n < nodeCount; n++) {
  if (order[n] === -1) continue
  for (let e = firstEdge[n] as number; e < (firstEdge[n + 1] as number); e += EW) {
    if (!strong(e)) continue
    const to = (snap.edges[e + eTo] as number) / NW
    predCount[to + 1] = (predCount[to + 1] as number) + 1
  }
}
for (let n = 0; n < nodeCount; n++) predCount[n + 1] = (predCount[n + 1] as number) + (predCount[n] as number)
const preds = new Uint32Array(predCount[nodeCount] as number)
{
  const fill = predCount.slice(0, nodeCount)
  for (let n = 0; n < nodeCount; n++) {
    if (order[n] === -1) continue
    for (let e = firstEdge[n] as number; e < (firstEdge[n + 1] as number); e += EW) {
      if (!strong(e)) continue
      const to = (snap.edges[e + eTo] as number) / NW
      preds[fill[to] as number] = n
      fill[to] = (fill[to] as number) + 1
    }
  }
}

// Dominators on postorder numbers.
const R = post.length
const idom = new Int32Array(R).fill(-1)
const rootPo = order[0] as number
idom[rootPo] = rootPo
let changed = true
while (changed) {
  changed = false
  for (let i = R - 1; i >= 0; i--) {
    if (i === rootPo) continue
    const n = post[i] as number
    let best = -1
    for (let p = predCount[n] as number; p < (predCount[n + 1] as number); p++) {
      const q = order[preds[p] as number] as number
      if (q === -1 || idom[q] === -1) continue
      if (best === -1) { best = q; continue }
      let a = q
      let b = best
      while (a !== b) {
        while (a < b) a = idom[a] as number
        while (b < a) b = idom[b] as number
      }
      best = a
    }
    if (best !== -1 && idom[i] !== best) { idom[i] = best; changed = true }
  }
}

// Retained sizes: children before parents in postorder.
const retained = new Float64Array(R)
for (let i = 0; i < R; i++) retained[i] = snap.nodes[(post[i] as number) * NW + iSize] as number
for (let i = 0; i < R; i++) if (i !== rootPo) retained[idom[i] as number] = (retained[idom[i] as number] as number) + (retained[i] as number)

// By class: instances, retained in all (an instance inside another of its class is not counted twice).
const byClass = new Map<string, { count: number, retained: number, children: Map<string, number> }>()
for (let i = 0; i < R; i++) {
  const n = post[i] as number
  const name = label(n)
  let p = idom[i] as number
  let nested = false
  while (p !== rootPo) {
    if (label(post[p] as number) === name) { nested = true; break }
    p = idom[p] as number
  }
  if (nested) continue
  const c = byClass.get(name) ?? { count: 0, retained: 0, children: new Map() }
  c.count++
  c.retained += retained[i] as number
  byClass.set(name, c)
}
// Children of the focus classes (and of the largest ones).
const largest = [...byClass.entries()].sort((a, b) => b[1].retained - a[1].retained)
const wanted = new Set(focus.length > 0 ? focus : largest.slice(0, 25).map(([k]) => k))
for (let i = 0; i < R; i++) {
  if (i === rootPo) continue
  const parent = label(post[idom[i] as number] as number)
  const c = byClass.get(parent)
  if (c === undefined || !wanted.has(parent)) continue
  const name = label(post[i] as number)
  c.children.set(name, (c.children.get(name) ?? 0) + (retained[i] as number))
}

let out = `${nodeCount} nodes, ${R} reachable, ${((retained[rootPo] as number) / 2 ** 20).toFixed(1)} MiB retained by the root\n`
out += 'count  retained MiB  bytes each  class\n'
for (const [name, c] of largest.slice(0, 60)) {
  out += `${String(c.count).padStart(7)}  ${(c.retained / 2 ** 20).toFixed(2).padStart(10)}  ${(c.retained / c.count).toFixed(0).padStart(9)}  ${name}\n`
}
for (const name of wanted) {
  const c = byClass.get(name)
  if (c === undefined) continue
  out += `\n${name}: ${c.count} x ${(c.retained / c.count).toFixed(0)} bytes; dominated children per instance:\n`
  for (const [child, bytes] of [...c.children.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    out += `  ${(bytes / c.count).toFixed(0).padStart(8)}  ${child}\n`
  }
}
process.stdout.write(out)

/** The name of the edge from node `from` to node `to` (node indexes, not offsets). */
function edgeName (from: number, to: number): string {
  const iNameOrIndex = meta.edge_fields.indexOf('name_or_index')
  for (let e = firstEdge[from] as number; e < (firstEdge[from + 1] as number); e += EW) {
    if ((snap.edges[e + eTo] as number) / NW !== to) continue
    const t = edgeTypes[snap.edges[e + eType] as number]
    const v = snap.edges[e + iNameOrIndex] as number
    return t === 'element' || t === 'hidden' ? `[${v}]` : (snap.strings[v] ?? '?')
  }
  return '?'
}

// --tree Class,Class: the dominator subtree of one instance of each (the one with the median
// retained size), with the property names that lead there.
const treeArg = process.argv.indexOf('--tree')
if (treeArg !== -1) {
  const children = new Map<number, number[]>()
  for (let i = 0; i < R; i++) {
    if (i === rootPo) continue
    const p = idom[i] as number
    const list = children.get(p) ?? []
    list.push(i)
    children.set(p, list)
  }
  const print = (i: number, depth: number, maxDepth: number, name: string): void => {
    const n = post[i] as number
    process.stdout.write(`${'  '.repeat(depth)}${String(retained[i]).padStart(6)} ${name}: ${label(n)} (self ${snap.nodes[n * NW + iSize] as number})\n`)
    if (depth >= maxDepth) return
    const kids = (children.get(i) ?? []).sort((a, b) => (retained[b] as number) - (retained[a] as number))
    for (const k of kids.slice(0, 12)) if ((retained[k] as number) >= 96) print(k, depth + 1, maxDepth, edgeName(n, post[k] as number))
  }
  for (const cls of (process.argv[treeArg + 1] ?? '').split(',')) {
    const instances: number[] = []
    for (let i = 0; i < R; i++) if (label(post[i] as number) === cls) instances.push(i)
    instances.sort((a, b) => (retained[a] as number) - (retained[b] as number))
    const pick = instances[Math.floor(instances.length * 0.75)]
    if (pick === undefined) continue
    process.stdout.write(`\n=== ${cls} (${instances.length} instances; retained p25/p50/p75 ${retained[instances[Math.floor(instances.length / 4)] as number]}/${retained[instances[Math.floor(instances.length / 2)] as number]}/${retained[pick]}) ===\n`)
    print(pick, 0, Number(process.env['TREE_DEPTH'] ?? 5), cls)
  }
}

// --retainers Label: for a few instances that the root dominates directly (shared by
// several owners), one retainer chain each, to see who holds them.
const retArg = process.argv.indexOf('--retainers')
if (retArg !== -1) {
  const via = edgeName
  for (const arg of (process.argv[retArg + 1] ?? '').split(',')) {
    // A trailing * takes every instance, not only those the root dominates.
    const every = arg.endsWith('*')
    const cls = every ? arg.slice(0, -1) : arg
    const hits: number[] = []
    for (let i = 0; i < R; i++) if ((every || idom[i] === rootPo) && label(post[i] as number) === cls) hits.push(i)
    hits.sort((a, b) => (retained[b] as number) - (retained[a] as number))
    process.stdout.write(`\n=== ${cls}: ${hits.length} dominated by the root, ${(hits.reduce((s, i) => s + (retained[i] as number), 0) / 2 ** 20).toFixed(2)} MiB ===\n`)
    const sample = [...hits.slice(0, Number(process.env['SAMPLE_TOP'] ?? 1)), hits[Math.floor(hits.length / 3)], hits[Math.floor(hits.length / 2)], hits[Math.floor(hits.length * 0.8)]].filter((x): x is number => x !== undefined)
    for (const i of sample) {
      let n = post[i] as number
      let line = `${retained[i]} ${label(n)}`
      const seen = new Set<number>([n])
      for (let hop = 0; hop < 10; hop++) {
        let found = -1
        for (let p = predCount[n] as number; p < (predCount[n + 1] as number); p++) {
          const q = preds[p] as number
          if (!seen.has(q)) { found = q; break }
        }
        if (found === -1) break
        line += ` <-${via(found, n)}- ${label(found)}`
        seen.add(found)
        n = found
      }
      process.stdout.write(`${line}\n`)
    }
  }
}
