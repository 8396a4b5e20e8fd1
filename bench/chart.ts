// The chart beside BENCHMARKS.md: grouped bars, one group per concurrency, one bar per
// path; left tokens/s, right p99 added latency per token (log scale). Plain SVG text.
import type { RunGroup } from './bench.js'
import type { PathId } from './paths/types.js'

const COLORS: Record<PathId, string> = {
  'obvious-relay': '#9e9e9e',
  'sdk-direct': '#4c78a8',
  proxy: '#e45756',
  portkey: '#72b7b2',
  'ai-sdk': '#b279a2',
  'proxy-openai': '#f58518',
  'proxy-ui-chat': '#eeca3b',
  'proxy-http1': '#c2410c',
}
const PANEL_W = 460
const PANEL_H = 300
const PAD = { left: 64, right: 12, top: 36, bottom: 44 }

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const fmt = (v: number): string => v >= 10_000 ? `${Math.round(v / 1000)}k` : v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v >= 10 ? String(Math.round(v)) : v.toFixed(v >= 1 ? 1 : 2)

interface Panel { title: string, value: (g: RunGroup) => number | undefined, log: boolean }

function panel (x0: number, p: Panel, groups: RunGroup[], paths: PathId[], cs: number[]): string {
  const values = groups.map(p.value).filter((v): v is number => v !== undefined && Number.isFinite(v) && v > 0)
  const max = Math.max(1, ...values)
  const min = p.log ? Math.max(0.01, Math.min(...values, max) / 2) : 0
  const plotW = PANEL_W - PAD.left - PAD.right
  const plotH = PANEL_H - PAD.top - PAD.bottom
  const y = (v: number): number => {
    const f = p.log ? (Math.log10(v) - Math.log10(min)) / (Math.log10(max * 1.2) - Math.log10(min)) : v / (max * 1.1)
    return PAD.top + plotH * (1 - Math.min(1, Math.max(0, f)))
  }
  const out: string[] = [`<g transform="translate(${x0},0)">`, `<text x="${PANEL_W / 2}" y="20" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`]
  // Grid: 5 linear ticks, or each power of ten.
  const ticks = p.log
    ? Array.from({ length: 8 }, (_, i) => 10 ** (Math.floor(Math.log10(min)) + i)).filter((t) => t >= min && t <= max * 1.2)
    : Array.from({ length: 5 }, (_, i) => (max * 1.1 * (i + 1)) / 5)
  for (const t of ticks) {
    out.push(`<line x1="${PAD.left}" x2="${PANEL_W - PAD.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e0e0e0"/>`,
      `<text x="${PAD.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" font-size="11">${fmt(t)}</text>`)
  }
  const groupW = plotW / cs.length
  const barW = Math.min(28, (groupW - 16) / paths.length)
  cs.forEach((c, gi) => {
    const gx = PAD.left + gi * groupW + (groupW - barW * paths.length) / 2
    paths.forEach((path, pi) => {
      const g = groups.find((r) => r.path === path && r.concurrency === c)
      const v = g !== undefined ? p.value(g) : undefined
      const x = gx + pi * barW
      if (v === undefined || !Number.isFinite(v) || v <= 0) {
        out.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${PAD.top + plotH - 4}" text-anchor="middle" font-size="9">n/a</text>`)
        return
      }
      const top = y(v)
      out.push(`<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(PAD.top + plotH - top).toFixed(1)}" fill="${COLORS[path]}"><title>${esc(`${g?.label ?? path}, C=${c}: ${fmt(v)}`)}</title></rect>`,
        `<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(top - 3).toFixed(1)}" text-anchor="middle" font-size="9">${fmt(v)}</text>`)
    })
    out.push(`<text x="${(PAD.left + gi * groupW + groupW / 2).toFixed(1)}" y="${PANEL_H - PAD.bottom + 18}" text-anchor="middle" font-size="12">C = ${c}</text>`)
  })
  out.push(`<line x1="${PAD.left}" x2="${PANEL_W - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" stroke="#333"/>`, '</g>')
  return out.join('\n')
}

/** Headline figures (the longest streams) per path and concurrency, as an SVG document. */
export function renderChart (groups: RunGroup[], subtitle: string): string {
  const paths = [...new Set(groups.map((g) => g.path))]
  const cs = [...new Set(groups.map((g) => g.concurrency))].sort((a, b) => a - b)
  const width = PANEL_W * 2 + 20
  const legendY = PANEL_H + 8
  const legend = paths.map((path, i) => {
    const label = groups.find((g) => g.path === path)?.label ?? path
    const x = 20 + (i % 3) * 300
    const yy = legendY + Math.floor(i / 3) * 18
    return `<rect x="${x}" y="${yy}" width="12" height="12" fill="${COLORS[path]}"/><text x="${x + 18}" y="${yy + 10}" font-size="12">${esc(label)}</text>`
  })
  const height = legendY + Math.ceil(paths.length / 3) * 18 + 24
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    panel(0, { title: 'tokens/s received (higher is better)', value: (g) => g.runs.at(-1)?.tokensPerS, log: false }, groups, paths, cs),
    panel(PANEL_W + 20, { title: 'p99 added latency per token, ms (log; lower is better)', value: (g) => g.runs.at(-1)?.addedMs.p99, log: true }, groups, paths, cs),
    ...legend,
    `<text x="20" y="${height - 8}" font-size="11" fill="#555">${esc(subtitle)}</text>`,
    '</svg>',
    '',
  ].join('\n')
}
