// The one container of a Fargate task as ECS receives it: hardened (read-only root with a /tmp scratch volume, all
// capabilities dropped, an init process), its environment sorted, its logs non-blocking.

export interface ContainerSecret {
  /** Environment variable name inside the container. */
  name: string;
  /** Full Secrets Manager secret ARN. */
  secretArn: string;
  /** A key of a JSON secret. @default undefined (the whole secret string) */
  jsonKey?: string | undefined;
}

export const SCRATCH_VOLUME = { name: 'tmp', containerPath: '/tmp' } as const;

/** The container definition ECS receives (resolved values): one container per task. */
export function containerDefinition(a: {
  name: string;
  image: string;
  environment: Record<string, string>;
  secrets: ContainerSecret[];
  logGroupName: string;
  region: string;
  readonlyRootFilesystem: boolean;
  user: string | undefined;
  healthCheckCommand: string[] | undefined;
  stopTimeoutSeconds: number;
  containerPort: number | undefined;
}): Record<string, unknown> {
  return {
    name: a.name,
    image: a.image,
    essential: true,
    ...(a.user ? { user: a.user } : {}),
    readonlyRootFilesystem: a.readonlyRootFilesystem,
    ...(a.readonlyRootFilesystem
      ? {
          mountPoints: [
            {
              sourceVolume: SCRATCH_VOLUME.name,
              containerPath: SCRATCH_VOLUME.containerPath,
              readOnly: false,
            },
          ],
        }
      : {}),
    // Sorted so the registered revision only changes when a value does.
    environment: Object.entries(a.environment)
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([name, value]) => ({ name, value })),
    secrets: a.secrets.map((s) => ({
      name: s.name,
      valueFrom: s.jsonKey ? `${s.secretArn}:${s.jsonKey}::` : s.secretArn,
    })),
    ...(a.containerPort ? { portMappings: [{ containerPort: a.containerPort, protocol: 'tcp' }] } : {}),
    logConfiguration: {
      logDriver: 'awslogs',
      options: {
        'awslogs-group': a.logGroupName,
        'awslogs-region': a.region,
        'awslogs-stream-prefix': 'ecs',
        // A stalled log API must not stall the process writing to stdout; the buffer absorbs bursts.
        mode: 'non-blocking',
        'max-buffer-size': '25m',
      },
    },
    ...(a.healthCheckCommand
      ? {
          healthCheck: {
            command: ['CMD', ...a.healthCheckCommand],
            // The same timing as the image's HEALTHCHECK, which ECS ignores.
            interval: 30,
            timeout: 10,
            retries: 3,
            startPeriod: 60,
          },
        }
      : {}),
    stopTimeout: a.stopTimeoutSeconds,
    // An init process reaps zombies and forwards SIGTERM; no Linux capability is needed by a Node service.
    linuxParameters: { initProcessEnabled: true, capabilities: { drop: ['ALL'] } },
  };
}
