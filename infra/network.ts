// Where the tasks run: an existing VPC's private subnets (brownfield) or a new VPC (greenfield); how they reach
// AWS APIs (VPC endpoints or a NAT gateway); their security groups; VPC flow logs.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { environmentName, namePrefix } from './names.js';
import { attachExclusivePolicies, policyDocument, policyJson, serviceTrustPolicy } from './policy.js';
import { assertValid, check, inRange, pick, withDefaults, type Issue } from './validation.js';

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

interface Cidr {
  address: number;
  prefix: number;
}

function parseCidr(cidr: string): Cidr | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const address = octets.reduce((a, o) => a * 256 + o, 0);
  const block = 2 ** (32 - prefix);
  return address % block === 0 ? { address, prefix } : undefined;
}

/** The `index`-th subnet of `cidr` that is `newBits` longer (Terraform's cidrsubnet). */
export function subnetCidr(cidr: string, newBits: number, index: number): string {
  const parsed = parseCidr(cidr);
  if (!parsed) throw new Error(`invalid CIDR ${cidr}`);
  const prefix = parsed.prefix + newBits;
  if (prefix > 28 || index >= 2 ** newBits) throw new Error(`${cidr} has no subnet #${index} of /${prefix}`);
  const address = parsed.address + index * 2 ** (32 - prefix);
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256);
  return `${octets.join('.')}/${prefix}`;
}

