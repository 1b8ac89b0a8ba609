// The port plan of a stack: the fixed design ports (npm start, optionally shifted) or ports
// the OS hands out per run (tests, so files can run side by side), and a pre-flight check
// that names the process holding a taken port.
import { readFile, readdir, readlink } from 'node:fs/promises';
import net from 'node:net';

/** Default ports (design.md). */
export const BASE_PORTS = {
  starter: 8080,
  translator: 9999,
  workerMetrics: 9464, // worker i: 9464 + 2i (Temporal Core), 9465 + 2i (health, prom-client)
  temporal: 7233,
  temporalUi: 8233,
  temporalMetrics: 9233,
  jaegerOtlp: 4318,
  jaegerQuery: 16686,
  jaegerQueryGrpc: 16685,
  jaegerHealth: 13133,
  prometheus: 9090,
} as const;

export type FixedPortName = Exclude<keyof typeof BASE_PORTS, 'workerMetrics'>;

export interface WorkerPorts {
  /** Health and prom-client. */
  http: number;
  /** Temporal Core metrics. */
  metrics: number;
}

export interface Ports extends Record<FixedPortName, number> {
  /** The ports of worker i; call `prepareWorker(i)` first when the ports are allocated. */
  worker(i: number): WorkerPorts;
  prepareWorker(i: number): Promise<WorkerPorts>;
}

/** The design ports shifted by `offset` (npm start --port-offset, the bench and scale CLIs). */
export function fixedPorts(offset = 0): Ports {
  const p = (n: number) => n + offset;
  const fixed = Object.fromEntries(
    Object.entries(BASE_PORTS)
      .filter(([k]) => k !== 'workerMetrics')
      .map(([k, v]) => [k, p(v)]),
  ) as Record<FixedPortName, number>;
  const worker = (i: number) => ({ metrics: p(BASE_PORTS.workerMetrics + 2 * i), http: p(BASE_PORTS.workerMetrics + 2 * i + 1) });
  return { ...fixed, worker, prepareWorker: (i) => Promise.resolve(worker(i)) };
}

// Ports handed out by this process, so two allocations never return the same one.
const handedOut = new Set<number>();

/** A free loopback port from the OS (bound to port 0, read back, released). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', reject);
      srv.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
        const addr = srv.address();
        srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port from the OS'))));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** Ports from the OS for every process of one stack; worker ports are taken as workers are added. */
export async function allocatePorts(): Promise<Ports> {
  const names = Object.keys(BASE_PORTS).filter((k) => k !== 'workerMetrics') as FixedPortName[];
  const fixed = {} as Record<FixedPortName, number>;
  for (const n of names) fixed[n] = await freePort();
  const workers = new Map<number, WorkerPorts>();
  return {
    ...fixed,
    worker(i) {
      const w = workers.get(i);
      if (!w) throw new Error(`worker ${i} has no ports yet: call prepareWorker(${i}) first`);
      return w;
    },
    async prepareWorker(i) {
      let w = workers.get(i);
      if (!w) {
        w = { metrics: await freePort(), http: await freePort() };
        workers.set(i, w);
      }
      return w;
    },
  };
}

/** True when 127.0.0.1:port can be bound now. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export interface PortOwner {
  pid: number;
  command: string;
}

export interface PortConflict {
  /** What the stack wanted the port for, e.g. "temporal" or "worker-0 http". */
  use: string;
  port: number;
  /** The listening process, when /proc tells (Linux, and permission to read its fds). */
  owner?: PortOwner;
}

/** Inodes of sockets listening on `port` (from /proc/net/tcp and tcp6). */
async function listeningInodes(port: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const local = f[1];
      if (!local || f[3] !== '0A') continue; // 0A = LISTEN
      if (Number.parseInt(local.split(':')[1] ?? '', 16) === port && f[9]) inodes.add(f[9]);
    }
  }
  return inodes;
}

/** The process holding a listening socket on `port`, found through /proc/<pid>/fd. */
export async function portOwner(port: number): Promise<PortOwner | undefined> {
  const inodes = await listeningInodes(port);
  if (inodes.size === 0) return undefined;
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((d) => /^\d+$/.test(d));
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(m[1] as string)) {
        const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        const command = cmdline.split('\0').filter(Boolean).join(' ').slice(0, 160) || '?';
        return { pid: Number(pid), command };
      }
    }
  }
  return undefined;
}

/** The wanted ports that are already taken, each with its owner where /proc tells. */
export async function portConflicts(wanted: ReadonlyArray<{ use: string; port: number }>): Promise<PortConflict[]> {
  const conflicts: PortConflict[] = [];
  for (const w of wanted) {
    if (await portFree(w.port)) continue;
    const owner = await portOwner(w.port);
    conflicts.push({ ...w, ...(owner && { owner }) });
  }
  return conflicts;
}

export function formatConflicts(conflicts: readonly PortConflict[]): string {
  return conflicts
    .map((c) => `  127.0.0.1:${c.port} (${c.use}) is taken by ${c.owner ? `pid ${c.owner.pid}: ${c.owner.command}` : 'another process'}`)
    .join('\n');
}
