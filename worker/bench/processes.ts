import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { LocalStack } from '../local/stack.js';
import { execForm, instructionsOf, parseDockerfile, stageEnv, stageNamed } from '../test/image/dockerfile.js';

/**
 * The worker as the container runs it (the image's CMD, `node <flags> dist/src/main.js`, compiled by the image's
 * own `npm run build`, with the image's ENV), in a child process, so its memory and CPU are its own: the emulator
 * and PostgreSQL stay in the benchmark's process. Running the TypeScript through a loader instead would add the
 * loader's start-up time and memory.
 */

/** USER_HZ, 100 on every Linux architecture Node supports */
const CLOCK_TICKS_PER_SECOND = 100;

const WORKER = fileURLToPath(new URL('..', import.meta.url));
const MAIN = fileURLToPath(new URL('../dist/src/main.js', import.meta.url));
const IMAGE_MAIN = 'dist/src/main.js';

/**
 * How the image runs the worker: the node flags of its CMD (`node <flags> dist/src/main.js`) and the environment
 * of its ENV, so the bench measures the process the container runs.
 */
export function imageCommand(dockerfile: string): { nodeArgs: string[]; env: Record<string, string> } {
  const runtime = stageNamed(parseDockerfile(dockerfile), 'runtime');
  const cmd = instructionsOf(runtime, 'CMD').at(-1);
  const argv = cmd === undefined ? [] : execForm(cmd);
  if (argv[0] !== 'node' || argv.at(-1) !== IMAGE_MAIN)
    throw new Error(
      `the bench runs the worker as the image does, but its CMD ${JSON.stringify(argv)} is not node ... ${IMAGE_MAIN}`,
    );
  return { nodeArgs: argv.slice(1, -1), env: stageEnv(runtime) };
}

/** the image's CMD flags and ENV, which every process the bench measures runs with */
export const IMAGE = imageCommand(readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8'));

/**
 * Runs a bench script in a node process of its own (`nodeArgs`, then tsx, then `script`) with only `env` and PATH,
 * its stderr shown as it runs; resolves to the JSON on the last line it printed on stdout. `what` names it in the
 * error when it exits with anything but 0.
 */
export async function runJsonChild<T>(
  what: string,
  script: string,
  nodeArgs: readonly string[],
  env: Record<string, string>,
): Promise<T> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${what} exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '') as T;
}

/** Compiles the worker into worker/dist, as the image's build stage does. */
export function buildWorker(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: WORKER, stdio: 'inherit' });
}

export interface WorkerChild {
  readonly child: ChildProcess;
  /** resolves once the worker logged `worker ready`, with the ms since spawn */
  readonly ready: Promise<number>;
  /** the worker's JSON log lines so far */
  logs(): Record<string, unknown>[];
  /** the kernel's peak resident set size of the process (VmHWM) since it started or since resetPeakRss(), in MB */
  peakRssMb(): number;
  /** starts the peak over from the current RSS, so that a job's peak is its own, not the highest of all before it */
  resetPeakRss(): void;
  /** CPU seconds (user + system) the process has used so far */
  cpuSeconds(): number;
  /** SIGTERM, then waits for exit */
  stop(): Promise<void>;
}

export function spawnWorkerChild(stack: LocalStack, env: Record<string, string>): WorkerChild {
  const started = performance.now();
  // e.g. BENCH_WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the worker under the benchmark
  const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  // e.g. BENCH_WORKER_MAIN=/tmp/old/worker/dist/src/main.js runs another build, for an A/B in one run
  const main = process.env.BENCH_WORKER_MAIN ?? MAIN;
  // e.g. BENCH_WORKER_ENV="MALLOC_ARENA_MAX=4" runs it with the process environment of another image
  const extraEnv = Object.fromEntries(
    (process.env.BENCH_WORKER_ENV ?? '')
      .split(' ')
      .filter((pair) => pair.includes('='))
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
  const child = spawn(process.execPath, [...IMAGE.nodeArgs, ...nodeArgs, main], {
    env: {
      PATH: process.env.PATH ?? '',
      ...IMAGE.env,
      ...extraEnv,
      ...stack.workerEnv({ SQS_WAIT_TIME_SECONDS: '1', LOG_LEVEL: 'info', ...env }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  let stderr = '';
  let onReady: (ms: number) => void = () => undefined;
  let onFail: (error: Error) => void = () => undefined;
  const ready = new Promise<number>((resolve, reject) => {
    onReady = resolve;
    onFail = reject;
  });
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    const parts = (partial + text).split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) {
      if (!part.startsWith('{')) continue;
      const line = JSON.parse(part) as Record<string, unknown>;
      lines.push(line);
      if (line.msg === 'worker ready') onReady(performance.now() - started);
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => onFail(new Error(`worker exited before it was ready: ${stderr.slice(-2000)}`)));
  let peak = 0;
  // proc(5), /proc/<pid>/clear_refs: writing 5 resets the peak RSS (VmHWM) to the process's current RSS
  const resetPeakRss = (): void => {
    writeFileSync(`/proc/${child.pid}/clear_refs`, '5');
    peak = 0;
  };
  const peakRssMb = (): number => {
    try {
      const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
      peak = Math.max(peak, Number(kb) / 1024);
    } catch {
      // the process has exited: the last reading stands
    }
    return peak;
  };
  // fields 14 and 15 of /proc/<pid>/stat (after the parenthesised command name): utime, stime in clock ticks
  const cpuSeconds = (): number => {
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  };
  return {
    child,
    ready,
    logs: () => lines,
    peakRssMb,
    resetPeakRss,
    cpuSeconds,
    async stop() {
      peakRssMb();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Statuses of the given predictions, by id. */
export async function statuses(stack: LocalStack, ids: readonly string[]): Promise<Map<string, string>> {
  const result = await stack.db.query<{ id: string; status: string }>(
    'SELECT id, status FROM predictions WHERE id = ANY($1::uuid[])',
    [ids],
  );
  return new Map(result.rows.map((r) => [r.id, r.status]));
}

/** Polls until every prediction is COMPLETED or FAILED. */
export async function waitSettled(
  stack: LocalStack,
  ids: readonly string[],
  pollMs: number,
  timeoutMs = 1_800_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const settled = [...(await statuses(stack, ids)).values()].filter(
      (s) => s === 'COMPLETED' || s === 'FAILED',
    ).length;
    if (settled === ids.length) return;
    if (Date.now() > deadline) throw new Error(`only ${settled} of ${ids.length} benchmark jobs finished`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export const median = (values: readonly number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
