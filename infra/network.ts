// Where the tasks run: an existing VPC's private subnets (brownfield) or a new VPC (greenfield); how they reach
// AWS APIs (VPC endpoints or a NAT gateway); their security groups; VPC flow logs.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { checkExistingVpc, existingVpc } from './existing-vpc.js';
import { flowLogs } from './flow-logs.js';
import { namePrefix } from './names.js';
import {
  NETWORK_DEFAULTS,
  validateNetworkSettings,
  type Egress,
  type NetworkSettings,
} from './network-settings.js';
import { newVpc } from './new-vpc.js';
import { databaseRules, taskEgressRules } from './security-group-rules.js';
import { assertValid, withDefaults } from './validation.js';

/**
 * Interface endpoints a Fargate task in a subnet without NAT needs: image pull (ECR API + registry; layers come
 * from S3 through the gateway endpoint), awslogs, and the secrets injected at start. SQS is not in this list
 * because its endpoint exists in both modes: the queue policy only admits calls through it.
 */
export const EGRESS_INTERFACE_ENDPOINTS = ['ecr.api', 'ecr.dkr', 'logs', 'secretsmanager'] as const;

export interface NetworkArgs extends NetworkSettings {
  /** Names and Name tags are prefixed `retainwise-<environment>`. */
  environment: string;
  region: string;
  accountId: pulumi.Input<string>;
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

    taskEgressRules(
      this,
      name,
      { tasks: this.tasksSecurityGroup, endpoints: this.endpointsSecurityGroup },
      s.egress,
      s3PrefixListId,
    );
    if (args.databaseSecurityGroupId)
      databaseRules(this, name, this.tasksSecurityGroup, args.databaseSecurityGroupId);
    this.flowLogsRole = flowLogs(
      this,
      name,
      this.vpcId,
      args.environment,
      args.accountId,
      s.flowLogRetentionDays,
    );

    this.registerOutputs({ vpcId: this.vpcId, privateSubnetIds: this.privateSubnetIds });
  }
}
