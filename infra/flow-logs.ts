// VPC flow logs: a log group, the role the flow logs deliver with, and the flow log of the whole VPC.
import * as aws from '@pulumi/aws';
import type * as pulumi from '@pulumi/pulumi';
import { environmentName, namePrefix } from './names.js';
import { policyDocument, policyJson, serviceRole } from './policy.js';

/** The IAM role the flow logs deliver with (the deploy role manages it, so it must know the name up front). */
export const flowLogsRoleName = (environment: string): string =>
  environmentName('retainwise-vpc-flow-logs-role', environment);

/** Logs all traffic of `vpcId`; the resources are `parent`'s children. Returns the delivery role. */
export function flowLogs(
  parent: pulumi.Resource,
  name: string,
  vpcId: pulumi.Input<string>,
  environment: string,
  accountId: pulumi.Input<string>,
  retentionInDays: number,
): aws.iam.Role {
  const opts = { parent };
  const prefix = namePrefix(environment);
  const logGroup = new aws.cloudwatch.LogGroup(
    `${name}-flow-logs`,
    { name: `/aws/vpc/${prefix}-flow-logs`, retentionInDays },
    opts,
  );
  const { role } = serviceRole(
    `${name}-flow-logs`,
    {
      roleName: flowLogsRoleName(environment),
      service: 'vpc-flow-logs.amazonaws.com',
      accountId,
      policies: {
        inline: {
          'deliver-flow-logs': policyJson([logGroup.arn], ([arn]) =>
            policyDocument([
              {
                Sid: 'WriteFlowLogStreams',
                Effect: 'Allow',
                Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
                Resource: `${arn}:*`,
              },
            ]),
          ),
        },
      },
    },
    opts,
  );
  new aws.ec2.FlowLog(
    `${name}-flow-log`,
    {
      vpcId,
      trafficType: 'ALL',
      logDestinationType: 'cloud-watch-logs',
      logDestination: logGroup.arn,
      iamRoleArn: role.arn,
      maxAggregationInterval: 600,
      tags: { Name: `${prefix}-flow-log` },
    },
    opts,
  );
  return role;
}
