// Where the tasks run: an existing VPC's private subnets (brownfield) or a new VPC (greenfield); how they reach
// AWS APIs (VPC endpoints or a NAT gateway); their security groups; VPC flow logs.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { environmentName, namePrefix } from './names.js';
import { attachExclusivePolicies, policyDocument, policyJson, serviceTrustPolicy } from './policy.js';
import { checkExistingVpc, existingVpc } from './existing-vpc.js';
import { newVpc, parseCidr } from './new-vpc.js';
import { assertValid, check, inRange, pick, withDefaults, type Issue } from './validation.js';

export { subnetCidr } from './new-vpc.js';

export type Egress = 'vpc-endpoints' | 'nat-gateway';

export const NETWORK_DEFAULTS = {
  vpcCidr: '10.40.0.0/16',
  azCount: 2,
  egress: 'vpc-endpoints' as Egress,
  natGatewayCount: 1,
  s3GatewayEndpoint: true,
  flowLogRetentionDays: 30,
};

/**
 * Interface endpoints a Fargate task in a subnet without NAT needs: image pull (ECR API + registry; layers come
 * from S3 through the gateway endpoint), awslogs, and the secrets injected at start. SQS is not in this list
 * because its endpoint exists in both modes: the queue policy only admits calls through it.
 */
export const EGRESS_INTERFACE_ENDPOINTS = ['ecr.api', 'ecr.dkr', 'logs', 'secretsmanager'] as const;

export interface NetworkSettings {
  /** An existing VPC (brownfield). @default undefined (a new VPC is created) */
  vpcId?: string | undefined;
  /** Private subnets of `vpcId`, one per AZ, at least two. Required with `vpcId`, rejected without. @default undefined */
  privateSubnetIds?: string[] | undefined;
  /** CIDR of a new VPC (only without `vpcId`); /16 to /24. @default '10.40.0.0/16' */
  vpcCidr?: string | undefined;
  /** Availability zones of a new VPC (only without `vpcId`). @default 2 */
  azCount?: number | undefined;
  /**
   * How the tasks reach ECR, CloudWatch Logs and Secrets Manager: `vpc-endpoints` (interface endpoints, no
   * internet path) or `nat-gateway` (a new VPC gets NAT gateways; an existing VPC must already route its private
   * subnets through one). @default 'vpc-endpoints'
   */
  egress?: Egress | undefined;
  /** NAT gateways of a new VPC with `egress: nat-gateway`; one per AZ removes the single-AZ dependency. @default 1 */
  natGatewayCount?: number | undefined;
  /** Create the (free) S3 gateway endpoint; set false when the VPC's route tables already have one. @default true */
  s3GatewayEndpoint?: boolean | undefined;
  /** The database's security group: tasks get egress 5432 to it and it gets ingress 5432 from them. @default undefined */
  databaseSecurityGroupId?: string | undefined;
  /** Retention of the VPC flow log group, in days. @default 30 */
  flowLogRetentionDays?: number | undefined;
}

type ResolvedNetwork = NetworkArgs & typeof NETWORK_DEFAULTS;

/** The network keys of the stack config; their defaults are applied by the component (NETWORK_DEFAULTS). */
export function networkSettings(s: NetworkSettings): NetworkSettings {
  return pick(s, [
    'vpcId',
    'privateSubnetIds',
    'vpcCidr',
    'azCount',
    'egress',
    'natGatewayCount',
    's3GatewayEndpoint',
    'databaseSecurityGroupId',
    'flowLogRetentionDays',
  ]);
}

export interface NetworkArgs extends NetworkSettings {
  /** Names and Name tags are prefixed `retainwise-<environment>`. */
  environment: string;
  region: string;
  accountId: pulumi.Input<string>;
}

/** The IAM role the flow logs deliver with (the deploy role manages it, so it must know the name up front). */
export const flowLogsRoleName = (environment: string): string =>
  environmentName('retainwise-vpc-flow-logs-role', environment);

