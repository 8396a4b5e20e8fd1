// How much heap this process can fill before V8 kills it ("JavaScript heap out of memory"):
// the old generation's limit. The default heap bound (PRESSURE_MAX_HEAP_PERCENT) is a share
// of it. V8 reports only heap_size_limit, which adds the young generation's reserve
// (three semi-spaces) to the old generation's limit; on a large host that reserve is 192 MiB,
// so a share of heap_size_limit can lie past the point where the process dies
// (--max-old-space-size=96 gives a heap_size_limit of 288 MiB there). Measured on Node 24
// (V8 13.6, 64-bit), host and memory cgroups from 128 MiB to 16 GiB:
// - --max-old-space-size=N sets the old generation's limit to exactly N MiB;
// - --max-semi-space-size=S makes the young reserve exactly 3·S MiB;
// - without them both come from the memory Node sees (the container's limit, if lower): the
//   semi-space is old/256 for an old generation of up to 256 MiB, else old/32 rounded up to a
//   power of two, within 1 to 64 MiB (a 512 MiB container: 256 + 3 = 259 MiB; 1 GiB:
//   512 + 48; a large host: 4096 + 192).
const MiB = 1024 * 1024
const SEMI_SPACE_SIZES_MIB = [1, 2, 4, 8, 16, 32, 64]

/** The last value of a V8 size flag (in MiB) among Node's arguments, in either spelling. */
function flagMiB (args: readonly string[], name: string): number | undefined {
  const spellings = [name, name.replaceAll('-', '_')].map(n => `--${n}`)
  let value: number | undefined
  for (const [i, arg] of args.entries()) {
    for (const flag of spellings) {
      const text = arg === flag ? args[i + 1] : arg.startsWith(`${flag}=`) ? arg.slice(flag.length + 1) : undefined
      const n = text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined
      if (n !== undefined && n > 0) value = n
    }
  }
  return value
}

/** V8's own semi-space size for an old generation it sized itself (see the rule above). */
function defaultSemiSpaceMiB (oldMiB: number): number {
  const semi = oldMiB <= 256 ? oldMiB / 256 : 2 ** Math.ceil(Math.log2(oldMiB / 32))
  return Math.min(64, Math.max(1, semi))
}

/**
 * The old generation's limit in bytes.
 * @param heapSizeLimit V8's heap_size_limit (getHeapStatistics()).
 * @param nodeArgs Node's own arguments: process.execArgv, then NODE_OPTIONS split on spaces.
 */
export function oldGenerationLimit (heapSizeLimit: number, nodeArgs: readonly string[]): number {
  const oldMiB = flagMiB(nodeArgs, 'max-old-space-size')
  if (oldMiB !== undefined) return Math.min(oldMiB * MiB, heapSizeLimit)
  const semiMiB = flagMiB(nodeArgs, 'max-semi-space-size')
  if (semiMiB !== undefined) return Math.max(0, heapSizeLimit - 3 * semiMiB * MiB)
  const limitMiB = heapSizeLimit / MiB
  const consistent = SEMI_SPACE_SIZES_MIB.find(s => limitMiB - 3 * s > 0 && defaultSemiSpaceMiB(limitMiB - 3 * s) === s)
  // A V8 that sizes its heap some other way: assume the largest reserve, the safe side.
  return Math.max(0, heapSizeLimit - 3 * (consistent ?? 64) * MiB)
}
