// `npm run plan [-- --stack <name>] [-- --json | --import-file]`: runs the Pulumi program offline (Pulumi's
// mocks, no AWS account, no CLI) with Pulumi.<stack>.yaml and prints every resource it would register with its
// key settings, the stack outputs and the fixed monthly cost. With --json, stdout carries one JSON document and
// nothing else; with --import-file, the `pulumi import --file` document adopting the existing resources.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { EXIT, EXIT_CODES, parsing, reportFailure, UsageError } from '../../worker/src/cli/command.js';
import { adoptionImportFile } from './adopt.js';
import { runProject, type RecordedResource } from './offline.js';
import { estimateMonthlyCost, type CostEstimate } from './pricing.js';

const PROJECT_DIR = path.resolve(import.meta.dirname, '../..');

export interface StackFiles {
  project: string;
  /** Engine-style config: `namespace:key` → string, structured values as JSON. */
  config: Record<string, string>;
  /** The only account the stack may deploy to (aws:allowedAccountIds), used for the plan's ARNs. */
  accountId: string | undefined;
}

/** Reads Pulumi.yaml and Pulumi.<stack>.yaml the way the engine hands config to a program. */
export function readStackFiles(projectDir: string, stack: string): StackFiles {
  const project = (parse(readFileSync(path.join(projectDir, 'Pulumi.yaml'), 'utf8')) as { name: string })
    .name;
  const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
  const settings =
    (parse(readFileSync(file, 'utf8')) as { config?: Record<string, unknown> } | null)?.config ?? {};
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (value !== null && typeof value === 'object' && 'secure' in value) {
      throw new Error(`${key} in ${path.basename(file)} is a secret; the offline plan cannot decrypt it`);
    }
    config[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  const allowed = settings['aws:allowedAccountIds'];
  return { project, config, accountId: Array.isArray(allowed) ? String(allowed[0]) : undefined };
}

const SHOWN: Record<string, string[]> = {
  'aws:sqs/queue:Queue': [
    'name',
    'visibilityTimeoutSeconds',
    'messageRetentionSeconds',
    'receiveWaitTimeSeconds',
    'sqsManagedSseEnabled',
    'kmsMasterKeyId',
    'redrivePolicy',
  ],
  'aws:iam/role:Role': ['name', 'maxSessionDuration'],
  'aws:iam/rolePolicyAttachment:RolePolicyAttachment': ['policyArn'],
  'aws:iam/openIdConnectProvider:OpenIdConnectProvider': ['url', 'clientIdLists'],
  'aws:ec2/vpc:Vpc': ['cidrBlock'],
  'aws:ec2/subnet:Subnet': ['cidrBlock', 'availabilityZone'],
  'aws:ec2/securityGroup:SecurityGroup': ['name', 'ingress'],
  'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule': [
    'fromPort',
    'referencedSecurityGroupId',
    'description',
  ],
  'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule': [
    'fromPort',
    'cidrIpv4',
    'prefixListId',
    'description',
  ],
  'aws:ec2/vpcEndpoint:VpcEndpoint': ['serviceName', 'vpcEndpointType', 'privateDnsEnabled'],
  'aws:ec2/flowLog:FlowLog': ['trafficType', 'logDestinationType'],
  'aws:cloudwatch/logGroup:LogGroup': ['name', 'retentionInDays'],
  'aws:ecr/repository:Repository': [
    'name',
    'imageTagMutability',
    'imageTagMutabilityExclusionFilters',
    'imageScanningConfiguration',
  ],
  'docker-build:index:Image': ['tags', 'platforms', 'buildOnPreview'],
  'aws:ecs/cluster:Cluster': ['name', 'settings'],
  'aws:ecs/service:Service': [
    'name',
    'desiredCount',
    'launchType',
    'networkConfiguration',
    'deploymentCircuitBreaker',
    'healthCheckGracePeriodSeconds',
  ],
  'aws:appautoscaling/target:Target': ['resourceId', 'minCapacity', 'maxCapacity'],
  'aws:sns/topic:Topic': ['name'],
  'aws:sns/topicSubscription:TopicSubscription': ['protocol', 'endpoint'],
  'aws:ecr/lifecyclePolicy:LifecyclePolicy': ['repository'],
  'aws:sqs/redriveAllowPolicy:RedriveAllowPolicy': ['redriveAllowPolicy'],
  'aws:iam/rolePoliciesExclusive:RolePoliciesExclusive': ['roleName', 'policyNames'],
  'aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive': ['roleName', 'policyArns'],
  'aws:cloudwatch/dashboard:Dashboard': ['dashboardName'],
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
      return (SHOWN[r.type] ?? ['name'])
        .filter((k) => i[k] !== undefined)
        .map((k) => `${k}=${typeof i[k] === 'string' ? String(i[k]) : JSON.stringify(i[k])}`)
        .join(' ');
  }
}