// A new VPC is cut into 16 equal blocks: private subnets take blocks 0-5, public (NAT) subnets blocks 8-13.
const SUBNET_NEW_BITS = 4;
const PUBLIC_BLOCK_OFFSET = 8;

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
      ? this.existingVpc(args.vpcId, args.privateSubnetIds ?? [])
      : this.newVpc(name, s, tag);
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
      this.checkExistingVpc(placement.lookup, placement.routeTableIds, {
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

  private existingVpc(vpcId: string, subnetIds: string[]) {
    const vpc = aws.ec2.getVpcOutput({ id: vpcId }, { parent: this });
    // Secondary CIDR associations too: workloads in them resolve the same private DNS names.
    const cidrBlocks = vpc.cidrBlockAssociations.apply((associations) =>
      associations.filter((a) => a.state === 'associated').map((a) => a.cidrBlock),
    );
    // A subnet with no explicit association uses the VPC's main route table. getRouteTable({ subnetId }) filters
    // on association.subnet-id, which an implicit association lacks, and fails ("query returned no results");
    // getRouteTables answers an empty list. (terraform-provider-aws internal/service/ec2/
    // vpc_route_table_data_source.go and vpc_route_tables_data_source.go;
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeRouteTables.html)
    const routeTableIds = pulumi
      .all(
        subnetIds.map((subnetId) =>
          pulumi
            .all([
              aws.ec2.getRouteTablesOutput(
                { vpcId, filters: [{ name: 'association.subnet-id', values: [subnetId] }] },
                { parent: this },
              ).ids,
              vpc.mainRouteTableId,
            ])
            .apply(([explicit, main]) => explicit[0] ?? main),
        ),
      )
      .apply((ids) => [...new Set(ids)]);
    return {
      vpcId: pulumi.output(vpcId),
      subnetIds: pulumi.output(subnetIds),
      routeTableIds,
      cidrBlocks,
      lookup: { id: vpcId, vpc },
    };
  }

  /**
   * Rejects, every problem at once, what AWS would refuse in an existing VPC when `pulumi up` reaches the
   * endpoints. Invokes whose arguments are known run during `pulumi preview` as well (only unknown arguments
   * make @pulumi/pulumi skip one: runtime/invoke.ts `invokeAsync`), so the SettingsError thrown here fails the
   * preview. Nothing consumes the result on purpose: the rejection goes unhandled, and the language host
   * prints a RunError's message once, without a stack, and fails the run (sdk/nodejs/cmd/run/run.ts
   * `uncaughtHandler`); as a resource input it would be reported per resource, wrapped in "error serializing".
   */
  private checkExistingVpc(
    lookup: { id: string; vpc: pulumi.Output<aws.ec2.GetVpcResult> },
    routeTableIds: pulumi.Output<string[]>,
    wanted: {
      /** Full service names of the interface endpoints we create, all with private DNS. */
      interfaceServices: string[];
      /** Unset when we create no S3 gateway endpoint. */
      s3Service: string | undefined;
      s3PrefixListId: pulumi.Output<string>;
      ownName: (serviceName: string) => string;
    },
  ): void {
    const { id: vpcId, vpc } = lookup;
    const foreignS3Routes = wanted.s3Service
      ? this.foreignS3Routes(vpcId, routeTableIds, wanted.s3Service, wanted.s3PrefixListId, wanted.ownName)
      : pulumi.output([]);
    const privateDnsConflicts = this.privateDnsConflicts(vpcId, wanted.interfaceServices, wanted.ownName);
    pulumi.all([vpc, foreignS3Routes, privateDnsConflicts]).apply(([attributes, routed, conflicts]) =>
      assertValid(`existing VPC ${vpcId}`, [
        // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpcEndpoint.html (PrivateDnsEnabled)
        ...check(
          [
            attributes.enableDnsSupport,
            'vpcId',
            `enableDnsSupport is off, and the interface endpoints' private DNS needs it: turn it on (aws ec2 modify-vpc-attribute --vpc-id ${vpcId} --enable-dns-support) or choose another VPC`,
          ],
          [
            attributes.enableDnsHostnames,
            'vpcId',
            `enableDnsHostnames is off, and the interface endpoints' private DNS needs it: turn it on (aws ec2 modify-vpc-attribute --vpc-id ${vpcId} --enable-dns-hostnames) or choose another VPC`,
          ],
          [
            routed.length === 0,
            's3GatewayEndpoint',
            `the privateSubnetIds' route table ${routed.join(', ')} already routes S3 through another gateway endpoint, and AWS refuses a second route to the S3 prefix list (RouteAlreadyExists): set s3GatewayEndpoint false to use that one`,
          ],
        ),
        ...conflicts.map((e) => ({
          key: 'vpcId',
          message: `${e.id} already serves ${e.serviceName} with private DNS in this VPC, and AWS refuses a second private DNS name for it ("conflicting DNS domain"): turn off that endpoint's private DNS (ours then answers for the whole VPC) or choose another VPC`,
        })),
      ]),
    );
  }

  /** Which of `routeTableIds` already route the S3 prefix list through a gateway endpoint other than ours. */
  private foreignS3Routes(
    vpcId: string,
    routeTableIds: pulumi.Output<string[]>,
    s3Service: string,
    s3PrefixListId: pulumi.Output<string>,
    ownName: (serviceName: string) => string,
  ): pulumi.Output<string[]> {
    const opts = { parent: this };
    // The route table data sources leave endpoint routes out (terraform-provider-aws
    // vpc_route_table_data_source.go skips prefix-list routes via vpce-), so filter on the route instead
    // (DescribeRouteTables' route.destination-prefix-list-id).
    const routed = aws.ec2.getRouteTablesOutput(
      {
        vpcId,
        filters: [
          { name: 'route-table-id', values: routeTableIds },
          { name: 'route.destination-prefix-list-id', values: [s3PrefixListId] },
        ],
      },
      opts,
    ).ids;
    return routed.apply(async (ids) => {
      if (ids.length === 0) return [];
      // There is no list data source for endpoints; the singular one fails when nothing matches.
      const own = await aws.ec2
        .getVpcEndpoint(
          { vpcId, serviceName: s3Service, vpcEndpointType: 'Gateway', tags: { Name: ownName(s3Service) } },
          opts,
        )
        .catch(noMatchingEndpoint);
      return ids.filter((id) => !own?.routeTableIds.includes(id));
    });
  }

  /** Interface endpoints of the VPC, not ours, that already answer one of `serviceNames` with private DNS. */
  private privateDnsConflicts(
    vpcId: string,
    serviceNames: string[],
    ownName: (serviceName: string) => string,
  ): pulumi.Output<{ id: string; serviceName: string }[]> {
    const opts = { parent: this };
    // Endpoints are found through their network interfaces, whose description names the endpoint
    // ("VPC Endpoint Interface vpce-…", with a colon on some older ones): a list lookup that may come back empty.
    const interfaceIds = aws.ec2.getNetworkInterfacesOutput(
      {
        filters: [
          { name: 'vpc-id', values: [vpcId] },
          { name: 'description', values: ['VPC Endpoint Interface*'] },
        ],
      },
      opts,
    ).ids;
    return interfaceIds.apply(async (ids) => {
      const interfaces = await Promise.all(ids.map((id) => aws.ec2.getNetworkInterface({ id }, opts)));
      const endpointIds = new Set(interfaces.flatMap((i) => /vpce-[0-9a-f]+/.exec(i.description) ?? []));
      const endpoints = await Promise.all([...endpointIds].map((id) => aws.ec2.getVpcEndpoint({ id }, opts)));
      return endpoints
        .filter(
          (e) =>
            e.privateDnsEnabled &&
            serviceNames.includes(e.serviceName) &&
            e.tags['Name'] !== ownName(e.serviceName),
        )
        .map((e) => ({ id: e.id, serviceName: e.serviceName }));
    });
  }

  private newVpc(name: string, s: ResolvedNetwork, tag: (suffix: string) => Record<string, string>) {
    const parent = { parent: this };
    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      // DNS support and hostnames are what let interface endpoints answer the public service names.
      { cidrBlock: s.vpcCidr, enableDnsSupport: true, enableDnsHostnames: true, tags: tag('vpc') },
      parent,
    );
    // Nothing may use the default security group: strip its rules (CIS AWS Foundations 5.4).
    new aws.ec2.DefaultSecurityGroup(
      `${name}-default-sg`,
      { vpcId: vpc.id, tags: tag('default-unused') },
      parent,
    );
    const zones = aws.getAvailabilityZonesOutput(
      { state: 'available', filters: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }] },
      parent,
    ).names;
    const azs = Array.from({ length: s.azCount }, (_, i) => zones.apply((names) => zoneAt(names, i)));

    const natGateways = s.egress === 'nat-gateway' ? this.natGateways(name, vpc, azs, s, tag) : [];
    const subnets = azs.map((availabilityZone, i) => {
      const subnet = new aws.ec2.Subnet(
        `${name}-private-${i}`,
        {
          vpcId: vpc.id,
          availabilityZone,
          cidrBlock: subnetCidr(s.vpcCidr, SUBNET_NEW_BITS, i),
          mapPublicIpOnLaunch: false,
          tags: tag(`private-${i}`),
        },
        parent,
      );
      const nat = natGateways[i % Math.max(natGateways.length, 1)];
      const routeTable = new aws.ec2.RouteTable(
        `${name}-private-${i}`,
        {
          vpcId: vpc.id,
          routes: nat ? [{ cidrBlock: '0.0.0.0/0', natGatewayId: nat.id }] : [],
          tags: tag(`private-${i}`),
        },
        parent,
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-private-${i}`,
        { subnetId: subnet.id, routeTableId: routeTable.id },
        parent,
      );
      return { subnet, routeTable };
    });
    return {
      vpcId: vpc.id,
      subnetIds: pulumi.all(subnets.map((x) => x.subnet.id)),
      routeTableIds: pulumi.all(subnets.map((x) => x.routeTable.id)),
      cidrBlocks: pulumi.output([s.vpcCidr]),
      lookup: undefined,
    };
  }

  private natGateways(
    name: string,
    vpc: aws.ec2.Vpc,
    azs: pulumi.Output<string>[],
    s: ResolvedNetwork,
    tag: (suffix: string) => Record<string, string>,
  ): aws.ec2.NatGateway[] {
    const parent = { parent: this };
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: tag('igw') }, parent);
    const publicRoutes = new aws.ec2.RouteTable(
      `${name}-public`,
      { vpcId: vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', gatewayId: igw.id }], tags: tag('public') },
      parent,
    );
    return azs.slice(0, s.natGatewayCount).map((availabilityZone, i) => {
      // Public subnets hold only the NAT gateways: tasks never get public IPs.
      const subnet = new aws.ec2.Subnet(
        `${name}-public-${i}`,
        {
          vpcId: vpc.id,
          availabilityZone,
          cidrBlock: subnetCidr(s.vpcCidr, SUBNET_NEW_BITS, PUBLIC_BLOCK_OFFSET + i),
          mapPublicIpOnLaunch: false,
          tags: tag(`public-${i}`),
        },
        parent,
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-public-${i}`,
        { subnetId: subnet.id, routeTableId: publicRoutes.id },
        parent,
      );
      const eip = new aws.ec2.Eip(`${name}-nat-${i}`, { domain: 'vpc', tags: tag(`nat-${i}`) }, parent);
      return new aws.ec2.NatGateway(
        `${name}-nat-${i}`,
        { subnetId: subnet.id, allocationId: eip.id, tags: tag(`nat-${i}`) },
        { parent: this, dependsOn: [igw] },
      );
    });
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

/** The singular endpoint lookup's "nothing matched" (tfresource.SingularDataSourceFindError) as undefined. */
function noMatchingEndpoint(error: unknown): undefined {
  if (error instanceof Error && /no matching (EC2 )?VPC Endpoint found/.test(error.message)) return undefined;
  throw error;
}

function zoneAt(names: string[], i: number): string {
  const zone = names[i];
  if (!zone) throw new Error(`the region has only ${names.length} usable availability zones; lower azCount`);
  return zone;
}
