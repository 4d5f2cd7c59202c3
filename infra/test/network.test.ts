// Network in either VPC mode: the database rule pair, and settings that belong to the other mode.
import { describe, expect, it } from 'vitest';
import { Network } from '../network.js';
import { SettingsError } from '../validation.js';
import { ACCOUNT, REGION } from './support/program.js';
import { EGRESS, EXISTING, INGRESS, network } from './support/network.js';

describe('Network', () => {
  it('opens PostgreSQL between the tasks and the database security group, in both directions of the rule pair', async () => {
    const stack = await network({ ...EXISTING, databaseSecurityGroupId: 'sg-0a1b2c3d4e5f6071b' });
    const tasksSg = stack.one('aws:ec2/securityGroup:SecurityGroup', 'network-tasks').id;
    expect(stack.one(EGRESS, 'network-tasks-postgres').inputs).toMatchObject({
      securityGroupId: tasksSg,
      referencedSecurityGroupId: 'sg-0a1b2c3d4e5f6071b',
      fromPort: 5432,
      toPort: 5432,
    });
    expect(stack.one(INGRESS, 'network-database-from-tasks').inputs).toMatchObject({
      securityGroupId: 'sg-0a1b2c3d4e5f6071b',
      referencedSecurityGroupId: tasksSg,
      fromPort: 5432,
    });
  });

  it('rejects settings of the other VPC mode', () => {
    expect(
      () =>
        new Network('bad', {
          ...EXISTING,
          vpcCidr: '10.0.0.0/16',
          environment: 'x',
          region: REGION,
          accountId: ACCOUNT,
        }),
    ).toThrow(SettingsError);
    expect(
      () =>
        new Network('bad', {
          privateSubnetIds: EXISTING.privateSubnetIds,
          environment: 'x',
          region: REGION,
          accountId: ACCOUNT,
        }),
    ).toThrow(/privateSubnetIds: only applies with vpcId/);
  });
});
