// The stack's fixed monthly cost, estimated from the resources a plan registers, at us-east-1 list prices.
// Usage-based charges (requests, GB processed, log ingestion, task-hours above the minimum) are listed with
// their unit prices but not summed: they depend on traffic.
import { registeredKeepAlives, type RegisteredKeepAlive } from './keep-alive.js';
import type { RecordedResource } from './offline.js';

export const HOURS_PER_MONTH = 730;

/** us-east-1 on-demand list prices (USD). */
export const PRICES = {
  interfaceEndpointHourPerAz: 0.01,
  interfaceEndpointPerGb: 0.01,
  natGatewayHour: 0.045,
  natGatewayPerGb: 0.045,
  publicIpv4Hour: 0.005,
  fargate: {
    X86_64: { vcpuHour: 0.04048, gbHour: 0.004445 },
    ARM64: { vcpuHour: 0.03238, gbHour: 0.00356 },
  },
  alarmPerMetricMonth: 0.1,
  dashboardMonth: 3,
  logIngestionPerGb: 0.5,
  logStoragePerGbMonth: 0.03,
  sqsPerMillionRequests: 0.4,
  ecrStoragePerGbMonth: 0.1,
  customMetricMonth: 0.3,
  // "$1.00 per million invocations" after the free tier (https://aws.amazon.com/eventbridge/pricing/, Scheduler).
  schedulerPerMillionInvocations: 1,
  // "$0.20 per 1M requests"; duration per GB-second, first tier (https://aws.amazon.com/lambda/pricing/).
  lambdaPerMillionRequests: 0.2,
  lambdaGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 },
} as const;

/**
 * Monthly free tiers, per account and not deducted here: EventBridge Scheduler "14 million invocations per month"
 * (AWS Price List, AWSEvents: "$0 for the first 14 million scheduled invocations"); Lambda "one million requests
 * and 400,000 GB-seconds per month" (https://aws.amazon.com/lambda/pricing/).
 */
export const FREE_TIER = {
  schedulerInvocations: 14e6,
  lambdaRequests: 1e6,
  lambdaGbSeconds: 400_000,
} as const;

/**
 * Billed seconds of one keep-alive call, assumed (not measured): the GetQueueAttributes call takes ~0.1 s, but a
 * function invoked once an hour most likely starts cold, and Lambda bills the INIT phase of managed runtimes
 * since 1 August 2025 (AWS Compute Blog, "AWS Lambda standardizes billing for INIT Phase"): the Node.js runtime
 * and the SDK client's load are taken at 0.4 s more.
 */
export const KEEP_ALIVE_BILLED_SECONDS = 0.5;

export interface CostLine {
  item: string;
  quantity: string;
  monthlyUsd: number;
}

export interface CostEstimate {
  lines: CostLine[];
  fixedMonthlyUsd: number;
  usageBased: string[];
  assumptions: string[];
}

const money = (n: number) => Math.round(n * 100) / 100;

type Architecture = keyof typeof PRICES.fargate;

export function fargateTaskHour(cpu: number, memoryMiB: number, architecture: Architecture): number {
  const p = PRICES.fargate[architecture];
  return (cpu / 1024) * p.vcpuHour + (memoryMiB / 1024) * p.gbHour;
}

/** An EventBridge Scheduler schedule invoking a Lambda function `invocations` times, before free tiers. */
export function scheduledFunctionUsd(
  invocations: number,
  billedSeconds: number,
  fn: { memoryMb: number; architecture: keyof typeof PRICES.lambdaGbSecond },
): number {
  const perInvocation =
    (PRICES.schedulerPerMillionInvocations + PRICES.lambdaPerMillionRequests) / 1e6 +
    billedSeconds * (fn.memoryMb / 1024) * PRICES.lambdaGbSecond[fn.architecture];
  return invocations * perInvocation;
}

/** A queue keep-alive's calls in `seconds` and what they cost at list prices (before free tiers). */
export function keepAliveCost(
  keepAlive: RegisteredKeepAlive,
  seconds: number,
): { calls: number; usd: number } {
  const calls = keepAlive.periodSeconds ? Math.floor(seconds / keepAlive.periodSeconds) : 0;
  return { calls, usd: scheduledFunctionUsd(calls, KEEP_ALIVE_BILLED_SECONDS, keepAlive.function) };
}