export function validateNetworkSettings(s: NetworkSettings): Issue[] {
  const egress = s.egress ?? NETWORK_DEFAULTS.egress;
  if (s.vpcId !== undefined) {
    const subnets = s.privateSubnetIds ?? [];
    return check(
      [
        s.privateSubnetIds !== undefined,
        'privateSubnetIds',
        'is required with vpcId (the private subnets the tasks run in)',
      ],
      [
        s.privateSubnetIds === undefined || subnets.length >= 2,
        'privateSubnetIds',
        'needs at least two subnets in different AZs',
      ],
      [new Set(subnets).size === subnets.length, 'privateSubnetIds', 'lists a subnet twice'],
      [s.vpcCidr === undefined, 'vpcCidr', 'only applies to a new VPC (remove it, or remove vpcId)'],
      [s.azCount === undefined, 'azCount', 'only applies to a new VPC (remove it, or remove vpcId)'],
      [
        s.natGatewayCount === undefined,
        'natGatewayCount',
        'only applies to a new VPC; an existing VPC keeps its own NAT',
      ],
    );
  }
  const azCount = s.azCount ?? NETWORK_DEFAULTS.azCount;
  const cidr = parseCidr(s.vpcCidr ?? NETWORK_DEFAULTS.vpcCidr);
  return check(
    [s.privateSubnetIds === undefined, 'privateSubnetIds', 'only applies with vpcId (an existing VPC)'],
    [
      cidr !== undefined && cidr.prefix >= 16 && cidr.prefix <= 24,
      'vpcCidr',
      'must be a valid IPv4 CIDR from /16 to /24',
    ],
    [inRange(azCount, 2, 6), 'azCount', 'must be 2-6'],
    [
      s.natGatewayCount === undefined || egress === 'nat-gateway',
      'natGatewayCount',
      'only applies with egress "nat-gateway"',
    ],
    [
      s.natGatewayCount === undefined || inRange(s.natGatewayCount, 1, azCount),
      'natGatewayCount',
      `must be 1-${azCount} (at most one per AZ)`,
    ],
  );
}

