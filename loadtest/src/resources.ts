// Resource use of the stack's processes over time, for the soak benchmark: RSS, V8 heap and
// event-loop lag from each service's own /metrics (prom-client default metrics), RSS of the
// other processes (the Temporal dev server) and every process's CPU time from /proc, and the
// growth figures of each series.
import { readFile } from 'node:fs/promises';
import { sampleValue, scrape } from './scrape';

export interface SampleTarget {
  /** e.g. "worker-0", "temporal". */
  name: string;
  /** prom-client /metrics URL; without one, only RSS from /proc. */
  metricsUrl?: string;
  /** The current pid (for /proc), undefined while the process is down. */
  pid: () => number | undefined;
}

export interface ResourceSample {
  /** Seconds since sampling started. */
  t: number;
  target: string;
  rssBytes?: number;
  heapUsedBytes?: number;
  heapTotalBytes?: number;
  /** Event-loop delay since the previous scrape (prom-client resets its histogram on each). */
  lagP99Seconds?: number;
  lagMaxSeconds?: number;
  /** CPU time used so far (user + system), from /proc: differences give cores in use. */
  cpuSeconds?: number;
  /** Major (mark-compact) collections so far (prom-client's nodejs_gc_duration_seconds_count{kind="major"}; 0 before the first). */
  majorGcs?: number;
}

/** VmRSS of a process from /proc/<pid>/status, in bytes. */
export async function procRss(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  return kb === undefined ? undefined : Number(kb) * 1024;
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux builds everywhere). */
const USER_HZ = 100;

/** CPU time (user + system) of a process so far, from /proc/<pid>/stat, in seconds. */
export async function procCpuSeconds(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) && rest.length > 13 ? (utime + stime) / USER_HZ : undefined;
}

/** Cores in use between consecutive samples of one series of (t, cpu seconds) points. */
export function cpuCores(points: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 1; i < points.length; i++) {
    const [t0, c0] = points[i - 1] as readonly [number, number];
    const [t1, c1] = points[i] as readonly [number, number];
    if (t1 > t0 && c1 >= c0) out.push([t1, (c1 - c0) / (t1 - t0)]);
  }
  return out;
}

async function sampleTarget(target: SampleTarget, t: number): Promise<ResourceSample> {
  const s: ResourceSample = { t, target: target.name };
  if (target.metricsUrl) {
    const m = await scrape(target.metricsUrl).catch(() => undefined);
    if (m) {
      const set = (key: keyof ResourceSample, name: string) => {
        const v = sampleValue(m, name);
        if (v !== undefined && Number.isFinite(v)) (s as unknown as Record<string, number>)[key] = v;
      };
      set('rssBytes', 'process_resident_memory_bytes');
      set('heapUsedBytes', 'nodejs_heap_size_used_bytes');
      set('heapTotalBytes', 'nodejs_heap_size_total_bytes');
      set('lagP99Seconds', 'nodejs_eventloop_lag_p99_seconds');
      set('lagMaxSeconds', 'nodejs_eventloop_lag_max_seconds');
      s.majorGcs = sampleValue(m, 'nodejs_gc_duration_seconds_count', { kind: 'major' }) ?? 0;
    }
  }
  const pid = target.pid();
  if (pid !== undefined) {
    if (s.rssBytes === undefined) {
      const rss = await procRss(pid);
      if (rss !== undefined) s.rssBytes = rss;
    }
    const cpu = await procCpuSeconds(pid);
    if (cpu !== undefined) s.cpuSeconds = cpu;
  }
  return s;
}

/** Samples every target every `everyMs` until stop(), which resolves with all samples. */
export function startSampler(
  targets: readonly SampleTarget[],
  everyMs: number,
  onSamples?: (batch: ResourceSample[]) => void,
): { stop(): Promise<ResourceSample[]> } {
  const samples: ResourceSample[] = [];
  const t0 = performance.now();
  let stopped = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    for (let next = 0; !stopped; next += everyMs) {
      const batch = await Promise.all(targets.map((tg) => sampleTarget(tg, (performance.now() - t0) / 1000)));
      samples.push(...batch);
      onSamples?.(batch);
      const wait = next + everyMs - (performance.now() - t0);
      if (wait > 0 && !stopped) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      return samples;
    },
  };
}

/** Least-squares slope of y over x; 0 for fewer than two points. */
export function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const mean = (v: readonly number[]) => (v.length === 0 ? Number.NaN : v.reduce((s, x) => s + x, 0) / v.length);

/** A series grows without bound (for this verdict) when its second-half slope exceeds this share of its second-half mean per hour. */
export const GROWTH_LIMIT_PER_HOUR = 0.2;

export interface Growth {
  target: string;
  metric: string;
  samples: number;
  firstQuartileMean: number;
  lastQuartileMean: number;
  /** (last − first) / first. */
  change: number;
  /** Least-squares slope over the second half of the run, units per minute. */
  secondHalfSlopePerMin: number;
  secondHalfMean: number;
  /** The slope over one hour, as a share of the second-half mean. */
  secondHalfPerHour: number;
  /** 'inconclusive' with fewer than MIN_POINTS points in the second half. */
  verdict: 'bounded' | 'growing' | 'inconclusive';
}

/** Points the second half needs for a verdict. */
export const MIN_POINTS = 3;

/** Growth figures of one series of (t seconds, value) points, in time order over [0, endS]. */
export function growth(target: string, metric: string, points: ReadonlyArray<readonly [number, number]>, endS: number): Growth {
  const inRange = (a: number, b: number) => points.filter(([t]) => t >= a && t < b).map(([, v]) => v);
  const first = mean(inRange(0, endS / 4));
  const last = mean(inRange((3 * endS) / 4, Infinity));
  const half = points.filter(([t]) => t >= endS / 2);
  const perMin = slope(half.map(([t, v]) => [t / 60, v]));
  const halfMean = mean(half.map(([, v]) => v));
  const perHour = halfMean > 0 ? (perMin * 60) / halfMean : 0;
  return {
    target,
    metric,
    samples: points.length,
    firstQuartileMean: first,
    lastQuartileMean: last,
    change: first > 0 ? (last - first) / first : 0,
    secondHalfSlopePerMin: perMin,
    secondHalfMean: halfMean,
    secondHalfPerHour: perHour,
    verdict: half.length < MIN_POINTS ? 'inconclusive' : perHour > GROWTH_LIMIT_PER_HOUR ? 'growing' : 'bounded',
  };
}

/**
 * Heap used in the samples taken right after a major collection (the counter moved since the
 * sample before): what the heap retains. Between major collections it only climbs, with
 * garbage promoted to the old generation, so every sample would read as growth.
 */
export function heapAfterMajorGc(samples: readonly ResourceSample[], target: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let before: number | undefined;
  for (const s of samples) {
    if (s.target !== target || s.majorGcs === undefined) continue;
    if (before !== undefined && s.majorGcs > before && s.heapUsedBytes !== undefined) out.push([s.t, s.heapUsedBytes]);
    before = s.majorGcs;
  }
  return out;
}

/** The (t, value) points of one target's metric. */
export function series(
  samples: readonly ResourceSample[],
  target: string,
  pick: (s: ResourceSample) => number | undefined,
): Array<[number, number]> {
  return samples.flatMap((s): Array<[number, number]> => {
    if (s.target !== target) return [];
    const v = pick(s);
    return v === undefined || !Number.isFinite(v) ? [] : [[s.t, v]];
  });
}
