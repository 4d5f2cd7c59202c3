// What a provider hands back when the offline cloud creates a resource: the ids, ARNs and URLs AWS would assign,
// derived from the inputs the way AWS derives them, so Outputs built from them (a queue URL in a policy, a role
// ARN in a trust document) read like the real ones.
import { createHash } from 'node:crypto';

/** The S3 prefix list (us-east-1's real id) the offline cloud reports in every region. */
export const S3_PREFIX_LIST_ID = 'pl-63a5400a';

/** Cloud-assigned attributes a real provider would return, derived from the inputs. */
export function providerAttributes(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  { accountId: acct, region }: { accountId: string; region: string },
): Record<string, unknown> & { id: string } {
  const physical = typeof inputs['name'] === 'string' ? inputs['name'] : name;
  switch (type) {
    case 'aws:sqs/queue:Queue': {
      const url = `https://sqs.${region}.amazonaws.com/${acct}/${physical}`;
      return { id: url, url, arn: `arn:aws:sqs:${region}:${acct}:${physical}` };
    }
    case 'aws:iam/role:Role':
      return {
        id: physical,
        arn: `arn:aws:iam::${acct}:role/${physical}`,
        uniqueId: fakeId('AROA', physical),
      };
    case 'aws:iam/policy:Policy':
      return {
        id: `arn:aws:iam::${acct}:policy/${physical}`,
        arn: `arn:aws:iam::${acct}:policy/${physical}`,
      };
    case 'aws:iam/openIdConnectProvider:OpenIdConnectProvider': {
      const host = String(inputs['url']).replace(/^https:\/\//, '');
      const arn = `arn:aws:iam::${acct}:oidc-provider/${host}`;
      return { id: arn, arn };
    }
    case 'aws:ec2/vpc:Vpc':
      return { id: fakeId('vpc', name), arn: `arn:aws:ec2:${region}:${acct}:vpc/${fakeId('vpc', name)}` };
    case 'aws:ec2/subnet:Subnet':
      return { id: fakeId('subnet', name) };
    case 'aws:ec2/securityGroup:SecurityGroup':
      return { id: fakeId('sg', name) };
    case 'aws:ec2/vpcEndpoint:VpcEndpoint':
      return { id: fakeId('vpce', name), prefixListId: S3_PREFIX_LIST_ID };
    case 'aws:ec2/routeTable:RouteTable':
      return { id: fakeId('rtb', name) };
    case 'aws:ec2/internetGateway:InternetGateway':
      return { id: fakeId('igw', name) };
    case 'aws:ec2/natGateway:NatGateway':
      return { id: fakeId('nat', name) };
    case 'aws:ec2/eip:Eip':
      return { id: fakeId('eipalloc', name), publicIp: '203.0.113.10' };
    case 'aws:cloudwatch/logGroup:LogGroup':
      return { id: physical, arn: `arn:aws:logs:${region}:${acct}:log-group:${physical}` };
    case 'aws:ecr/repository:Repository':
      return {
        id: physical,
        arn: `arn:aws:ecr:${region}:${acct}:repository/${physical}`,
        registryId: acct,
        repositoryUrl: `${acct}.dkr.ecr.${region}.amazonaws.com/${physical}`,
      };
    case 'docker-build:index:Image': {
      const digest = `sha256:${createHash('sha256').update(JSON.stringify(inputs)).digest('hex')}`;
      const [tag] = (inputs['tags'] as string[] | undefined) ?? [];
      return { id: digest, digest, ref: `${tag?.replace(/:[^:/]+$/, '') ?? name}@${digest}` };
    }
    case 'aws:ecs/cluster:Cluster':
      return {
        id: `arn:aws:ecs:${region}:${acct}:cluster/${physical}`,
        arn: `arn:aws:ecs:${region}:${acct}:cluster/${physical}`,
      };
    case 'aws:ecs/taskDefinition:TaskDefinition': {
      const family = String(inputs['family']);
      const arn = `arn:aws:ecs:${region}:${acct}:task-definition/${family}:1`;
      return { id: family, arn, arnWithoutRevision: arn.replace(/:1$/, ''), revision: 1 };
    }
    case 'aws:ecs/service:Service': {
      const cluster = String(inputs['cluster']).split('/').pop() ?? '';
      return { id: `arn:aws:ecs:${region}:${acct}:service/${cluster}/${physical}` };
    }
    case 'aws:lambda/function:Function':
      return { id: physical, arn: `arn:aws:lambda:${region}:${acct}:function:${physical}` };
    case 'aws:sns/topic:Topic':
      return {
        id: `arn:aws:sns:${region}:${acct}:${physical}`,
        arn: `arn:aws:sns:${region}:${acct}:${physical}`,
      };
    case 'aws:cloudwatch/metricAlarm:MetricAlarm':
      return { id: physical, arn: `arn:aws:cloudwatch:${region}:${acct}:alarm:${physical}` };
    case 'aws:cloudwatch/dashboard:Dashboard':
      return {
        id: String(inputs['dashboardName']),
        dashboardArn: `arn:aws:cloudwatch::${acct}:dashboard/${String(inputs['dashboardName'])}`,
      };
    default:
      return {
        id: `${name}-id`,
        arn: `arn:aws:${type.split(':')[1]?.split('/')[0] ?? 'x'}:${region}:${acct}:${name}`,
      };
  }
}

/** A stable AWS-style id (`vpc-0a1b…`): the same seed gives the same id on every run. */
export function fakeId(prefix: string, seed: string): string {
  return `${prefix}-${createHash('sha256').update(seed).digest('hex').slice(0, 17)}`;
}
