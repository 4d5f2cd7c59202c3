// The rules of the tasks' security group: HTTPS out (to the endpoints and S3, or through the NAT gateway), and
// PostgreSQL between the tasks and the database.
import * as aws from '@pulumi/aws';
import type * as pulumi from '@pulumi/pulumi';
import type { Egress } from './network-settings.js';

/** HTTPS from the tasks to AWS APIs, the way `egress` reaches them; the rules are `parent`'s children. */
export function taskEgressRules(
  parent: pulumi.Resource,
  name: string,
  groups: { tasks: aws.ec2.SecurityGroup; endpoints: aws.ec2.SecurityGroup },
  egress: Egress,
  s3PrefixListId: pulumi.Output<string>,
): void {
  const opts = { parent };
  const https = {
    securityGroupId: groups.tasks.id,
    ipProtocol: 'tcp',
    fromPort: 443,
    toPort: 443,
  };
  if (egress === 'nat-gateway') {
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-tasks-https`,
      { ...https, cidrIpv4: '0.0.0.0/0', description: 'HTTPS to AWS APIs through the NAT gateway' },
      opts,
    );
    return;
  }
  new aws.vpc.SecurityGroupEgressRule(
    `${name}-tasks-https-endpoints`,
    {
      ...https,
      referencedSecurityGroupId: groups.endpoints.id,
      description: 'HTTPS to the interface endpoints',
    },
    opts,
  );
  new aws.vpc.SecurityGroupEgressRule(
    `${name}-tasks-https-s3`,
    { ...https, prefixListId: s3PrefixListId, description: 'HTTPS to S3 through the gateway endpoint' },
    opts,
  );
}

/** PostgreSQL from the tasks to the database, on both groups; the rules are `parent`'s children. */
export function databaseRules(
  parent: pulumi.Resource,
  name: string,
  tasksSecurityGroup: aws.ec2.SecurityGroup,
  databaseSecurityGroupId: string,
): void {
  const opts = { parent };
  const postgres = { ipProtocol: 'tcp', fromPort: 5432, toPort: 5432 };
  new aws.vpc.SecurityGroupEgressRule(
    `${name}-tasks-postgres`,
    {
      ...postgres,
      securityGroupId: tasksSecurityGroup.id,
      referencedSecurityGroupId: databaseSecurityGroupId,
      description: 'PostgreSQL to the database',
    },
    opts,
  );
  // A rule resource of its own on the database's group: it adds to, never replaces, that group's rules.
  new aws.vpc.SecurityGroupIngressRule(
    `${name}-database-from-tasks`,
    {
      ...postgres,
      securityGroupId: databaseSecurityGroupId,
      referencedSecurityGroupId: tasksSecurityGroup.id,
      description: 'PostgreSQL from the RetainWise ECS tasks',
    },
    opts,
  );
}