/** What the table lists: everything a provider creates (our own component wrappers are only grouping). */
const isListed = (r: RecordedResource) => r.custom;

export function renderTable(
  resources: RecordedResource[],
  outputs: Record<string, unknown>,
  cost: CostEstimate,
  stack: string,
): string {
  const rows = resources.filter(isListed).map((r) => [r.type, r.name, summarize(r)] as const);
  const typeWidth = Math.max(...rows.map((r) => r[0].length));
  const nameWidth = Math.max(...rows.map((r) => r[1].length));
  const width = 150;
  const lines = [
    `Offline plan of stack "${stack}": ${rows.length} resources (no AWS account contacted)`,
    '',
    `${'TYPE'.padEnd(typeWidth)}  ${'NAME'.padEnd(nameWidth)}  KEY SETTINGS`,
    ...rows.map(([type, name, settings]) => {
      const text = `${type.padEnd(typeWidth)}  ${name.padEnd(nameWidth)}  ${settings}`;
      return text.length > width + 60 ? `${text.slice(0, width + 57)}...` : text;
    }),
    '',
    'Outputs:',
    ...Object.entries(outputs)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`),
    '',
    'Estimated fixed monthly cost:',
    ...cost.lines.map((l) => `  $${l.monthlyUsd.toFixed(2).padStart(8)}  ${l.item} (${l.quantity})`),
    `  $${cost.fixedMonthlyUsd.toFixed(2).padStart(8)}  total`,
    'Usage-based, not included:',
    ...cost.usageBased.map((u) => `  - ${u}`),
    'Assumptions:',
    ...cost.assumptions.map((a) => `  - ${a}`),
  ];
  return lines.join('\n');
}

const USAGE = 'usage: npm run plan [-- --stack <name>] [-- --json | --import-file]';

const HELP = `${USAGE}
Runs the Pulumi program offline (Pulumi's mocks: no AWS account, CLI or Docker) with Pulumi.<stack>.yaml.
  (no flags)      a table of every resource with its key settings, the stack outputs and the fixed monthly cost
  --json          one JSON document on stdout: every resource with its full inputs, the outputs and the cost
  --import-file   the \`pulumi import --file\` document that adopts the existing resources
  --stack <name>  another stack file (default: prod)
  -h, --help      this help
${EXIT_CODES}`;

async function main(argv: string[]): Promise<number> {
  const { values } = parsing(() =>
    parseArgs({
      args: argv,
      options: {
        stack: { type: 'string', default: 'prod' },
        json: { type: 'boolean' },
        'import-file': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return EXIT.ok;
  }
  if (values.json && values['import-file'])
    throw new UsageError('--json and --import-file exclude each other');
  const { stack, json } = values;
  const files = readStackFiles(PROJECT_DIR, stack);
  const run = await runProject(PROJECT_DIR, {
    stack,
    config: files.config,
    ...(files.accountId ? { accountId: files.accountId } : {}),
  });
  const outputs = run.outputs;
  const cost = estimateMonthlyCost(run.resources);
  if (values['import-file']) {
    const file = adoptionImportFile(run.resources, { accountId: run.accountId, region: run.region });
    process.stdout.write(`${JSON.stringify(file, null, 2)}\n`);
  } else if (json) {
    const resources = run.resources.map(
      ({ urn, type, name, id, custom, parentUrn, protect, ignoreChanges, dependsOn, inputs }) => ({
        urn,
        type,
        name,
        id,
        custom,
        parentUrn,
        protect,
        ignoreChanges,
        dependsOn,
        inputs,
      }),
    );
    process.stdout.write(
      `${JSON.stringify({ stack, project: files.project, resources, outputs, cost }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(`${renderTable(run.resources, outputs, cost, stack)}\n`);
  }
  return EXIT.ok;
}

// Run as a script (`tsx infra/plan/plan.ts`), not when the tests import the helpers above.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => (process.exitCode = reportFailure('plan', USAGE, error)),
  );
}
