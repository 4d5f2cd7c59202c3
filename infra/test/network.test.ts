import { beforeAll, describe, expect, it } from 'vitest';
import type { NetworkSettings } from '../network-settings.js';
import { EGRESS_INTERFACE_ENDPOINTS, Network } from '../network.js';
import { subnetCidr } from '../new-vpc.js';
import { mainRouteTableOf, routeTableOf, type OfflineVpc } from '../plan/offline.js';
import type { PolicyDocument } from '../policy.js';
import { SettingsError } from '../validation.js';
import { ACCOUNT, deployComponent, REGION, type Stack } from './support/program.js';

const ENDPOINT = 'aws:ec2/vpcEndpoint:VpcEndpoint';
const SECURITY_GROUP = 'aws:ec2/securityGroup:SecurityGroup';
const EGRESS = 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule';
const INGRESS = 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule';
const EXISTING = {
  vpcId: 'vpc-0a1b2c3d4e5f60718',
  privateSubnetIds: ['subnet-0a1b2c3d4e5f60719', 'subnet-0a1b2c3d4e5f6071a'],
};

const network = (settings: NetworkSettings, vpc?: Partial<OfflineVpc>) =>
  deployComponent(
    () =>
      new Network('network', {
        ...settings,
        environment: 'prod',
        region: REGION,
        accountId: ACCOUNT,
      }),
    vpc,
  );

interface InlineRule {
  fromPort: number;
  toPort: number;
  cidrBlocks?: string[];
  securityGroups?: string[];
}

/** Who may open HTTPS connections to the interface endpoints, whether granted by inline or by rule resources. */
const endpointClients = (stack: Stack) => {
  const sg = stack.one(SECURITY_GROUP, 'network-endpoints');
  const https = (r: { fromPort?: unknown; toPort?: unknown }) =>
    Number(r.fromPort) <= 443 && Number(r.toPort) >= 443;
  const inline = ((sg.inputs['ingress'] ?? []) as InlineRule[]).filter(https);
  const rules = stack
    .all(INGRESS)
    .map((r) => r.inputs)
    .filter((r) => r['securityGroupId'] === sg.id && https(r));
  return {
    cidrs: [...inline.flatMap((r) => r.cidrBlocks ?? []), ...rules.map((r) => r['cidrIpv4'])].filter(Boolean),
    groups: [
      ...inline.flatMap((r) => r.securityGroups ?? []),
      ...rules.map((r) => r['referencedSecurityGroupId']),
    ].filter(Boolean),
  };
};

const interfaceServices = (stack: Stack) =>
  stack
    .all(ENDPOINT)
    .filter((e) => e.inputs['vpcEndpointType'] === 'Interface')
    .map((e) => String(e.inputs['serviceName']).replace(`com.amazonaws.${REGION}.`, ''))
    .sort();

