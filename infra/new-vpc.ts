// A new VPC (greenfield): private subnets in each zone, and NAT gateways in public subnets when egress needs them.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { ResolvedNetworkSettings } from './network-settings.js';

// A new VPC is cut into 16 equal blocks: private subnets take blocks 0-5, public (NAT) subnets blocks 8-13.
const SUBNET_NEW_BITS = 4;
const PUBLIC_BLOCK_OFFSET = 8;

interface Cidr {
  address: number;
  prefix: number;
}

export function parseCidr(cidr: string): Cidr | undefined {
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

export function newVpc(
  parent: pulumi.Resource,
  name: string,
  s: ResolvedNetworkSettings,
  tag: (suffix: string) => Record<string, string>,
) {
  const opts = { parent };
  const vpc = new aws.ec2.Vpc(
    `${name}-vpc`,
    // DNS support and hostnames are what let interface endpoints answer the public service names.
    { cidrBlock: s.vpcCidr, enableDnsSupport: true, enableDnsHostnames: true, tags: tag('vpc') },
    opts,
  );
  // Nothing may use the default security group: strip its rules (CIS AWS Foundations 5.4).
  new aws.ec2.DefaultSecurityGroup(
    `${name}-default-sg`,
    { vpcId: vpc.id, tags: tag('default-unused') },
    opts,
  );
  const zones = aws.getAvailabilityZonesOutput(
    { state: 'available', filters: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }] },
    opts,
  ).names;
  const azs = Array.from({ length: s.azCount }, (_, i) => zones.apply((names) => zoneAt(names, i)));

  const nats = s.egress === 'nat-gateway' ? natGateways(parent, name, vpc, azs, s, tag) : [];
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
      opts,
    );
    const nat = nats[i % Math.max(nats.length, 1)];
    const routeTable = new aws.ec2.RouteTable(
      `${name}-private-${i}`,
      {
        vpcId: vpc.id,
        routes: nat ? [{ cidrBlock: '0.0.0.0/0', natGatewayId: nat.id }] : [],
        tags: tag(`private-${i}`),
      },
      opts,
    );
    new aws.ec2.RouteTableAssociation(
      `${name}-private-${i}`,
      { subnetId: subnet.id, routeTableId: routeTable.id },
      opts,
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

function natGateways(
  parent: pulumi.Resource,
  name: string,
  vpc: aws.ec2.Vpc,
  azs: pulumi.Output<string>[],
  s: ResolvedNetworkSettings,
  tag: (suffix: string) => Record<string, string>,
): aws.ec2.NatGateway[] {
  const opts = { parent };
  const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: tag('igw') }, opts);
  const publicRoutes = new aws.ec2.RouteTable(
    `${name}-public`,
    { vpcId: vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', gatewayId: igw.id }], tags: tag('public') },
    opts,
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
      opts,
    );
    new aws.ec2.RouteTableAssociation(
      `${name}-public-${i}`,
      { subnetId: subnet.id, routeTableId: publicRoutes.id },
      opts,
    );
    const eip = new aws.ec2.Eip(`${name}-nat-${i}`, { domain: 'vpc', tags: tag(`nat-${i}`) }, opts);
    return new aws.ec2.NatGateway(
      `${name}-nat-${i}`,
      { subnetId: subnet.id, allocationId: eip.id, tags: tag(`nat-${i}`) },
      { parent, dependsOn: [igw] },
    );
  });
}

function zoneAt(names: string[], i: number): string {
  const zone = names[i];
  if (!zone) throw new Error(`the region has only ${names.length} usable availability zones; lower azCount`);
  return zone;
}
