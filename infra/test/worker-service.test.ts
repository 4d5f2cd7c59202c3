import { beforeAll, describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../policy.js';
import { workerContainer, type Container } from './support/ecs.js';
import { ACCOUNT, DATABASE_SECRET_ARN, deployStack, REGION, type Stack } from './support/program.js';

const TASK = 'aws:ecs/taskDefinition:TaskDefinition';
const SERVICE = 'aws:ecs/service:Service';

describe('WorkerService', () => {
  let stack: Stack;
  let container: Container;
  beforeAll(async () => {
    stack = await deployStack();
    container = workerContainer(stack);
  });

  it('pushes to its own repository, scanning every image on push', () => {
    expect(stack.one('aws:ecr/repository:Repository').inputs).toMatchObject({
      name: 'retainwise-worker',
      imageScanningConfiguration: { scanOnPush: true },
    });
  });

  it('runs the image pinned by digest, never a moving tag (lessons #37)', () => {
    expect(container.image).toMatch(
      new RegExp(
        `^${ACCOUNT}\\.dkr\\.ecr\\.${REGION}\\.amazonaws\\.com/retainwise-worker@sha256:[0-9a-f]{64}$`,
      ),
    );
    expect(stack.outputs['workerImageUri']).toBe(container.image);
  });

  it('sizes the task by config on ARM64 Fargate, with its own task and execution roles', () => {
    expect(stack.one(TASK).inputs).toMatchObject({
      family: 'retainwise-worker',
      cpu: '1024',
      memory: '2048',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'ARM64' },
      taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/prod-retainwise-worker-task-role`,
      executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/retainwise-ecs-task-execution-role`,
      volumes: [{ name: 'tmp' }],
    });
  });

  it('hardens the container: non-root, read-only root with scratch /tmp, no capabilities', () => {
    expect(container).toMatchObject({
      name: 'worker',
      essential: true,
      user: '1000:1000',
      readonlyRootFilesystem: true,
      mountPoints: [{ sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false }],
      linuxParameters: { initProcessEnabled: true, capabilities: { drop: ['ALL'] } },
    });
  });

  it('injects DATABASE_URL from Secrets Manager and never as plain environment (lessons #40)', () => {
    expect(container.secrets).toEqual([{ name: 'DATABASE_URL', valueFrom: DATABASE_SECRET_ARN }]);
    expect(container.environment.map((e) => e.name)).not.toContain('DATABASE_URL');
    expect(JSON.stringify(container.environment)).not.toMatch(/postgres(ql)?:\/\//);
  });

  it('reads one key of a JSON secret when databaseUrlSecretJsonKey is set', async () => {
    const json = workerContainer(await deployStack({ databaseUrlSecretJsonKey: 'url' }));
    expect(json.secrets).toEqual([{ name: 'DATABASE_URL', valueFrom: `${DATABASE_SECRET_ARN}:url::` }]);
  });

  it('logs to /ecs/retainwise-worker (7 days) through awslogs with the ecs stream prefix', () => {
    expect(stack.one('aws:cloudwatch/logGroup:LogGroup', 'worker-logs').inputs).toMatchObject({
      name: '/ecs/retainwise-worker',
      retentionInDays: 7,
    });
    expect(container.logConfiguration).toEqual({
      logDriver: 'awslogs',
      options: expect.objectContaining({
        'awslogs-group': '/ecs/retainwise-worker',
        'awslogs-region': REGION,
        'awslogs-stream-prefix': 'ecs',
      }) as Record<string, string>,
    });
  });

  it('gives the worker 120 s to drain after SIGTERM and checks its liveness', () => {
    expect(container.stopTimeout).toBe(120);
    expect(container.healthCheck).toMatchObject({ command: ['CMD', 'node', 'dist/src/healthcheck.js'] });
  });

  it('runs in the private subnets without a public IP, rolls back failed deployments, leaves desiredCount to scaling', () => {
    const service = stack.one(SERVICE, 'worker-service');
    expect(service.inputs).toMatchObject({
      name: 'retainwise-worker',
      cluster: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/retainwise-cluster`,
      launchType: 'FARGATE',
      desiredCount: 0,
      networkConfiguration: {
        subnets: stack.outputs['privateSubnetIds'],
        securityGroups: [stack.one('aws:ec2/securityGroup:SecurityGroup', 'network-tasks').id],
        assignPublicIp: false,
      },
      deploymentCircuitBreaker: { enable: true, rollback: true },
      waitForSteadyState: true,
    });
    expect(service.inputs['taskDefinition']).toBe(
      `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/retainwise-worker:1`,
    );
    expect(service.ignoreChanges).toEqual(['desiredCount']);
    // Tasks start only once both roles have their permissions.
    for (const grant of ['task-roles-worker-worker-task', 'worker-execution-start-task']) {
      expect(
        service.dependsOn.some((urn) => urn.endsWith(`aws:iam/rolePolicy:RolePolicy::${grant}`)),
        grant,
      ).toBe(true);
    }
    // No load balancer, so no grace period (lessons #41).
    expect(service.inputs['healthCheckGracePeriodSeconds']).toBeUndefined();
    expect(service.inputs['loadBalancers']).toBeUndefined();
  });

  it('runs in a cluster with Container Insights, which the scaling metrics come from', () => {
    expect(stack.one('aws:ecs/cluster:Cluster').inputs).toMatchObject({
      name: 'retainwise-cluster',
      settings: [{ name: 'containerInsights', value: 'enabled' }],
    });
  });

  it('lets ECS pull only its image, write only its log group and read only the named secret', () => {
    const policy = stack.rolePolicy('worker-execution-start-task');
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Sid: 'PullImage',
        Resource: `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/retainwise-worker`,
      }),
      expect.objectContaining({ Sid: 'RegistryLogin', Action: 'ecr:GetAuthorizationToken', Resource: '*' }),
      expect.objectContaining({
        Sid: 'WriteLogs',
        Resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/ecs/retainwise-worker:log-stream:*`,
      }),
      expect.objectContaining({
        Sid: 'ReadInjectedSecrets',
        Action: 'secretsmanager:GetSecretValue',
        Resource: [DATABASE_SECRET_ARN],
      }),
    ]);
    const trust = stack.json<PolicyDocument>('aws:iam/role:Role', 'worker-execution', 'assumeRolePolicy');
    expect(trust.Statement[0]?.Principal).toEqual({ Service: 'ecs-tasks.amazonaws.com' });
  });

  it('builds for x86-64 when the task architecture is X86_64', async () => {
    const x86 = await deployStack({ cpuArchitecture: 'X86_64' });
    expect(x86.one('docker-build:index:Image').inputs).toMatchObject({ platforms: ['linux/amd64'] });
    expect((x86.one('docker-build:index:Image').inputs['tags'] as string[])[0]).toMatch(/-x86_64$/);
    expect(x86.input(TASK, 'worker-task', 'runtimePlatform')).toMatchObject({ cpuArchitecture: 'X86_64' });
  });
});
