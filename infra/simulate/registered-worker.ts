// What the simulation takes from the program's registered worker task: the jobs a task runs at once and the price
// of a task-hour; and from the bench, the worker's own speed.
import type { RecordedResource } from '../plan/offline.js';
import { fargateTaskHour } from '../plan/pricing.js';
import type { WorkerFigures } from './simulation.js';

export interface BenchResults {
  rows_per_s_1m: number;
  job_latency_ms_p50_100_rows: number;
  big_job: { workerReadyMs: number };
  [key: string]: unknown;
}

export function workerFigures(
  bench: BenchResults,
  resources: RecordedResource[],
  service: string,
): WorkerFigures {
  const container = workerContainer(resources, service);
  const concurrency = Number(container.environment.find((e) => e.name === 'WORKER_CONCURRENCY')?.value);
  if (!Number.isInteger(concurrency)) throw new Error('the worker task sets no WORKER_CONCURRENCY');
  return {
    readySeconds: bench.big_job.workerReadyMs / 1000,
    rowsPerSecond: bench.rows_per_s_1m,
    jobOverheadSeconds: bench.job_latency_ms_p50_100_rows / 1000,
    concurrency,
  };
}

function workerTask(resources: RecordedResource[], service: string): RecordedResource {
  const task = resources.find(
    (r) => r.type === 'aws:ecs/taskDefinition:TaskDefinition' && r.inputs['family'] === service,
  );
  if (!task) throw new Error(`no task definition for ${service}`);
  return task;
}

function workerContainer(resources: RecordedResource[], service: string) {
  const [container] = JSON.parse(String(workerTask(resources, service).inputs['containerDefinitions'])) as {
    environment: { name: string; value: string }[];
  }[];
  if (!container) throw new Error(`the ${service} task has no container`);
  return container;
}

export function taskHourUsd(resources: RecordedResource[], service: string): number {
  const { inputs } = workerTask(resources, service);
  const platform = inputs['runtimePlatform'] as { cpuArchitecture: 'X86_64' | 'ARM64' };
  return fargateTaskHour(Number(inputs['cpu']), Number(inputs['memory']), platform.cpuArchitecture);
}
