// Network in a new VPC: private subnets with VPC endpoints (the default) or public subnets and NAT gateways,
// cut like Terraform's cidrsubnet, with flow logs.
import { beforeAll, describe, expect, it } from 'vitest';
import { EGRESS_INTERFACE_ENDPOINTS } from '../network.js';
import { subnetCidr } from '../new-vpc.js';
import type { PolicyDocument } from '../policy.js';
import { ACCOUNT, REGION, type Stack } from './support/program.js';
import { EGRESS, endpointClients, ENDPOINT, interfaceServices, network } from './support/network.js';

describe('Network in a new VPC', () => {
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

  it('cuts subnets like Terraform cidrsubnet', () => {
    expect(subnetCidr('10.40.0.0/16', 4, 0)).toBe('10.40.0.0/20');
    expect(subnetCidr('10.40.0.0/16', 4, 9)).toBe('10.40.144.0/20');
    expect(subnetCidr('192.168.0.0/24', 4, 15)).toBe('192.168.0.240/28');
    expect(() => subnetCidr('10.40.0.0/16', 4, 16)).toThrow(/no subnet #16/);
  });
});
