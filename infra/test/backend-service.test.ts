import { describe, expect, it } from 'vitest';
import { containerOf } from './support/ecs.js';
import { ACCOUNT, DATABASE_SECRET_ARN, deployStack, REGION } from './support/program.js';

const SERVICE = 'aws:ecs/service:Service';
const IMAGE = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/retainwise-backend@sha256:${'d'.repeat(64)}`;
const TARGET_GROUP = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/retainwise-api/0123456789abcdef`;
const CLERK_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/retainwise/clerk-Zz9Yy8`;

describe('BackendService (optional)', () => {
  it('does not exist unless an image is configured', async () => {
    const stack = await deployStack();
    expect(stack.all(SERVICE).map((s) => s.inputs['name'])).toEqual(['retainwise-worker']);
    expect(stack.outputs['backendServiceName']).toBeUndefined();
  });

  it('runs the API in the worker cluster with the backend task role, the same network, secrets and log settings', async () => {
    const stack = await deployStack({
      backendImage: IMAGE,
      backendEnvironment: { CORS_ORIGINS: 'https://app.retainwise.example' },
      backendSecrets: { CLERK_SECRET_KEY: CLERK_SECRET },
    });
    const service = stack.one(SERVICE, 'backend-service');
    expect(service.inputs).toMatchObject({
      name: 'retainwise-service',
      cluster: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/retainwise-cluster`,
      desiredCount: 1,
      networkConfiguration: {
        subnets: stack.outputs['privateSubnetIds'],
        securityGroups: [stack.one('aws:ec2/securityGroup:SecurityGroup', 'network-tasks').id],
        assignPublicIp: false,
      },
      deploymentCircuitBreaker: { enable: true, rollback: true },
    });
    // No load balancer: no grace period (lessons #41), and desiredCount stays the program's.
    expect(service.inputs['healthCheckGracePeriodSeconds']).toBeUndefined();
    expect(service.inputs['loadBalancers']).toBeUndefined();
    expect(service.ignoreChanges).toEqual([]);

    expect(stack.one('aws:ecs/taskDefinition:TaskDefinition', 'backend-task').inputs).toMatchObject({
      family: 'retainwise-service',
      taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/prod-retainwise-backend-task-role`,
      executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/retainwise-backend-ecs-task-execution-role`,
      runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' },
    });
    const container = containerOf(stack, 'backend-task');
    expect(container.image).toBe(IMAGE);
    expect(container.secrets).toEqual([
      { name: 'DATABASE_URL', valueFrom: DATABASE_SECRET_ARN },
      { name: 'CLERK_SECRET_KEY', valueFrom: CLERK_SECRET },
    ]);
    expect(Object.fromEntries(container.environment.map((e) => [e.name, e.value]))).toEqual({
      CORS_ORIGINS: 'https://app.retainwise.example',
      PREDICTIONS_QUEUE_URL: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/prod-retainwise-predictions-queue`,
      S3_BUCKET: `retainwise-uploads-${ACCOUNT}`,
      AWS_REGION: REGION,
      ENVIRONMENT: 'prod',
    });
    expect(container.logConfiguration.options).toMatchObject({
      'awslogs-group': '/ecs/retainwise-backend',
      'awslogs-stream-prefix': 'ecs',
    });
    expect(stack.one('aws:cloudwatch/logGroup:LogGroup', 'backend-logs').inputs).toMatchObject({
      name: '/ecs/retainwise-backend',
      retentionInDays: 7,
    });

    const execution = stack.rolePolicy('backend-execution-start-task');
    expect(execution.Statement).toContainEqual(
      expect.objectContaining({
        Sid: 'PullImage',
        Resource: `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/retainwise-backend`,
      }),
    );
    expect(execution.Statement).toContainEqual(
      expect.objectContaining({ Sid: 'ReadInjectedSecrets', Resource: [DATABASE_SECRET_ARN, CLERK_SECRET] }),
    );
    expect(stack.outputs['backendExecutionRoleArn']).toBe(
      `arn:aws:iam::${ACCOUNT}:role/retainwise-backend-ecs-task-execution-role`,
    );
  });

  it('registers with an existing target group, admitting only its load balancer on the API port', async () => {
    const stack = await deployStack({
      backendImage: IMAGE,
      backendTargetGroupArn: TARGET_GROUP,
      backendLoadBalancerSecurityGroupId: 'sg-0a1b2c3d4e5f6071c',
    });
    const ingress = stack.one('aws:ec2/securityGroup:SecurityGroup', 'backend-ingress');
    expect(stack.one(SERVICE, 'backend-service').inputs).toMatchObject({
      loadBalancers: [{ targetGroupArn: TARGET_GROUP, containerName: 'backend', containerPort: 8000 }],
      healthCheckGracePeriodSeconds: 60,
      networkConfiguration: {
        securityGroups: [stack.one('aws:ec2/securityGroup:SecurityGroup', 'network-tasks').id, ingress.id],
      },
    });
    expect(
      stack.one('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule', 'backend-from-load-balancer')
        .inputs,
    ).toMatchObject({
      securityGroupId: ingress.id,
      referencedSecurityGroupId: 'sg-0a1b2c3d4e5f6071c',
      fromPort: 8000,
      toPort: 8000,
    });
    expect(containerOf(stack, 'backend-task')).toMatchObject({
      portMappings: [{ containerPort: 8000, protocol: 'tcp' }],
    });
  });
});
