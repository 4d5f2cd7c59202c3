// What Fargate accepts of a task: the CPU / memory pairs and the longest stopTimeout.
import { check, type Issue } from './validation.js';

/** Fargate's maximum stopTimeout: the time between SIGTERM and SIGKILL. */
export const MAX_STOP_TIMEOUT_SECONDS = 120;

/** Memory sizes (MiB) Fargate accepts for each CPU size (units of 1/1024 vCPU). */
export function fargateMemoryOptions(cpu: number): number[] {
  const range = (from: number, to: number, step: number) =>
    Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);
  const table: Record<number, number[]> = {
    256: [512, 1024, 2048],
    512: range(1024, 4096, 1024),
    1024: range(2048, 8192, 1024),
    2048: range(4096, 16_384, 1024),
    4096: range(8192, 30_720, 1024),
    8192: range(16_384, 61_440, 4096),
    16_384: range(32_768, 122_880, 8192),
  };
  return table[cpu] ?? [];
}

/** Issues of a CPU / memory pair, under the names the caller's settings give them. */
export function fargateSizeIssues(
  cpu: number,
  memory: number,
  keys: { cpu: string; memory: string } = { cpu: 'cpu', memory: 'memory' },
): Issue[] {
  const options = fargateMemoryOptions(cpu);
  if (options.length === 0)
    return [{ key: keys.cpu, message: 'must be one of 256, 512, 1024, 2048, 4096, 8192, 16384' }];
  const allowed = `${options[0]}-${options[options.length - 1]} MiB in steps of ${(options[1] ?? 0) - (options[0] ?? 0)}`;
  return check([
    options.includes(memory),
    {
      [keys.memory]: `${memory} MiB is not a Fargate size for ${cpu} CPU units (allowed: ${allowed})`,
      [keys.cpu]: `${cpu} CPU units take ${allowed} of memory on Fargate, not ${memory} MiB`,
    },
  ]);
}
