// The key settings of a resource, in one line: the few inputs that tell resources of a type apart, and a
// digest of what a policy, task definition, alarm or scaling policy does. `--json` has every input.
import type { RecordedResource } from './offline.js';

/** The inputs the table shows for a type, space-separated, in this order (every other type: its name). */
const SHOWN: Record<string, string> = {
  'aws:sqs/queue:Queue':
    'name visibilityTimeoutSeconds messageRetentionSeconds receiveWaitTimeSeconds sqsManagedSseEnabled kmsMasterKeyId redrivePolicy',
  'aws:iam/role:Role': 'name maxSessionDuration',
  'aws:iam/rolePolicyAttachment:RolePolicyAttachment': 'policyArn',
  'aws:iam/openIdConnectProvider:OpenIdConnectProvider': 'url clientIdLists',
  'aws:ec2/vpc:Vpc': 'cidrBlock',
  'aws:ec2/subnet:Subnet': 'cidrBlock availabilityZone',
  'aws:ec2/securityGroup:SecurityGroup': 'name ingress',
  'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule':
    'fromPort referencedSecurityGroupId description',
  'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule': 'fromPort cidrIpv4 prefixListId description',
  'aws:ec2/vpcEndpoint:VpcEndpoint': 'serviceName vpcEndpointType privateDnsEnabled',
  'aws:ec2/flowLog:FlowLog': 'trafficType logDestinationType',
  'aws:cloudwatch/logGroup:LogGroup': 'name retentionInDays',
  'aws:ecr/repository:Repository':
    'name imageTagMutability imageTagMutabilityExclusionFilters imageScanningConfiguration',
  'docker-build:index:Image': 'tags platforms buildOnPreview',
  'aws:ecs/cluster:Cluster': 'name settings',
  'aws:ecs/service:Service':
    'name desiredCount launchType networkConfiguration deploymentCircuitBreaker healthCheckGracePeriodSeconds',
  'aws:appautoscaling/target:Target': 'resourceId minCapacity maxCapacity',
  'aws:sns/topic:Topic': 'name',
  'aws:sns/topicSubscription:TopicSubscription': 'protocol endpoint',
  'aws:ecr/lifecyclePolicy:LifecyclePolicy': 'repository',
  'aws:sqs/redriveAllowPolicy:RedriveAllowPolicy': 'redriveAllowPolicy',
  'aws:iam/rolePoliciesExclusive:RolePoliciesExclusive': 'roleName policyNames',
  'aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive': 'roleName policyArns',
  'aws:cloudwatch/dashboard:Dashboard': 'dashboardName',
};

/** One line of key settings for the table. */
export function summarize(r: RecordedResource): string {
  const i = r.inputs;
  const policy = (doc: unknown) =>
    (JSON.parse(String(doc)) as { Statement: { Sid?: string; Effect: string }[] }).Statement.map((s) =>
      `${s.Effect} ${s.Sid ?? ''}`.trim(),
    ).join(', ');
  switch (r.type) {
    case 'aws:iam/rolePolicy:RolePolicy':
      return `${String(i['name'])}: ${policy(i['policy'])}`;
    case 'aws:sqs/queuePolicy:QueuePolicy':
      return policy(i['policy']);
    case 'aws:ecs/taskDefinition:TaskDefinition': {
      const [c] = JSON.parse(String(i['containerDefinitions'])) as {
        name: string;
        user?: string;
        readonlyRootFilesystem: boolean;
        stopTimeout: number;
        environment: unknown[];
        secrets: { name: string }[];
      }[];
      const arch = (i['runtimePlatform'] as { cpuArchitecture: string }).cpuArchitecture;
      return `${String(i['family'])} cpu=${String(i['cpu'])} memory=${String(i['memory'])} ${arch} container=${c?.name} user=${c?.user ?? 'image'} readonlyRoot=${c?.readonlyRootFilesystem} stopTimeout=${c?.stopTimeout} env=${c?.environment.length} secrets=${c?.secrets.map((s) => s.name).join('+')}`;
    }
    case 'aws:cloudwatch/metricAlarm:MetricAlarm': {
      const queries = i['metricQueries'] as { expression?: string }[] | undefined;
      const what = queries
        ? (queries.find((q) => q.expression)?.expression ?? '')
        : `${String(i['metricName'])} ${JSON.stringify(i['dimensions'])}`;
      return `${String(i['name'])}: ${what} ${String(i['comparisonOperator'])} ${String(i['threshold'])} x${String(i['evaluationPeriods'])} missing=${String(i['treatMissingData'])}`;
    }
    case 'aws:appautoscaling/policy:Policy': {
      const step = i['stepScalingPolicyConfiguration'] as
        { adjustmentType: string; stepAdjustments: { scalingAdjustment: number }[] } | undefined;
      return `${String(i['name'])}: step ${step?.adjustmentType} ${step?.stepAdjustments.map((s) => s.scalingAdjustment).join(',')}`;
    }
    default:
      return (SHOWN[r.type] ?? 'name')
        .split(' ')
        .filter((k) => i[k] !== undefined)
        .map((k) => `${k}=${typeof i[k] === 'string' ? String(i[k]) : JSON.stringify(i[k])}`)
        .join(' ');
  }
}
