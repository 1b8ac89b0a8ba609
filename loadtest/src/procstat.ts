// CPU time and peak memory of a process tree from /proc (Linux): what the workers bench
// charges to each worker, counted by the kernel rather than by the worker itself.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

let clockTicks: number | undefined;
/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux x86-64). */
function ticksPerSecond(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return clockTicks;
}

interface Stat {
  ppid: number;
  /** utime + stime + cutime + cstime in ticks: every thread, and children that were waited for. */
  ticks: number;
}

function readStat(pid: number): Stat | undefined {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone
  }
  // The command name is in parentheses and may hold spaces: the fields start after the last ')'.
  const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(f[i]);
  // f[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
  return { ppid: n(1), ticks: n(11) + n(12) + n(13) + n(14) };
}

/** `pid` and its live descendants. */
export function processTree(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const s = readStat(Number(e));
    if (s) parent.set(Number(e), s.ppid);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [child, pp] of parent) if (pp === tree[i]) tree.push(child);
  return tree;
}

/** CPU time (user + system, all threads, children included) of the process tree of `pid`, in ms. */
export function cpuMs(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) ticks += readStat(p)?.ticks ?? 0;
  return (ticks * 1000) / ticksPerSecond();
}

/** Peak resident set size (VmHWM) of the process tree of `pid` since it started, in MiB. */
export function peakRssMiB(pid: number): number {
  let kib = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      kib += Number(m?.[1] ?? 0);
    } catch {
      /* gone */
    }
  }
  return kib / 1024;
}
