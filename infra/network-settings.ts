// The network keys of the stack config, their defaults and the combinations a VPC allows: an existing VPC brings its
// subnets and NAT, a new one is cut from a CIDR.
import { parseCidr } from './new-vpc.js';
import { check, inRange, pick, type Issue } from './validation.js';

export type Egress = 'vpc-endpoints' | 'nat-gateway';

export const NETWORK_DEFAULTS = {
  vpcCidr: '10.40.0.0/16',
  azCount: 2,
  egress: 'vpc-endpoints' as Egress,
  natGatewayCount: 1,
  s3GatewayEndpoint: true,
  flowLogRetentionDays: 30,
};

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

export type ResolvedNetworkSettings = NetworkSettings & typeof NETWORK_DEFAULTS;

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
