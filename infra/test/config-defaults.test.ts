// The stack configuration's defaults (the existing system's names and settings) and how it reads the values
// the Pulumi engine passes.
import { describe, expect, it } from 'vitest';
import { parse, SUBNETS } from './support/config.js';

describe('stack configuration', () => {
  it('defaults to the existing system names and settings (lessons §E)', () => {
    const c = parse({});
    expect(c.environment).toBe('prod');
    // The queues' timings and sizes are PredictionQueues' own defaults: prediction-queues.test.ts specifies
    // them on the queues it registers.
    expect(c.queues).toMatchObject({
      queueName: 'prod-retainwise-predictions-queue',
      dlqName: 'prod-retainwise-predictions-dlq',
      queueKmsKeyArn: undefined,
      breakGlassPrincipalArns: [],
    });
    expect(c.taskRoles).toEqual({
      workerTaskRoleName: 'prod-retainwise-worker-task-role',
      backendTaskRoleName: 'prod-retainwise-backend-task-role',
    });
    expect(c.worker).toMatchObject({
      executionRoleName: 'retainwise-ecs-task-execution-role',
      clusterName: 'retainwise-cluster',
      workerServiceName: 'retainwise-worker',
      workerRepositoryName: 'retainwise-worker',
      logRetentionDays: 7,
      cpuArchitecture: 'ARM64',
    });
    expect(c.alarms).toMatchObject({
      alarmTopicName: 'retainwise-cloudwatch-alerts',
      dlqDepthThreshold: 5,
      oldestMessageAgeThresholdSeconds: 1800,
    });
    expect(c.ci).toMatchObject({
      deployRoleName: 'retainwise-cicd-ecs-deployment-role',
      githubDeployTrust: 'environment',
      githubDeployBranch: 'main',
      githubDeployEnvironment: 'prod',
      stateBackend: { kind: 'pulumi-cloud' },
    });
    expect(c.bucketName).toBeUndefined();
    expect(c.backend).toBeUndefined();
    expect(c.network).toEqual(expect.objectContaining({ vpcId: undefined, egress: undefined }));
  });

  it('gives another environment its own names, so two stacks can share an account', () => {
    const c = parse({}, 'staging');
    expect(c.queues.queueName).toBe('staging-retainwise-predictions-queue');
    expect(c.worker.clusterName).toBe('retainwise-cluster-staging');
    expect(c.worker.workerServiceName).toBe('retainwise-worker-staging');
    expect(c.worker.executionRoleName).toBe('retainwise-ecs-task-execution-role-staging');
    expect(c.alarms.alarmTopicName).toBe('retainwise-cloudwatch-alerts-staging');
    expect(c.ci.githubDeployEnvironment).toBe('staging');
    expect(c.ci.flowLogsRoleName).toBe('retainwise-vpc-flow-logs-role-staging');
  });

  it('reads values the way the Pulumi engine passes them: strings, with structured values as JSON', () => {
    const c = parse({
      vpcId: 'vpc-0a1b2c3d4e5f60718',
      privateSubnetIds: SUBNETS,
      s3GatewayEndpoint: 'false',
      workerMaxTasks: '6',
      breakGlassPrincipalArns: ['arn:aws:iam::123456789012:role/break-glass'],
    });
    expect(c.network).toMatchObject({
      vpcId: 'vpc-0a1b2c3d4e5f60718',
      privateSubnetIds: SUBNETS,
      s3GatewayEndpoint: false,
    });
    expect(c.scaling.workerMaxTasks).toBe(6);
    expect(c.queues.breakGlassPrincipalArns).toEqual(['arn:aws:iam::123456789012:role/break-glass']);
  });
});
