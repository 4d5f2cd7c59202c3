// An existing VPC (brownfield): its CIDRs and route tables looked up, and what AWS would refuse there (DNS
// attributes off, a second S3 gateway route, a second private DNS name) rejected during the preview.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { assertValid, check } from './validation.js';

export function existingVpc(parent: pulumi.Resource, vpcId: string, subnetIds: string[]) {
  const vpc = aws.ec2.getVpcOutput({ id: vpcId }, { parent });
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
              { parent },
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
export function checkExistingVpc(
  parent: pulumi.Resource,
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
  const s3Routes = wanted.s3Service
    ? foreignS3Routes(parent, vpcId, routeTableIds, wanted.s3Service, wanted.s3PrefixListId, wanted.ownName)
    : pulumi.output([]);
  const dnsConflicts = privateDnsConflicts(parent, vpcId, wanted.interfaceServices, wanted.ownName);
  pulumi.all([vpc, s3Routes, dnsConflicts]).apply(([attributes, routed, conflicts]) =>
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
function foreignS3Routes(
  parent: pulumi.Resource,
  vpcId: string,
  routeTableIds: pulumi.Output<string[]>,
  s3Service: string,
  s3PrefixListId: pulumi.Output<string>,
  ownName: (serviceName: string) => string,
): pulumi.Output<string[]> {
  const opts = { parent };
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
function privateDnsConflicts(
  parent: pulumi.Resource,
  vpcId: string,
  serviceNames: string[],
  ownName: (serviceName: string) => string,
): pulumi.Output<{ id: string; serviceName: string }[]> {
  const opts = { parent };
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

/** The singular endpoint lookup's "nothing matched" (tfresource.SingularDataSourceFindError) as undefined. */
function noMatchingEndpoint(error: unknown): undefined {
  if (error instanceof Error && /no matching (EC2 )?VPC Endpoint found/.test(error.message)) return undefined;
  throw error;
}