export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string[]>;
  /** Attached to every task: egress only. */
  readonly tasksSecurityGroup: aws.ec2.SecurityGroup;
  readonly endpointsSecurityGroup: aws.ec2.SecurityGroup;
  readonly sqsEndpoint: aws.ec2.VpcEndpoint;
  readonly egress: Egress;
  readonly flowLogsRole: aws.iam.Role;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    assertValid(`Network '${name}' arguments`, validateNetworkSettings(args));
    super('retainwise:network:Network', name, {}, opts);
    const s = withDefaults(NETWORK_DEFAULTS, args);
    const parent = { parent: this };
    const prefix = namePrefix(args.environment);
    const tag = (suffix: string) => ({ Name: `${prefix}-${suffix}` });
    this.egress = s.egress;

    const placement = args.vpcId
      ? existingVpc(this, args.vpcId, args.privateSubnetIds ?? [])
      : newVpc(this, name, s, tag);
    this.vpcId = placement.vpcId;
    this.privateSubnetIds = placement.subnetIds;

    this.tasksSecurityGroup = new aws.ec2.SecurityGroup(
      `${name}-tasks`,
      {
        name: `${prefix}-tasks`,
        description: 'RetainWise ECS tasks: egress to AWS APIs (and the database) only',
        vpcId: this.vpcId,
        tags: tag('tasks'),
      },
      parent,
    );
    // Private DNS makes the services' public names (sqs.<region>.amazonaws.com, ecr.*, logs.*, ...) resolve to
    // these endpoints for the whole VPC, so every workload in it, the existing API included, now calls AWS
    // through them: admit HTTPS from all of the VPC's CIDR blocks, not only from our tasks. Inline, because an
    // existing VPC's blocks are known only from the lookup. The description is immutable (a change replaces
    // the group). https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html
    this.endpointsSecurityGroup = new aws.ec2.SecurityGroup(
      `${name}-endpoints`,
      {
        name: `${prefix}-vpc-endpoints`,
        description: 'RetainWise interface VPC endpoints: HTTPS from the ECS tasks',
        vpcId: this.vpcId,
        ingress: placement.cidrBlocks.apply((cidrBlocks) => [
          {
            protocol: 'tcp',
            fromPort: 443,
            toPort: 443,
            cidrBlocks,
            description: 'HTTPS from the whole VPC: private DNS sends its AWS API calls here',
          },
        ]),
        tags: tag('vpc-endpoints'),
      },
      parent,
    );

    const endpoint = (service: string) =>
      new aws.ec2.VpcEndpoint(
        `${name}-${service.replace('.', '-')}`,
        {
          vpcId: this.vpcId,
          serviceName: `com.amazonaws.${args.region}.${service}`,
          vpcEndpointType: 'Interface',
          privateDnsEnabled: true,
          subnetIds: this.privateSubnetIds,
          securityGroupIds: [this.endpointsSecurityGroup.id],
          tags: tag(`${service}-endpoint`),
        },
        parent,
      );
    // Always present: the queue policy admits data-plane calls only through this endpoint (lessons #31).
    this.sqsEndpoint = endpoint('sqs');
    const egressServices = s.egress === 'vpc-endpoints' ? EGRESS_INTERFACE_ENDPOINTS : [];
    egressServices.forEach(endpoint);
    const s3PrefixListId = aws.ec2.getPrefixListOutput(
      { name: `com.amazonaws.${args.region}.s3` },
      parent,
    ).id;
    if (s.s3GatewayEndpoint) {
      new aws.ec2.VpcEndpoint(
        `${name}-s3`,
        {
          vpcId: this.vpcId,
          serviceName: `com.amazonaws.${args.region}.s3`,
          vpcEndpointType: 'Gateway',
          routeTableIds: placement.routeTableIds,
          tags: tag('s3-endpoint'),
        },
        parent,
      );
    }

    if (placement.lookup) {
      checkExistingVpc(this, placement.lookup, placement.routeTableIds, {
        interfaceServices: ['sqs', ...egressServices].map(
          (service) => `com.amazonaws.${args.region}.${service}`,
        ),
        s3Service: s.s3GatewayEndpoint ? `com.amazonaws.${args.region}.s3` : undefined,
        s3PrefixListId,
        // Our own endpoints from an earlier deployment are no conflict: they carry the Name tags given above.
        ownName: (serviceName) =>
          tag(`${serviceName.replace(`com.amazonaws.${args.region}.`, '')}-endpoint`).Name,
      });
    }

    this.egressRules(name, s, s3PrefixListId);
    if (args.databaseSecurityGroupId) this.databaseRules(name, args.databaseSecurityGroupId);
    this.flowLogsRole = this.flowLogs(name, args.environment, args.accountId, s.flowLogRetentionDays);

    this.registerOutputs({ vpcId: this.vpcId, privateSubnetIds: this.privateSubnetIds });
  }

  private egressRules(name: string, s: ResolvedNetwork, s3PrefixListId: pulumi.Output<string>): void {
    const parent = { parent: this };
    const https = {
      securityGroupId: this.tasksSecurityGroup.id,
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
    };
    if (s.egress === 'nat-gateway') {
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-tasks-https`,
        { ...https, cidrIpv4: '0.0.0.0/0', description: 'HTTPS to AWS APIs through the NAT gateway' },
        parent,
      );
      return;
    }
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-tasks-https-endpoints`,
      {
        ...https,
        referencedSecurityGroupId: this.endpointsSecurityGroup.id,
        description: 'HTTPS to the interface endpoints',
      },
      parent,
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-tasks-https-s3`,
      { ...https, prefixListId: s3PrefixListId, description: 'HTTPS to S3 through the gateway endpoint' },
      parent,
    );
  }

  private databaseRules(name: string, databaseSecurityGroupId: string): void {
    const parent = { parent: this };
    const postgres = { ipProtocol: 'tcp', fromPort: 5432, toPort: 5432 };
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-tasks-postgres`,
      {
        ...postgres,
        securityGroupId: this.tasksSecurityGroup.id,
        referencedSecurityGroupId: databaseSecurityGroupId,
        description: 'PostgreSQL to the database',
      },
      parent,
    );
    // A rule resource of its own on the database's group: it adds to, never replaces, that group's rules.
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-database-from-tasks`,
      {
        ...postgres,
        securityGroupId: databaseSecurityGroupId,
        referencedSecurityGroupId: this.tasksSecurityGroup.id,
        description: 'PostgreSQL from the RetainWise ECS tasks',
      },
      parent,
    );
  }

  private flowLogs(
    name: string,
    environment: string,
    accountId: pulumi.Input<string>,
    retentionInDays: number,
  ): aws.iam.Role {
    const parent = { parent: this };
    const prefix = namePrefix(environment);
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-flow-logs`,
      { name: `/aws/vpc/${prefix}-flow-logs`, retentionInDays },
      parent,
    );
    const role = new aws.iam.Role(
      `${name}-flow-logs`,
      {
        name: flowLogsRoleName(environment),
        assumeRolePolicy: policyJson([accountId], ([accountId]) =>
          serviceTrustPolicy('vpc-flow-logs.amazonaws.com', accountId),
        ),
      },
      parent,
    );
    attachExclusivePolicies(
      `${name}-flow-logs`,
      role,
      {
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
      parent,
    );
    new aws.ec2.FlowLog(
      `${name}-flow-log`,
      {
        vpcId: this.vpcId,
        trafficType: 'ALL',
        logDestinationType: 'cloud-watch-logs',
        logDestination: logGroup.arn,
        iamRoleArn: role.arn,
        maxAggregationInterval: 600,
        tags: { Name: `${prefix}-flow-log` },
      },
      parent,
    );
    return role;
  }
}
