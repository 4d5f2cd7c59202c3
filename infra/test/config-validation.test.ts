// What the stack configuration rejects, naming the key at fault, and how it reports every problem at once.
import * as pulumi from '@pulumi/pulumi';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from '../config-schema.js';
import { issues, parse, SUBNETS } from './support/config.js';
import { DATABASE_SECRET_ARN, deployStack, type ConfigValue } from './support/program.js';

const TARGET_GROUP =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/retainwise-api/0123456789abcdef';
const BACKEND_IMAGE = `123456789012.dkr.ecr.us-east-1.amazonaws.com/retainwise-backend@sha256:${'a'.repeat(64)}`;

describe('stack configuration', () => {
  it.each<[string, Record<string, ConfigValue>, string, string]>([
    ['a missing repository', { githubRepository: undefined }, 'retainwise:githubRepository', 'is required'],
    [
      'a missing database secret',
      { databaseUrlSecretArn: undefined },
      'retainwise:databaseUrlSecretArn',
      'is required',
    ],
    ['a missing region', { 'aws:region': undefined }, 'aws:region', 'must be set'],
    [
      'a repository without owner',
      { githubRepository: 'retainwise-analytics' },
      'retainwise:githubRepository',
      '"owner/name"',
    ],
    [
      'a repository path with three parts',
      { githubRepository: 'a/b/c' },
      'retainwise:githubRepository',
      '"owner/name"',
    ],
    [
      'a secret ARN without its random suffix',
      { databaseUrlSecretArn: DATABASE_SECRET_ARN.slice(0, -7) },
      'retainwise:databaseUrlSecretArn',
      'full Secrets Manager secret ARN',
    ],
    ['an unknown egress mode', { egress: 'nat' }, 'retainwise:egress', '"vpc-endpoints" or "nat-gateway"'],
    ['a malformed VPC id', { vpcId: 'vpc-xyz', privateSubnetIds: SUBNETS }, 'retainwise:vpcId', 'vpc-'],
    ['a non-numeric size', { workerCpu: 'lots' }, 'retainwise:workerCpu', 'whole number'],
    ['a misspelt key', { workerMemroy: '2048' }, 'retainwise:workerMemroy', 'did you mean "workerMemory"'],
    [
      'subnets without their VPC',
      { privateSubnetIds: SUBNETS },
      'retainwise:privateSubnetIds',
      'only applies with vpcId',
    ],
    [
      'a VPC without subnets',
      { vpcId: 'vpc-0a1b2c3d4e5f60718' },
      'retainwise:privateSubnetIds',
      'is required with vpcId',
    ],
    [
      'a VPC with one subnet',
      { vpcId: 'vpc-0a1b2c3d4e5f60718', privateSubnetIds: SUBNETS.slice(0, 1) },
      'retainwise:privateSubnetIds',
      'at least two',
    ],
    [
      'a CIDR for an existing VPC',
      { vpcId: 'vpc-0a1b2c3d4e5f60718', privateSubnetIds: SUBNETS, vpcCidr: '10.0.0.0/16' },
      'retainwise:vpcCidr',
      'only applies to a new VPC',
    ],
    [
      'NAT gateways without NAT egress',
      { natGatewayCount: '2' },
      'retainwise:natGatewayCount',
      'only applies with egress "nat-gateway"',
    ],
    [
      'more NAT gateways than zones',
      { egress: 'nat-gateway', natGatewayCount: '3' },
      'retainwise:natGatewayCount',
      'at most one per AZ',
    ],
    ['a misaligned CIDR', { vpcCidr: '10.40.1.0/16' }, 'retainwise:vpcCidr', 'valid IPv4 CIDR'],
    [
      'a DLQ that expires messages first',
      { dlqMessageRetentionSeconds: '345600' },
      'retainwise:dlqMessageRetentionSeconds',
      "must exceed the job queue's retention",
    ],
    [
      'a heartbeat too slow for the visibility timeout',
      { heartbeatIntervalSeconds: '200' },
      'retainwise:heartbeatIntervalSeconds',
      'at most half of the visibility timeout (300 s)',
    ],
    [
      'a memory size Fargate does not offer',
      { workerCpu: '1024', workerMemory: '1024' },
      'retainwise:workerMemory',
      'not a Fargate size for 1024',
    ],
    [
      'a shutdown longer than the stop timeout allows',
      { shutdownTimeoutSeconds: '115' },
      'retainwise:shutdownTimeoutSeconds',
      'stopTimeout is 120',
    ],
    [
      'a minimum above the maximum',
      { workerMinTasks: '5', workerMaxTasks: '4' },
      'retainwise:workerMinTasks',
      'must not exceed the maximum (4)',
    ],
    [
      'business hours that end before they start',
      { workerBusinessHours: JSON.stringify({ minTasks: 1, start: '18:00', end: '08:00' }) },
      'retainwise:workerBusinessHours',
      'end must come after start',
    ],
    [
      'a business-hours minimum no higher than the minimum',
      {
        workerMinTasks: '1',
        workerBusinessHours: JSON.stringify({ minTasks: 1, start: '08:00', end: '18:00' }),
      },
      'retainwise:workerBusinessHours',
      'must be more than workerMinTasks (1)',
    ],
    [
      'a latency target below one job',
      { acceptableLatencySeconds: '10', averageJobSeconds: '60' },
      'retainwise:acceptableLatencySeconds',
      'at least 1',
    ],
    [
      'backend settings without a backend',
      { backendCpu: '512' },
      'retainwise:backendCpu',
      'only applies to the backend service',
    ],
    [
      'a backend image by tag',
      { backendImage: '123456789012.dkr.ecr.us-east-1.amazonaws.com/retainwise-backend:latest' },
      'retainwise:backendImage',
      'pinned by digest',
    ],
    [
      'a target group without its load balancer group',
      { backendImage: BACKEND_IMAGE, backendTargetGroupArn: TARGET_GROUP },
      'retainwise:backendLoadBalancerSecurityGroupId',
      'is required with backendTargetGroupArn',
    ],
    [
      'a credential in plain environment',
      { backendImage: BACKEND_IMAGE, backendEnvironment: { CLERK_SECRET_KEY: 'sk_live' } },
      'retainwise:backendEnvironment',
      'look like credentials',
    ],
    [
      'an override of a managed variable',
      { backendImage: BACKEND_IMAGE, backendEnvironment: { S3_BUCKET: 'other' } },
      'retainwise:backendEnvironment',
      'must not set S3_BUCKET',
    ],
    [
      'an S3 state backend without its bucket and key',
      { stateBackend: 's3' },
      'retainwise:stateBucketName',
      'is required when stateBackend is "s3"',
    ],
    [
      'a deploy branch the default trust ignores',
      { githubDeployBranch: 'release' },
      'retainwise:githubDeployBranch',
      'only applies when githubDeployTrust is "branch" or "both"',
    ],
    [
      'an unknown deploy trust',
      { githubDeployTrust: 'anyone' },
      'retainwise:githubDeployTrust',
      '"environment", "branch" or "both"',
    ],
    [
      'S3 state settings with Pulumi Cloud',
      { stateBucketName: 'retainwise-pulumi-state' },
      'retainwise:stateBucketName',
      'only applies when stateBackend is "s3"',
    ],
  ])('rejects %s, naming the key', (_, settings, key, message) => {
    expect(issues(settings)).toContainEqual({ key, message: expect.stringContaining(message) as string });
  });

  it('reports every bad key in one error that Pulumi prints without a stack trace', () => {
    let error: unknown;
    try {
      parse({ workerMemory: '100', egress: 'nat', githubRepository: 'nope' });
    } catch (e) {
      error = e;
    }
    expect(pulumi.RunError.isInstance(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toMatch(/^Invalid configuration of stack "prod":/);
    for (const key of ['retainwise:egress', 'retainwise:githubRepository'])
      expect(message).toContain(`  - ${key}: `);
  });

  it('reports an unknown key, a bad value and a check across keys in the same error', () => {
    const keys = issues({
      workerMemroy: '2048',
      egress: 'nat',
      workerMinTasks: '5',
      workerMaxTasks: '4',
    }).map((i) => i.key);
    expect(keys).toEqual(
      expect.arrayContaining(['retainwise:workerMemroy', 'retainwise:egress', 'retainwise:workerMinTasks']),
    );
  });

  it.each<[Record<string, ConfigValue>, string]>([
    [{ averageJobSeconds: '1000' }, 'averageJobSeconds'],
    [{ visibilityTimeoutSeconds: '60' }, 'visibilityTimeoutSeconds'],
    [{ workerCpu: '4096' }, 'workerCpu'],
    [{ messageRetentionSeconds: '1209600' }, 'messageRetentionSeconds'],
  ])('reports a check across keys on the key the user set (%o), naming no other key', (settings, key) => {
    const found = issues(settings);
    expect(found.map((i) => i.key)).toEqual([`retainwise:${key}`]);
    for (const other of CONFIG_KEYS.filter((k) => k !== key)) {
      expect(found[0]?.message).not.toMatch(new RegExp(`\\b${other}\\b`));
    }
  });

  it('does not judge other keys against a value that is itself wrong', () => {
    expect(issues({ workerCpu: 'lots', workerMemory: '16384' }).map((i) => i.key)).toEqual([
      'retainwise:workerCpu',
    ]);
  });

  it('stops the program with that error (it reads its config first)', async () => {
    await expect(deployStack({ egress: 'nat' })).rejects.toThrow(
      /retainwise:egress: must be "vpc-endpoints" or "nat-gateway"/,
    );
  });
});
