// Reads V8 heap snapshots and lists what they hold by type and constructor name: count
// and self size per held stream, largest first, as the difference between a snapshot
// with N streams held and one taken idle (bench/hold-memory.ts). Strings are grouped by
// their first characters, so a string made per stream shows as one line.
//
//   node --import tsx bench/snapshot-summary.ts held.heapsnapshot N [idle.heapsnapshot]
import { readFileSync } from 'node:fs'

interface Snapshot {
  snapshot: { meta: { node_fields: string[], node_types: [string[], ...unknown[]] } }
  nodes: number[]
  strings: string[]
}

type Groups = Map<string, { count: number, bytes: number }>

function group (file: string): { groups: Groups, strings: Groups, total: number } {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot
  const fields = snap.snapshot.meta.node_fields
  const types = snap.snapshot.meta.node_types[0]
  const width = fields.length
  const iType = fields.indexOf('type')
  const iName = fields.indexOf('name')
  const iSize = fields.indexOf('self_size')
  const groups: Groups = new Map()
  const strings: Groups = new Map()
  const add = (map: Groups, key: string, size: number): void => {
    const g = map.get(key) ?? { count: 0, bytes: 0 }
    g.count++
    g.bytes += size
    map.set(key, g)
  }
  let total = 0
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType] as number] ?? '?'
    let name = snap.strings[snap.nodes[i + iName] as number] ?? '?'
    const size = snap.nodes[i + iSize] as number
    total += size
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') {
      add(strings, `${type}: ${JSON.stringify(name.slice(0, 50))}`, size)
      name = '(strings)'
    } else if (type === 'number') name = '(heap numbers)'
    else if (name.length > 60) name = `${name.slice(0, 57)}...`
    add(groups, `${type} ${name}`, size)
  }
  return { groups, strings, total }
}

function diff (held: Groups, idle: Groups | undefined): Array<[string, { count: number, bytes: number }]> {
  const out: Array<[string, { count: number, bytes: number }]> = []
  for (const [key, g] of held) {
    const base = idle?.get(key)
    out.push([key, { count: g.count - (base?.count ?? 0), bytes: g.bytes - (base?.bytes ?? 0) }])
  }
  return out.sort((a, b) => b[1].bytes - a[1].bytes)
}

export function summarizeSnapshot (file: string, perN: number, idleFile?: string, top = 50): string {
  const held = group(file)
  const idle = idleFile !== undefined ? group(idleFile) : undefined
  const total = held.total - (idle?.total ?? 0)
  let out = `heap snapshot: ${(total / 2 ** 20).toFixed(1)} MiB of objects${idle !== undefined ? ' more than idle' : ''}, ${(total / perN / 1024).toFixed(2)} KiB per stream\n`
  const table = (rows: Array<[string, { count: number, bytes: number }]>): void => {
    out += 'bytes/stream  count/stream  total MiB  type name\n'
    for (const [key, g] of rows) {
      out += `${(g.bytes / perN).toFixed(0).padStart(12)}  ${(g.count / perN).toFixed(2).padStart(12)}  ${(g.bytes / 2 ** 20).toFixed(2).padStart(9)}  ${key}\n`
    }
  }
  table(diff(held.groups, idle?.groups).slice(0, top))
  out += 'strings by their first characters:\n'
  table(diff(held.strings, idle?.strings).slice(0, 30))
  return out
}

if (process.argv[1]?.endsWith('snapshot-summary.ts') === true) {
  process.stdout.write(summarizeSnapshot(process.argv[2] ?? '', Number(process.argv[3] ?? 1), process.argv[4]))
}
