// The existing VPC that a brownfield stack looks up: the offline cloud answers the EC2 data sources (the VPC,
// its route tables, network interfaces and endpoints) from a description of that VPC, filtering the way EC2 does.
import { fakeId, S3_PREFIX_LIST_ID } from './cloud-attributes.js';

/**
 * What the data-source lookups of an existing VPC answer: its CIDRs, DNS attributes, which subnets ride on its
 * main route table (every other subnet has a route table of its own) and the VPC endpoints it already has.
 */
export interface OfflineVpc {
  /** Associated IPv4 CIDR blocks, the primary first. */
  cidrBlocks: string[];
  enableDnsSupport: boolean;
  enableDnsHostnames: boolean;
  /** Subnets with no explicit route table association, so on the main route table. */
  subnetsOnMainRouteTable: string[];
  endpoints: OfflineVpcEndpoint[];
}

export interface OfflineVpcEndpoint {
  id: string;
  /** e.g. `com.amazonaws.us-east-1.sqs` */
  serviceName: string;
  vpcEndpointType: 'Interface' | 'Gateway';
  privateDnsEnabled: boolean;
  /** Gateway endpoints: the route tables that carry its prefix-list route. */
  routeTableIds?: string[];
  /** Interface endpoints: one network interface in each. */
  subnetIds?: string[];
  tags?: Record<string, string>;
}

export const HEALTHY_VPC: OfflineVpc = {
  cidrBlocks: ['10.0.0.0/16'],
  enableDnsSupport: true,
  enableDnsHostnames: true,
  subnetsOnMainRouteTable: [],
  endpoints: [],
};

/** The route table the offline cloud gives a subnet that has an explicit association. */
export const routeTableOf = (subnetId: string): string => fakeId('rtb', subnetId);
export const mainRouteTableOf = (vpcId: string): string => fakeId('rtb', `${vpcId}/main`);

/** A failed invoke as the engine reports it: the SDK rethrows the gRPC error's `details`. */
function providerError(message: string): Error {
  return Object.assign(new Error(message), { details: message });
}

/**
 * The existing VPC's lookups, answered from `vpc` with the provider's output property names; undefined for a
 * token that is not one of them.
 */
export function describeVpc(
  vpc: OfflineVpc,
  { accountId, region }: { accountId: string; region: string },
  token: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const filter = filters(inputs);
  const interfaces = vpc.endpoints.flatMap((e) =>
    (e.subnetIds ?? []).map((subnetId) => ({
      id: fakeId('eni', `${e.id}/${subnetId}`),
      subnetId,
      endpoint: e,
    })),
  );
  switch (token) {
    case 'aws:ec2/getVpc:getVpc': {
      const id = String(inputs['id']);
      return {
        id,
        arn: `arn:aws:ec2:${region}:${accountId}:vpc/${id}`,
        cidrBlock: vpc.cidrBlocks[0],
        cidrBlockAssociations: vpc.cidrBlocks.map((cidrBlock) => ({
          associationId: fakeId('vpc-cidr-assoc', cidrBlock),
          cidrBlock,
          state: 'associated',
        })),
        enableDnsSupport: vpc.enableDnsSupport,
        enableDnsHostnames: vpc.enableDnsHostnames,
        mainRouteTableId: mainRouteTableOf(id),
        ownerId: accountId,
        state: 'available',
        default: false,
        tags: {},
      };
    }
    case 'aws:ec2/getRouteTables:getRouteTables': {
      // Only the filters the program sends; like EC2, each filter narrows the result.
      let ids = (filter['association.subnet-id'] ?? [])
        .filter((s) => !vpc.subnetsOnMainRouteTable.includes(s))
        .map(routeTableOf);
      const only = filter['route-table-id'];
      if (only) ids = [...ids, ...only].filter((id) => only.includes(id));
      const prefixLists = filter['route.destination-prefix-list-id'];
      if (prefixLists) {
        const routed = vpc.endpoints
          .filter((e) => e.vpcEndpointType === 'Gateway' && prefixLists.includes(prefixListOf(e, region)))
          .flatMap((e) => e.routeTableIds ?? []);
        ids = ids.filter((id) => routed.includes(id));
      }
      return { id: region, ids: [...new Set(ids)], tags: {} };
    }
    case 'aws:ec2/getNetworkInterfaces:getNetworkInterfaces':
      return {
        id: region,
        ids: (filter['description'] ?? []).some((d) => d.startsWith('VPC Endpoint Interface'))
          ? interfaces.map((i) => i.id)
          : [],
        tags: {},
      };
    case 'aws:ec2/getNetworkInterface:getNetworkInterface': {
      const eni = interfaces.find((i) => i.id === inputs['id']);
      if (!eni) throw providerError(`no matching EC2 Network Interface found`);
      return {
        id: eni.id,
        description: `VPC Endpoint Interface ${eni.endpoint.id}`,
        interfaceType: 'vpc_endpoint',
        subnetId: eni.subnetId,
        requesterId: 'AROAOFFLINE',
        tags: {},
      };
    }
    case 'aws:ec2/getVpcEndpoint:getVpcEndpoint': {
      const wanted = inputs['tags'] as Record<string, string> | undefined;
      const found = vpc.endpoints.filter(
        (e) =>
          [inputs['id'] ?? e.id].includes(e.id) &&
          [inputs['serviceName'] ?? e.serviceName].includes(e.serviceName) &&
          [inputs['vpcEndpointType'] ?? e.vpcEndpointType].includes(e.vpcEndpointType) &&
          Object.entries(wanted ?? {}).every(([k, v]) => e.tags?.[k] === v),
      );
      // The provider's own messages (tfresource.SingularDataSourceFindError).
      if (found.length === 0) throw providerError('no matching EC2 VPC Endpoint found');
      if (found.length > 1) throw providerError('multiple EC2 VPC Endpoints matched');
      const e = found[0] as OfflineVpcEndpoint;
      return {
        id: e.id,
        arn: `arn:aws:ec2:${region}:${accountId}:vpc-endpoint/${e.id}`,
        serviceName: e.serviceName,
        vpcEndpointType: e.vpcEndpointType,
        privateDnsEnabled: e.privateDnsEnabled,
        routeTableIds: e.routeTableIds ?? [],
        subnetIds: e.subnetIds ?? [],
        networkInterfaceIds: interfaces.filter((i) => i.endpoint === e).map((i) => i.id),
        prefixListId: prefixListOf(e, region),
        state: 'available',
        tags: e.tags ?? {},
      };
    }
    default:
      return undefined;
  }
}

const prefixListOf = (e: OfflineVpcEndpoint, region: string): string =>
  e.serviceName === `com.amazonaws.${region}.s3` ? S3_PREFIX_LIST_ID : '';

function filters(inputs: Record<string, unknown>): Record<string, string[]> {
  const list = (inputs['filters'] ?? []) as { name: string; values: string[] }[];
  return Object.fromEntries(list.map((f) => [f.name, f.values]));
}