describe('Network', () => {
  describe('a new VPC reaching AWS through VPC endpoints (the default)', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await network({});
    });

    it('creates a VPC with DNS for the endpoints and two private subnets, no internet gateway, no NAT', () => {
      expect(stack.one('aws:ec2/vpc:Vpc').inputs).toMatchObject({
        cidrBlock: '10.40.0.0/16',
        enableDnsSupport: true,
        enableDnsHostnames: true,
      });
      const subnets = stack.all('aws:ec2/subnet:Subnet');
      expect(subnets.map((s) => s.inputs['cidrBlock'])).toEqual(['10.40.0.0/20', '10.40.16.0/20']);
      expect(subnets.map((s) => s.inputs['availabilityZone'])).toEqual(['us-east-1a', 'us-east-1b']);
      expect(subnets.every((s) => s.inputs['mapPublicIpOnLaunch'] === false)).toBe(true);
      expect(stack.has('aws:ec2/internetGateway:InternetGateway')).toBe(false);
      expect(stack.has('aws:ec2/natGateway:NatGateway')).toBe(false);
      expect(
        stack.one('aws:ec2/defaultSecurityGroup:DefaultSecurityGroup').inputs['ingress'],
      ).toBeUndefined();
    });

    it('creates the SQS, ECR, Logs and Secrets Manager interface endpoints in the private subnets, and the S3 gateway', () => {
      expect(interfaceServices(stack)).toEqual(['sqs', ...EGRESS_INTERFACE_ENDPOINTS].sort());
      const endpointsSg = stack.one('aws:ec2/securityGroup:SecurityGroup', 'network-endpoints').id;
      for (const e of stack.all(ENDPOINT).filter((x) => x.inputs['vpcEndpointType'] === 'Interface')) {
        expect(e.inputs).toMatchObject({ privateDnsEnabled: true, securityGroupIds: [endpointsSg] });
        expect(e.inputs['subnetIds']).toEqual(stack.all('aws:ec2/subnet:Subnet').map((s) => s.id));
      }
      const s3 = stack.one(ENDPOINT, 'network-s3');
      expect(s3.inputs).toMatchObject({
        vpcEndpointType: 'Gateway',
        serviceName: `com.amazonaws.${REGION}.s3`,
      });
      expect(s3.inputs['routeTableIds']).toEqual(stack.all('aws:ec2/routeTable:RouteTable').map((r) => r.id));
    });

    it('lets the tasks out on 443 only to the endpoints and S3', () => {
      const tasksSg = stack.one('aws:ec2/securityGroup:SecurityGroup', 'network-tasks').id;
      const endpointsSg = stack.one('aws:ec2/securityGroup:SecurityGroup', 'network-endpoints').id;
      const egress = stack.all(EGRESS).map((r) => r.inputs);
      expect(egress).toHaveLength(2);
      expect(egress).toContainEqual(
        expect.objectContaining({
          securityGroupId: tasksSg,
          fromPort: 443,
          toPort: 443,
          referencedSecurityGroupId: endpointsSg,
        }),
      );
      expect(egress).toContainEqual(
        expect.objectContaining({
          securityGroupId: tasksSg,
          fromPort: 443,
          toPort: 443,
          prefixListId: 'pl-63a5400a',
        }),
      );
    });

    it('lets every workload in the VPC reach the endpoints on 443: private DNS sends all of its AWS calls there', () => {
      expect(endpointClients(stack)).toEqual({ cidrs: ['10.40.0.0/16'], groups: [] });
    });

    it('logs all VPC traffic to a log group through a role only VPC flow logs of this account can assume', () => {
      const vpcId = stack.one('aws:ec2/vpc:Vpc').id;
      const logGroup = stack.one('aws:cloudwatch/logGroup:LogGroup');
      expect(logGroup.inputs).toMatchObject({
        name: '/aws/vpc/retainwise-prod-flow-logs',
        retentionInDays: 30,
      });
      expect(stack.one('aws:ec2/flowLog:FlowLog').inputs).toMatchObject({
        vpcId,
        trafficType: 'ALL',
        logDestinationType: 'cloud-watch-logs',
        logDestination: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/vpc/retainwise-prod-flow-logs`,
        // The name the deploy role is allowed to manage and pass (config.ts: ci.flowLogsRoleName).
        iamRoleArn: `arn:aws:iam::${ACCOUNT}:role/retainwise-vpc-flow-logs-role`,
      });
      const trust = stack.json<PolicyDocument>('aws:iam/role:Role', 'network-flow-logs', 'assumeRolePolicy');
      expect(trust.Statement).toEqual([
        expect.objectContaining({
          Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
        }),
      ]);
      expect(stack.rolePolicy('network-flow-logs-deliver-flow-logs').Statement).toEqual([
        expect.objectContaining({
          Resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/vpc/retainwise-prod-flow-logs:*`,
        }),
      ]);
    });
  });

  it('gives a new VPC with NAT egress public subnets, an internet gateway and NAT routes; only SQS keeps an endpoint', async () => {
    const stack = await network({ egress: 'nat-gateway', azCount: 3, natGatewayCount: 2 });
    expect(stack.all('aws:ec2/subnet:Subnet').map((s) => s.inputs['cidrBlock'])).toEqual(
      expect.arrayContaining([
        '10.40.0.0/20',
        '10.40.16.0/20',
        '10.40.32.0/20',
        '10.40.128.0/20',
        '10.40.144.0/20',
      ]),
    );
    const nats = stack.all('aws:ec2/natGateway:NatGateway');
    expect(nats).toHaveLength(2);
    expect(stack.all('aws:ec2/eip:Eip')).toHaveLength(2);
    expect(stack.has('aws:ec2/internetGateway:InternetGateway')).toBe(true);
    const privateRoutes = ['network-private-0', 'network-private-1', 'network-private-2'].map(
      (name) =>
        (
          stack.input<{ natGatewayId: string }[]>('aws:ec2/routeTable:RouteTable', name, 'routes')[0] ?? {
            natGatewayId: '',
          }
        ).natGatewayId,
    );
    expect(privateRoutes).toEqual([nats[0]?.id, nats[1]?.id, nats[0]?.id]);
    expect(interfaceServices(stack)).toEqual(['sqs']);
    expect(stack.all(EGRESS).map((r) => r.inputs)).toEqual([
      expect.objectContaining({ fromPort: 443, cidrIpv4: '0.0.0.0/0' }),
    ]);
  });

  it('deploys into an existing VPC and its private subnets without creating a VPC, subnets or NAT', async () => {
    const stack = await network({ ...EXISTING, egress: 'nat-gateway' });
    for (const type of [
      'aws:ec2/vpc:Vpc',
      'aws:ec2/subnet:Subnet',
      'aws:ec2/natGateway:NatGateway',
      'aws:ec2/internetGateway:InternetGateway',
    ]) {
      expect(stack.has(type)).toBe(false);
    }
    expect(stack.one(ENDPOINT, 'network-sqs').inputs).toMatchObject({
      vpcId: EXISTING.vpcId,
      subnetIds: EXISTING.privateSubnetIds,
    });
    expect(interfaceServices(stack)).toEqual(['sqs']);
    // The S3 gateway joins the subnets' own route tables, looked up by subnet.
    expect(stack.input<string[]>(ENDPOINT, 'network-s3', 'routeTableIds')).toHaveLength(2);
    expect(stack.one('aws:ec2/flowLog:FlowLog').inputs['vpcId']).toBe(EXISTING.vpcId);
  });

  it('lets every CIDR block of an existing VPC, secondary ones included, reach the endpoints on 443', async () => {
    // The existing API and anything else in the VPC now resolve sqs/ecr/logs/secretsmanager to our endpoints.
    const stack = await network(EXISTING, { cidrBlocks: ['10.0.0.0/16', '100.64.0.0/16'] });
    expect(endpointClients(stack)).toEqual({ cidrs: ['10.0.0.0/16', '100.64.0.0/16'], groups: [] });
  });

  it('admits the existing VPC to the endpoints with NAT egress too: its SQS endpoint has private DNS as well', async () => {
    const stack = await network({ ...EXISTING, egress: 'nat-gateway' }, { cidrBlocks: ['172.31.0.0/16'] });
    expect(endpointClients(stack).cidrs).toEqual(['172.31.0.0/16']);
  });

  it('joins the S3 gateway to the main route table for subnets that have no route table of their own', async () => {
    const [own, implicit] = EXISTING.privateSubnetIds as [string, string];
    const stack = await network(EXISTING, { subnetsOnMainRouteTable: [implicit] });
    expect(stack.input(ENDPOINT, 'network-s3', 'routeTableIds')).toEqual([
      routeTableOf(own),
      mainRouteTableOf(EXISTING.vpcId),
    ]);
    const onMain = await network(EXISTING, { subnetsOnMainRouteTable: EXISTING.privateSubnetIds });
    expect(onMain.input(ENDPOINT, 'network-s3', 'routeTableIds')).toEqual([mainRouteTableOf(EXISTING.vpcId)]);
  });

  it('deploys into an existing VPC with VPC endpoints, and can leave its existing S3 gateway alone', async () => {
    const stack = await network({ ...EXISTING, s3GatewayEndpoint: false });
    expect(interfaceServices(stack)).toEqual(['sqs', ...EGRESS_INTERFACE_ENDPOINTS].sort());
    expect(stack.has(ENDPOINT, 'network-s3')).toBe(false);
  });

  describe('checks an existing VPC before anything is created (the lookups run during preview)', () => {
    const service = (name: string) => `com.amazonaws.${REGION}.${name}`;
    const [first, second] = EXISTING.privateSubnetIds as [string, string];
    const foreignS3 = {
      id: 'vpce-0a1b2c3d4e5f60a01',
      serviceName: service('s3'),
      vpcEndpointType: 'Gateway' as const,
      privateDnsEnabled: false,
      routeTableIds: [routeTableOf(second)],
    };
    const foreignSqs = {
      id: 'vpce-0a1b2c3d4e5f60a02',
      serviceName: service('sqs'),
      vpcEndpointType: 'Interface' as const,
      privateDnsEnabled: true,
      subnetIds: [first],
    };
    const rejection = (settings: NetworkSettings, vpc: Partial<OfflineVpc>) =>
      network(settings, vpc).then(
        () => expect.fail('expected the network to be rejected'),
        (error: unknown) => error,
      );

    it('reports every problem at once, naming the setting and what to do', async () => {
      const error = await rejection(EXISTING, {
        enableDnsSupport: false,
        enableDnsHostnames: false,
        endpoints: [foreignS3, foreignSqs],
      });
      expect(error).toBeInstanceOf(SettingsError);
      expect((error as SettingsError).message).toMatch(/^Invalid existing VPC vpc-0a1b2c3d4e5f60718:/);
      expect((error as SettingsError).issues).toEqual([
        {
          key: 'vpcId',
          message: expect.stringMatching(/enableDnsSupport is off.*--enable-dns-support/) as unknown,
        },
        {
          key: 'vpcId',
          message: expect.stringMatching(/enableDnsHostnames is off.*--enable-dns-hostnames/) as unknown,
        },
        {
          key: 's3GatewayEndpoint',
          message: expect.stringMatching(
            new RegExp(
              `${routeTableOf(second)} already routes? S3 .*RouteAlreadyExists.*set s3GatewayEndpoint false`,
            ),
          ) as unknown,
        },
        {
          key: 'vpcId',
          message: expect.stringMatching(
            /vpce-0a1b2c3d4e5f60a02 already serves .*\.sqs with private DNS/,
          ) as unknown,
        },
      ]);
    });

    it('lets the VPC keep its own S3 gateway endpoint with s3GatewayEndpoint false', async () => {
      const stack = await network({ ...EXISTING, s3GatewayEndpoint: false }, { endpoints: [foreignS3] });
      expect(stack.has(ENDPOINT, 'network-s3')).toBe(false);
    });

    it('rejects an existing Logs endpoint with private DNS only when the tasks need one of their own', async () => {
      const logs = { ...foreignSqs, id: 'vpce-0a1b2c3d4e5f60a03', serviceName: service('logs') };
      await expect(network(EXISTING, { endpoints: [logs] })).rejects.toThrow(
        /vpcId: vpce-0a1b2c3d4e5f60a03 already serves com\.amazonaws\.us-east-1\.logs with private DNS/,
      );
      const natEgress = await network({ ...EXISTING, egress: 'nat-gateway' }, { endpoints: [logs] });
      expect(interfaceServices(natEgress)).toEqual(['sqs']);
    });

    it('accepts endpoints without private DNS, and its own endpoints from an earlier deployment', async () => {
      const ours = (e: typeof foreignSqs, service: string, i: number) => ({
        ...e,
        id: `vpce-0a1b2c3d4e5f60b0${i}`,
        serviceName: `com.amazonaws.${REGION}.${service}`,
        tags: { Name: `retainwise-prod-${service}-endpoint`, ManagedBy: 'pulumi' },
      });
      const stack = await network(EXISTING, {
        endpoints: [
          { ...foreignSqs, privateDnsEnabled: false },
          ...['sqs', ...EGRESS_INTERFACE_ENDPOINTS].map((s, i) => ours(foreignSqs, s, i)),
          {
            ...foreignS3,
            routeTableIds: EXISTING.privateSubnetIds.map(routeTableOf),
            tags: { Name: 'retainwise-prod-s3-endpoint' },
          },
        ],
      });
      expect(stack.has(ENDPOINT, 'network-s3')).toBe(true);
    });
  });

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

  it('cuts subnets like Terraform cidrsubnet', () => {
    expect(subnetCidr('10.40.0.0/16', 4, 0)).toBe('10.40.0.0/20');
    expect(subnetCidr('10.40.0.0/16', 4, 9)).toBe('10.40.144.0/20');
    expect(subnetCidr('192.168.0.0/24', 4, 15)).toBe('192.168.0.240/28');
    expect(() => subnetCidr('10.40.0.0/16', 4, 16)).toThrow(/no subnet #16/);
  });
});
