// The Network component deployed under the mocks, and how to read who may reach its interface endpoints.
import type { NetworkSettings } from '../../network-settings.js';
import { Network } from '../../network.js';
import type { OfflineVpc } from '../../plan/offline-vpc.js';
import { ACCOUNT, deployComponent, REGION, type Stack } from './program.js';

export const ENDPOINT = 'aws:ec2/vpcEndpoint:VpcEndpoint';
export const SECURITY_GROUP = 'aws:ec2/securityGroup:SecurityGroup';
export const EGRESS = 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule';
export const INGRESS = 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule';
export const EXISTING = {
  vpcId: 'vpc-0a1b2c3d4e5f60718',
  privateSubnetIds: ['subnet-0a1b2c3d4e5f60719', 'subnet-0a1b2c3d4e5f6071a'],
};

/** A stack of one prod Network; `vpc` is the existing VPC its look-ups find. */
export const network = (settings: NetworkSettings, vpc?: Partial<OfflineVpc>) =>
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
export const endpointClients = (stack: Stack) => {
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

export const interfaceServices = (stack: Stack) =>
  stack
    .all(ENDPOINT)
    .filter((e) => e.inputs['vpcEndpointType'] === 'Interface')
    .map((e) => String(e.inputs['serviceName']).replace(`com.amazonaws.${REGION}.`, ''))
    .sort();
