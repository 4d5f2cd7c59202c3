// The container definitions the program registers, parsed.
import type { Stack } from './program.js';

export interface Container {
  name: string;
  image: string;
  user: string;
  readonlyRootFilesystem: boolean;
  mountPoints: { sourceVolume: string; containerPath: string; readOnly: boolean }[];
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom: string }[];
  logConfiguration: { logDriver: string; options: Record<string, string> };
  healthCheck: {
    command: string[];
    interval?: number;
    timeout?: number;
    retries?: number;
    startPeriod?: number;
  };
  stopTimeout: number;
  essential: boolean;
  linuxParameters: unknown;
}

/** The one container of a task definition the program registered. */
export function containerOf(stack: Stack, taskLogicalName: string): Container {
  const containers = stack.json<Container[]>(
    'aws:ecs/taskDefinition:TaskDefinition',
    taskLogicalName,
    'containerDefinitions',
  );
  if (containers.length !== 1)
    throw new Error(`expected one container in ${taskLogicalName}, found ${containers.length}`);
  return containers[0] as Container;
}

export const workerContainer = (stack: Stack): Container => containerOf(stack, 'worker-task');