export function estimateMonthlyCost(resources: RecordedResource[]): CostEstimate {
  const of = (type: string) => resources.filter((r) => r.type === type);
  const lines: CostLine[] = [];
  const usageBased: string[] = [];

  const interfaceEndpoints = of('aws:ec2/vpcEndpoint:VpcEndpoint').filter(
    (r) => r.inputs['vpcEndpointType'] === 'Interface',
  );
  const endpointAzHours = interfaceEndpoints.reduce(
    (n, r) => n + ((r.inputs['subnetIds'] as unknown[] | undefined)?.length ?? 0),
    0,
  );
  if (endpointAzHours > 0) {
    const services = interfaceEndpoints.map((r) =>
      String(r.inputs['serviceName']).split('.').slice(3).join('.'),
    );
    lines.push({
      item: `Interface VPC endpoints (${services.join(', ')})`,
      quantity: `${interfaceEndpoints.length} endpoints × ${endpointAzHours / interfaceEndpoints.length} AZ`,
      monthlyUsd: money(endpointAzHours * PRICES.interfaceEndpointHourPerAz * HOURS_PER_MONTH),
    });
    usageBased.push(`Interface endpoint data: $${PRICES.interfaceEndpointPerGb}/GB`);
  }
  /** A line for every resource of `type` at one monthly price each, if there are any. */
  const perResource = (type: string, item: string, monthlyUsdEach: number): boolean => {
    const count = of(type).length;
    if (count > 0) lines.push({ item, quantity: String(count), monthlyUsd: money(count * monthlyUsdEach) });
    return count > 0;
  };
  if (perResource('aws:ec2/natGateway:NatGateway', 'NAT gateways', PRICES.natGatewayHour * HOURS_PER_MONTH)) {
    usageBased.push(`NAT gateway data processing: $${PRICES.natGatewayPerGb}/GB`);
  }
  perResource('aws:ec2/eip:Eip', 'Public IPv4 addresses (NAT)', PRICES.publicIpv4Hour * HOURS_PER_MONTH);

  const taskDefinitions = new Map(
    of('aws:ecs/taskDefinition:TaskDefinition').map((t) => [String(t.inputs['family']), t]),
  );
  const minimumByService = new Map(
    of('aws:appautoscaling/target:Target').map((t) => [
      String(t.inputs['resourceId']).split('/').pop(),
      Number(t.inputs['minCapacity']),
    ]),
  );
  for (const service of of('aws:ecs/service:Service')) {
    const name = String(service.inputs['name']);
    const family = String(service.inputs['taskDefinition']).split('/').pop()?.replace(/:\d+$/, '') ?? '';
    const task = taskDefinitions.get(family);
    if (!task) continue;
    const architecture =
      (task.inputs['runtimePlatform'] as { cpuArchitecture?: Architecture } | undefined)?.cpuArchitecture ??
      'X86_64';
    const cpu = Number(task.inputs['cpu']);
    const memory = Number(task.inputs['memory']);
    const hourly = fargateTaskHour(cpu, memory, architecture);
    const autoscaled = minimumByService.has(name);
    const alwaysOn = autoscaled
      ? (minimumByService.get(name) ?? 0)
      : Number(service.inputs['desiredCount'] ?? 0);
    lines.push({
      item: `Fargate ${name} (${cpu / 1024} vCPU, ${memory / 1024} GB, ${architecture}${autoscaled ? ', minimum tasks' : ''})`,
      quantity: `${alwaysOn} × $${hourly.toFixed(5)}/h`,
      monthlyUsd: money(alwaysOn * hourly * HOURS_PER_MONTH),
    });
    if (autoscaled) usageBased.push(`Fargate ${name} above its minimum: $${hourly.toFixed(5)} per task-hour`);
  }

  const alarmMetrics = of('aws:cloudwatch/metricAlarm:MetricAlarm').reduce((n, alarm) => {
    const queries = alarm.inputs['metricQueries'] as { metric?: unknown }[] | undefined;
    return n + (queries ? queries.filter((q) => q.metric).length : 1);
  }, 0);
  if (alarmMetrics > 0) {
    lines.push({
      item: 'CloudWatch alarms (per metric in each alarm)',
      quantity: `${alarmMetrics} alarm metrics`,
      monthlyUsd: money(alarmMetrics * PRICES.alarmPerMetricMonth),
    });
  }
  perResource('aws:cloudwatch/dashboard:Dashboard', 'CloudWatch dashboards', PRICES.dashboardMonth);

  for (const keepAlive of registeredKeepAlives(resources)) {
    const { calls, usd } = keepAliveCost(keepAlive, HOURS_PER_MONTH * 3600);
    const { memoryMb, architecture } = keepAlive.function;
    lines.push({
      item: `Queue keep-alive (${keepAlive.scheduleExpression})`,
      quantity: `${calls} Scheduler → Lambda calls × ${KEEP_ALIVE_BILLED_SECONDS} s, ${memoryMb} MB ${architecture}: $${usd.toFixed(4)}`,
      monthlyUsd: money(usd),
    });
  }

  usageBased.push(
    `CloudWatch Logs (tasks, VPC flow logs, keep-alive function): $${PRICES.logIngestionPerGb}/GB ingested, $${PRICES.logStoragePerGbMonth}/GB-month stored`,
    `Worker metrics (EMF) and Container Insights: $${PRICES.customMetricMonth}/metric-month`,
    `SQS: $${PRICES.sqsPerMillionRequests} per million requests (long polling keeps idle receives to 3 per minute per poller)`,
    `ECR storage: $${PRICES.ecrStoragePerGbMonth}/GB-month`,
  );
  return {
    lines,
    fixedMonthlyUsd: money(lines.reduce((n, l) => n + l.monthlyUsd, 0)),
    usageBased,
    assumptions: [
      `us-east-1 on-demand list prices, ${HOURS_PER_MONTH} hours per month, USD, before free tiers and taxes`,
      'An interface endpoint bills per AZ (subnet) it is placed in; gateway endpoints (S3) are free',
      'Autoscaled services count only their minimum tasks as fixed cost',
      'The first 3 dashboards and 10 alarm metrics of an account are free; not deducted here',
      `Monthly free tiers, not deducted: Scheduler ${FREE_TIER.schedulerInvocations / 1e6}M invocations; Lambda ${FREE_TIER.lambdaRequests / 1e6}M requests and ${FREE_TIER.lambdaGbSeconds.toLocaleString('en-US')} GB-s`,
      `A keep-alive call is billed ${KEEP_ALIVE_BILLED_SECONDS} s of Lambda (a cold start each hour, INIT billed): assumed`,
    ],
  };
}
