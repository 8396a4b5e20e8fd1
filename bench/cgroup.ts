// A memory cgroup for a child process: the proxy runs under a memory limit as in a
// container, where Node sizes V8's heap from the limit and the kernel kills the process
// past it. Root only; cgroup v2, else v1's memory controller.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'

const MiB = 1024 * 1024

export interface MemoryCgroup {
  dir: string
  /** Wraps a command so that it joins the cgroup before it starts (exec: same pid). */
  wrap: (command: string, args: readonly string[]) => { command: string, args: string[] }
  /** The kernel's OOM kills in this cgroup so far. */
  oomKills: () => number
  /** The kernel's own account of the events, for a report. */
  events: () => string
  remove: () => void
}

/** Why no memory cgroup can be made here, or undefined when one can. */
export function cgroupUnavailable (): string | undefined {
  if (process.getuid?.() !== 0) return 'memory cgroups need root'
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    return readFileSync('/sys/fs/cgroup/cgroup.subtree_control', 'utf8').includes('memory') ? undefined : 'the cgroup v2 memory controller is not enabled'
  }
  return existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes') ? undefined : 'no cgroup memory controller is mounted'
}

export function memoryCgroup (mib: number, name: string): MemoryCgroup {
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers')
  const dir = v2 ? `/sys/fs/cgroup/${name}-${process.pid}` : `/sys/fs/cgroup/memory/${name}-${process.pid}`
  mkdirSync(dir)
  writeFileSync(`${dir}/${v2 ? 'memory.max' : 'memory.limit_in_bytes'}`, String(mib * MiB))
  if (v2) writeFileSync(`${dir}/memory.swap.max`, '0')
  const eventsFile = `${dir}/${v2 ? 'memory.events' : 'memory.oom_control'}`
  const events = (): string => existsSync(eventsFile) ? readFileSync(eventsFile, 'utf8') : ''
  return {
    dir,
    wrap: (command, args) => ({ command: 'sh', args: ['-c', `echo $$ > ${dir}/cgroup.procs && exec "$0" "$@"`, command, ...args] }),
    oomKills: () => Number(/oom_kill (\d+)/.exec(events())?.[1] ?? 0),
    events: () => events().replace(/\n/g, ' ').trim(),
    remove: () => { if (existsSync(dir)) rmdirSync(dir) },
  }
}
