// Network in an existing VPC: what it adds to the VPC and its route tables, and the preview-time checks of what
// AWS would refuse there.
import { describe, expect, it } from 'vitest';
import type { NetworkSettings } from '../network-settings.js';
import { EGRESS_INTERFACE_ENDPOINTS } from '../network.js';
import { mainRouteTableOf, routeTableOf, type OfflineVpc } from '../plan/offline-vpc.js';
import { SettingsError } from '../validation.js';
import { REGION } from './support/program.js';
import { endpointClients, ENDPOINT, EXISTING, interfaceServices, network } from './support/network.js';

describe('Network in an existing VPC', () => {
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
});
