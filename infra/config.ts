// The stack's settings: every `retainwise:*` key, parsed and checked up front (formats, ranges and the
// combinations the components would reject), with the existing system's names and values as defaults.
// Defaults for component settings live next to each component (QUEUE_DEFAULTS, ...) and are reused here.
import * as pulumi from '@pulumi/pulumi';
import { z } from 'zod';
import { ALARM_DEFAULTS } from './alarms.js';
import { SCALING_DEFAULTS, validateScalingSettings } from './queue-depth-scaling.js';
import { BACKEND_DEFAULTS, validateBackendSettings } from './backend-service.js';
import { CI_DEFAULTS, type DeployTrust, type StateBackend } from './github-oidc.js';
import { validateNetworkSettings, type NetworkSettings } from './network.js';
import { OPERATOR_DEFAULTS } from './operator.js';
import { QUEUE_DEFAULTS, validateQueueSettings } from './prediction-queues.js';
import { SettingsError, type Issue } from './validation.js';
import {
  validateWorkerSettings,
  WORKER_DEFAULTS,
  type CpuArchitecture,
  type DatabaseSsl,
} from './worker-service.js';

const ACCOUNT = String.raw`\d{12}`;
const REGION = '[a-z]{2}(?:-[a-z]+)+-\\d';
const formats = {
  environment: /^[a-z][a-z0-9-]{0,19}$/,
  region: new RegExp(`^${REGION}$`),
  bucket: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
  vpc: /^vpc-[0-9a-f]{8,17}$/,
  subnet: /^subnet-[0-9a-f]{8,17}$/,
  securityGroup: /^sg-[0-9a-f]{8,17}$/,
  cidr: /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/,
  kmsKeyArn: new RegExp(`^arn:aws:kms:${REGION}:${ACCOUNT}:key/(?:[0-9a-f-]{36}|mrk-[0-9a-f]{32})$`),
  // The full ARN (with the 6-character suffix Secrets Manager appends), so IAM can name exactly this secret.
  secretArn: new RegExp(
    `^arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$`,
  ),
  principalArn: new RegExp(`^arn:aws:iam::${ACCOUNT}:(?:root|role/[\\w+=,.@/-]+|user/[\\w+=,.@/-]+)$`),
  oidcProviderArn: new RegExp(
    `^arn:aws:iam::${ACCOUNT}:oidc-provider/token\\.actions\\.githubusercontent\\.com$`,
  ),
  targetGroupArn: new RegExp(
    `^arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$`,
  ),
  ecrImageByDigest: new RegExp(
    `^${ACCOUNT}\\.dkr\\.ecr\\.${REGION}\\.amazonaws\\.com/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$`,
  ),
  // GitHub: owner 1-39 alphanumerics or single hyphens; repository 1-100 of [A-Za-z0-9._-], not "." or "..".
  githubRepository: /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}\/(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/,
  gitRef: /^[A-Za-z0-9._/-]{1,100}$/,
  resourceName: /^[A-Za-z0-9_-]{1,64}$/,
  roleName: /^[\w+=,.@-]{1,64}$/,
  envVarName: /^[A-Z_][A-Z0-9_]*$/,
} as const;

const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

// Pulumi hands every config value to the program as a string (structured values as JSON).
const parseInteger = (v: unknown): unknown =>
  typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
const parseBoolean = (v: unknown): unknown => (v === 'true' ? true : v === 'false' ? false : v);
const parseJson = (v: unknown): unknown => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
};

const num = () => z.preprocess(parseInteger, z.number({ error: 'must be a whole number' }));
const int = (min: number, max: number) =>
  z.preprocess(parseInteger, z.number({ error: 'must be a whole number' }).int().min(min).max(max));
const bool = () => z.preprocess(parseBoolean, z.boolean({ error: 'must be true or false' }));
const text = (re: RegExp, what: string) => z.string().regex(re, `must be ${what}`);
const list = <T extends z.ZodType>(item: T) => z.preprocess(parseJson, z.array(item));
const stringMap = <T extends z.ZodType>(value: T) =>
  z.preprocess(
    parseJson,
    z.record(z.string().regex(formats.envVarName, 'names must be UPPER_SNAKE_CASE'), value),
  );

const SECRET_ARN = 'a full Secrets Manager secret ARN (…:secret:<name>-AbCdEf)';
const KMS_ARN = 'a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)';

/** Every `retainwise:*` key. Unknown keys are rejected (a typo must not silently fall back to a default). */
const schema = z.strictObject({
  environment: text(
    formats.environment,
    'lower-case letters, digits and "-" (at most 20), e.g. "prod"',
  ).optional(),
  bucketName: text(formats.bucket, 'an S3 bucket name').optional(),

  vpcId: text(formats.vpc, 'a VPC id (vpc-…)').optional(),
  privateSubnetIds: list(text(formats.subnet, 'subnet ids (subnet-…)')).optional(),
  vpcCidr: text(formats.cidr, 'an IPv4 CIDR such as 10.40.0.0/16').optional(),
  azCount: int(2, 6).optional(),
  egress: z
    .enum(['vpc-endpoints', 'nat-gateway'], { error: 'must be "vpc-endpoints" or "nat-gateway"' })
    .optional(),
  natGatewayCount: int(1, 6).optional(),
  s3GatewayEndpoint: bool().optional(),
  databaseSecurityGroupId: text(formats.securityGroup, 'a security group id (sg-…)').optional(),
  flowLogRetentionDays: z
    .preprocess(
      parseInteger,
      z.literal(LOG_RETENTION_DAYS, { error: `must be one of ${LOG_RETENTION_DAYS.join(', ')}` }),
    )
    .optional(),

  queueName: z.string().optional(),
  dlqName: z.string().optional(),
  visibilityTimeoutSeconds: num().optional(),
  messageRetentionSeconds: num().optional(),
  dlqMessageRetentionSeconds: num().optional(),
  receiveWaitTimeSeconds: num().optional(),
  maxMessageSizeBytes: num().optional(),
  maxReceiveCount: num().optional(),
  queueKmsKeyArn: text(formats.kmsKeyArn, KMS_ARN).optional(),
  breakGlassPrincipalArns: list(text(formats.principalArn, 'IAM role or user ARNs')).optional(),

  workerTaskRoleName: text(formats.roleName, 'an IAM role name').optional(),
  backendTaskRoleName: text(formats.roleName, 'an IAM role name').optional(),
  executionRoleName: text(formats.roleName, 'an IAM role name').optional(),
  backendExecutionRoleName: text(formats.roleName, 'an IAM role name').optional(),
  operatorRoleName: text(formats.roleName, 'an IAM role name').optional(),
  operatorTrustedPrincipalArns: list(
    text(formats.principalArn, 'IAM role, user or account root ARNs'),
  ).optional(),
  operatorRequireMfa: bool().optional(),

  clusterName: text(formats.resourceName, 'letters, digits, "-" or "_"').optional(),
  workerServiceName: text(formats.resourceName, 'letters, digits, "-" or "_"').optional(),
  workerRepositoryName: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._/-]{1,255}$/, 'must be an ECR repository name')
    .optional(),
  workerCpu: num().optional(),
  workerMemory: num().optional(),
  cpuArchitecture: z.enum(['ARM64', 'X86_64'], { error: 'must be "ARM64" or "X86_64"' }).optional(),
  databaseUrlSecretArn: text(formats.secretArn, SECRET_ARN),
  databaseUrlSecretJsonKey: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'must be a JSON key name')
    .optional(),
  databaseSecretKmsKeyArn: text(formats.kmsKeyArn, KMS_ARN).optional(),
  workerConcurrency: num().optional(),
  heartbeatIntervalSeconds: num().optional(),
  jobTimeoutSeconds: num().optional(),
  shutdownTimeoutSeconds: num().optional(),
  databaseSsl: z
    .enum(['verify-full', 'require', 'disable'], { error: 'must be verify-full, require or disable' })
    .optional(),
  databasePoolSize: int(1, 20).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).optional(),
  logRetentionDays: z
    .preprocess(
      parseInteger,
      z.literal(LOG_RETENTION_DAYS, { error: `must be one of ${LOG_RETENTION_DAYS.join(', ')}` }),
    )
    .optional(),

  backendImage: text(
    formats.ecrImageByDigest,
    'an ECR image pinned by digest (<account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:<64 hex>)',
  ).optional(),
  backendServiceName: text(formats.resourceName, 'letters, digits, "-" or "_"').optional(),
  backendCpuArchitecture: z.enum(['ARM64', 'X86_64'], { error: 'must be "ARM64" or "X86_64"' }).optional(),
  backendCpu: num().optional(),
  backendMemory: num().optional(),
  backendDesiredCount: int(1, 100).optional(),
  backendContainerPort: int(1, 65_535).optional(),
  backendTargetGroupArn: text(formats.targetGroupArn, 'a target group ARN').optional(),
  backendLoadBalancerSecurityGroupId: text(formats.securityGroup, 'a security group id (sg-…)').optional(),
  backendEnvironment: stringMap(z.string()).optional(),
  backendSecrets: stringMap(text(formats.secretArn, SECRET_ARN)).optional(),

  workerMinTasks: num().optional(),
  workerMaxTasks: num().optional(),
  acceptableLatencySeconds: num().optional(),
  averageJobSeconds: num().optional(),
  scaleInIdleMinutes: num().optional(),

  alarmTopicName: text(formats.resourceName, 'an SNS topic name').optional(),
  alarmEmail: z.email('must be an e-mail address').optional(),
  dlqDepthThreshold: int(0, 100_000).optional(),
  oldestMessageAgeThresholdSeconds: int(60, 1_209_600).optional(),
  jobFailureRateThresholdPercent: int(1, 100).optional(),
  backlogWithoutWorkersMinutes: int(5, 1440).optional(),

  githubRepository: text(
    formats.githubRepository,
    'the GitHub repository as "owner/name", exactly as GitHub spells it',
  ),
  githubDeployTrust: z
    .enum(['environment', 'branch', 'both'], { error: 'must be "environment", "branch" or "both"' })
    .optional(),
  githubDeployBranch: text(formats.gitRef, 'a branch name').optional(),
  githubDeployEnvironment: text(formats.gitRef, 'a GitHub environment name').optional(),
  githubOidcProviderArn: text(
    formats.oidcProviderArn,
    "the ARN of the account's token.actions.githubusercontent.com OIDC provider",
  ).optional(),
  previewRoleName: text(formats.roleName, 'an IAM role name').optional(),
  deployRoleName: text(formats.roleName, 'an IAM role name').optional(),
  stateBackend: z.enum(['pulumi-cloud', 's3'], { error: 'must be "pulumi-cloud" or "s3"' }).optional(),
  stateBucketName: text(formats.bucket, 'an S3 bucket name').optional(),
  stateKmsKeyArn: text(formats.kmsKeyArn, KMS_ARN).optional(),
});

export type RawConfig = z.output<typeof schema>;
/** The config keys, for documentation checks. */
export const CONFIG_KEYS = Object.keys(schema.shape) as (keyof RawConfig)[];

export interface InfraConfig {
  project: string;
  stack: string;
  /** Names the queues and roles (`<environment>-retainwise-…`) and the metrics' Environment dimension. */
  environment: string;
  region: string;
  /** `undefined`: `retainwise-uploads-<account id>`, resolved at deploy time. */
  bucketName: string | undefined;
  /** As configured: the Network component applies its own defaults and rejects bad combinations. */
  network: NetworkSettings;
  queues: {
    queueName: string;
    dlqName: string;
    visibilityTimeoutSeconds: number;
    messageRetentionSeconds: number;
    dlqMessageRetentionSeconds: number;
    receiveWaitTimeSeconds: number;
    maxMessageSizeBytes: number;
    maxReceiveCount: number;
    kmsKeyArn: string | undefined;
    kmsDataKeyReusePeriodSeconds: number;
    breakGlassPrincipalArns: string[];
  };
  roles: {
    workerTaskRoleName: string;
    backendTaskRoleName: string;
    executionRoleName: string;
    backendExecutionRoleName: string;
    /** Not a key: derived from the environment. */
    flowLogsRoleName: string;
  };
  worker: {
    clusterName: string;
    serviceName: string;
    repositoryName: string;
    cpu: number;
    memory: number;
    cpuArchitecture: CpuArchitecture;
    databaseUrlSecretArn: string;
    databaseUrlSecretJsonKey: string | undefined;
    databaseSecretKmsKeyArn: string | undefined;
    workerConcurrency: number;
    heartbeatIntervalSeconds: number;
    jobTimeoutSeconds: number;
    shutdownTimeoutSeconds: number;
    databaseSsl: DatabaseSsl;
    databasePoolSize: number;
    logLevel: string;
    logRetentionDays: number;
  };
  operator: {
    roleName: string;
    /** `undefined`: the account root, resolved at deploy time. */
    trustedPrincipalArns: string[] | undefined;
    requireMfa: boolean;
  };
  /** Present only when `backendImage` is configured. */
  backend:
    | {
        image: string;
        serviceName: string;
        cpuArchitecture: CpuArchitecture;
        logGroupName: string;
        cpu: number;
        memory: number;
        desiredCount: number;
        containerPort: number;
        targetGroupArn: string | undefined;
        loadBalancerSecurityGroupId: string | undefined;
        environment: Record<string, string>;
        secrets: Record<string, string>;
      }
    | undefined;
  scaling: {
    minTasks: number;
    maxTasks: number;
    acceptableLatencySeconds: number;
    averageJobSeconds: number;
    scaleInIdleMinutes: number;
  };
  alarms: {
    topicName: string;
    email: string | undefined;
    dlqDepthThreshold: number;
    oldestMessageAgeThresholdSeconds: number;
    jobFailureRateThresholdPercent: number;
    backlogWithoutWorkersMinutes: number;
  };
  ci: {
    repository: string;
    deployTrust: DeployTrust;
    deployBranch: string;
    deployEnvironment: string;
    oidcProviderArn: string | undefined;
    previewRoleName: string;
    deployRoleName: string;
    /** Not a key: derived from the environment. */
    permissionsBoundaryName: string;
    stateBackend: StateBackend;
  };
}

/**
 * Names without an environment in them (cluster, service, log groups, roles, topic) keep the existing names in
 * `prod` and get an `-<environment>` suffix elsewhere, so a second stack in the same account cannot collide.
 */
export function environmentName(base: string, environment: string): string {
  return environment === 'prod' ? base : `${base}-${environment}`;
}

/** Reads and validates the running stack's config; throws one SettingsError naming every bad key. */
export function loadConfig(): InfraConfig {
  const project = pulumi.getProject();
  return parseConfig(pulumi.runtime.allConfig(), { project, stack: pulumi.getStack() });
}

/** Validates raw engine config (`project:key` → string) for a stack. Pure: the tests call it directly. */
export function parseConfig(
  all: Record<string, string>,
  ctx: { project: string; stack: string },
): InfraConfig {
  const prefix = `${ctx.project}:`;
  const raw = Object.fromEntries(
    Object.entries(all)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  );
  const qualify = (key: string) => (key.includes(':') ? key : `${prefix}${key}`);
  const fail = (issues: Issue[]) =>
    new SettingsError(
      `configuration of stack "${ctx.stack}"`,
      issues.map((i) => ({ ...i, key: qualify(i.key) })),
    );

  const region = all['aws:region'];
  const regionIssues: Issue[] =
    region && formats.region.test(region)
      ? []
      : [{ key: 'aws:region', message: 'must be set to the AWS region to deploy to, e.g. us-east-1' }];
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw fail([...regionIssues, ...parsed.error.issues.flatMap(zodIssue)]);
  if (!region || regionIssues.length > 0) throw fail(regionIssues);

  const config = resolve(parsed.data, ctx, region);
  const issues = [
    ...validateNetworkSettings(config.network),
    ...validateQueueSettings(config.queues),
    ...renamed(validateWorkerSettings({ ...config.worker, ...config.queues }), {
      serviceName: 'workerServiceName',
      repositoryName: 'workerRepositoryName',
      cpu: 'workerCpu',
      memory: 'workerMemory',
    }),
    ...renamed(
      validateScalingSettings({ ...config.scaling, workerConcurrency: config.worker.workerConcurrency }),
      {
        minTasks: 'workerMinTasks',
        maxTasks: 'workerMaxTasks',
      },
    ),
    ...(config.backend
      ? renamed(validateBackendSettings(config.backend), {
          serviceName: 'backendServiceName',
          cpu: 'backendCpu',
          memory: 'backendMemory',
          targetGroupArn: 'backendTargetGroupArn',
          loadBalancerSecurityGroupId: 'backendLoadBalancerSecurityGroupId',
          environment: 'backendEnvironment',
          secrets: 'backendSecrets',
        })
      : unusedBackendKeys(parsed.data)),
    ...stateBackendIssues(parsed.data),
    ...(parsed.data.operatorTrustedPrincipalArns?.length === 0
      ? [
          {
            key: 'operatorTrustedPrincipalArns',
            message: 'needs at least one principal (unset: the account)',
          },
        ]
      : []),
    ...(parsed.data.githubDeployBranch !== undefined && config.ci.deployTrust === 'environment'
      ? [{ key: 'githubDeployBranch', message: 'only applies when githubDeployTrust is "branch" or "both"' }]
      : []),
  ];
  if (issues.length > 0) throw fail(issues);
  return config;
}

function zodIssue(issue: z.core.$ZodIssue): Issue[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      key,
      message: `is not a setting of this stack (known keys: see infra/README.md)${suggestion(key)}`,
    }));
  }
  const key = issue.path.map(String).join('.') || '(root)';
  const message =
    issue.code === 'invalid_type' && issue.message.endsWith('received undefined')
      ? 'is required'
      : issue.message;
  return [{ key, message }];
}

function suggestion(key: string): string {
  const lower = key.toLowerCase();
  const close = CONFIG_KEYS.find(
    (k) => k.toLowerCase() === lower || editDistance(k.toLowerCase(), lower) <= 2,
  );
  return close ? `; did you mean "${close}"?` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function renamed(issues: Issue[], names: Record<string, string>): Issue[] {
  return issues.map((i) => ({ ...i, key: names[i.key] ?? i.key }));
}

const BACKEND_ONLY_KEYS = [
  'backendServiceName',
  'backendCpuArchitecture',
  'backendCpu',
  'backendMemory',
  'backendDesiredCount',
  'backendContainerPort',
  'backendTargetGroupArn',
  'backendLoadBalancerSecurityGroupId',
  'backendEnvironment',
  'backendSecrets',
] as const;

function unusedBackendKeys(raw: RawConfig): Issue[] {
  return BACKEND_ONLY_KEYS.filter((k) => raw[k] !== undefined).map((key) => ({
    key,
    message: 'only applies to the backend service, which runs only when backendImage is set',
  }));
}

function stateBackendIssues(raw: RawConfig): Issue[] {
  if ((raw.stateBackend ?? CI_DEFAULTS.stateBackend) === 's3') {
    return [
      ...(raw.stateBucketName
        ? []
        : [{ key: 'stateBucketName', message: 'is required when stateBackend is "s3"' }]),
      ...(raw.stateKmsKeyArn
        ? []
        : [
            {
              key: 'stateKmsKeyArn',
              message: 'is required when stateBackend is "s3" (the awskms:// secrets provider key)',
            },
          ]),
    ];
  }
  return (['stateBucketName', 'stateKmsKeyArn'] as const)
    .filter((k) => raw[k] !== undefined)
    .map((key) => ({ key, message: 'only applies when stateBackend is "s3"' }));
}

function resolve(raw: RawConfig, ctx: { project: string; stack: string }, region: string): InfraConfig {
  const environment = raw.environment ?? ctx.stack;
  const named = (base: string) => environmentName(base, environment);
  const stateBackend: StateBackend =
    (raw.stateBackend ?? CI_DEFAULTS.stateBackend) === 's3'
      ? { kind: 's3', bucketName: raw.stateBucketName ?? '', kmsKeyArn: raw.stateKmsKeyArn ?? '' }
      : { kind: 'pulumi-cloud' };
  return {
    project: ctx.project,
    stack: ctx.stack,
    environment,
    region,
    bucketName: raw.bucketName,
    network: {
      vpcId: raw.vpcId,
      privateSubnetIds: raw.privateSubnetIds,
      vpcCidr: raw.vpcCidr,
      azCount: raw.azCount,
      egress: raw.egress,
      natGatewayCount: raw.natGatewayCount,
      s3GatewayEndpoint: raw.s3GatewayEndpoint,
      databaseSecurityGroupId: raw.databaseSecurityGroupId,
      flowLogRetentionDays: raw.flowLogRetentionDays,
    },
    queues: {
      queueName: raw.queueName ?? `${environment}-retainwise-predictions-queue`,
      dlqName: raw.dlqName ?? `${environment}-retainwise-predictions-dlq`,
      visibilityTimeoutSeconds: raw.visibilityTimeoutSeconds ?? QUEUE_DEFAULTS.visibilityTimeoutSeconds,
      messageRetentionSeconds: raw.messageRetentionSeconds ?? QUEUE_DEFAULTS.messageRetentionSeconds,
      dlqMessageRetentionSeconds: raw.dlqMessageRetentionSeconds ?? QUEUE_DEFAULTS.dlqMessageRetentionSeconds,
      receiveWaitTimeSeconds: raw.receiveWaitTimeSeconds ?? QUEUE_DEFAULTS.receiveWaitTimeSeconds,
      maxMessageSizeBytes: raw.maxMessageSizeBytes ?? QUEUE_DEFAULTS.maxMessageSizeBytes,
      maxReceiveCount: raw.maxReceiveCount ?? QUEUE_DEFAULTS.maxReceiveCount,
      kmsKeyArn: raw.queueKmsKeyArn,
      kmsDataKeyReusePeriodSeconds: QUEUE_DEFAULTS.kmsDataKeyReusePeriodSeconds,
      breakGlassPrincipalArns: raw.breakGlassPrincipalArns ?? [],
    },
    roles: {
      workerTaskRoleName: raw.workerTaskRoleName ?? `${environment}-retainwise-worker-task-role`,
      backendTaskRoleName: raw.backendTaskRoleName ?? `${environment}-retainwise-backend-task-role`,
      executionRoleName: raw.executionRoleName ?? named(WORKER_DEFAULTS.executionRoleName),
      backendExecutionRoleName: raw.backendExecutionRoleName ?? named(BACKEND_DEFAULTS.executionRoleName),
      flowLogsRoleName: named('retainwise-vpc-flow-logs-role'),
    },
    worker: {
      clusterName: raw.clusterName ?? named(WORKER_DEFAULTS.clusterName),
      serviceName: raw.workerServiceName ?? named(WORKER_DEFAULTS.serviceName),
      repositoryName: raw.workerRepositoryName ?? named(WORKER_DEFAULTS.repositoryName),
      cpu: raw.workerCpu ?? WORKER_DEFAULTS.cpu,
      memory: raw.workerMemory ?? WORKER_DEFAULTS.memory,
      cpuArchitecture: raw.cpuArchitecture ?? WORKER_DEFAULTS.cpuArchitecture,
      databaseUrlSecretArn: raw.databaseUrlSecretArn,
      databaseUrlSecretJsonKey: raw.databaseUrlSecretJsonKey,
      databaseSecretKmsKeyArn: raw.databaseSecretKmsKeyArn,
      workerConcurrency: raw.workerConcurrency ?? WORKER_DEFAULTS.workerConcurrency,
      heartbeatIntervalSeconds: raw.heartbeatIntervalSeconds ?? WORKER_DEFAULTS.heartbeatIntervalSeconds,
      jobTimeoutSeconds: raw.jobTimeoutSeconds ?? WORKER_DEFAULTS.jobTimeoutSeconds,
      shutdownTimeoutSeconds: raw.shutdownTimeoutSeconds ?? WORKER_DEFAULTS.shutdownTimeoutSeconds,
      databaseSsl: raw.databaseSsl ?? WORKER_DEFAULTS.databaseSsl,
      databasePoolSize: raw.databasePoolSize ?? WORKER_DEFAULTS.databasePoolSize,
      logLevel: raw.logLevel ?? WORKER_DEFAULTS.logLevel,
      logRetentionDays: raw.logRetentionDays ?? WORKER_DEFAULTS.logRetentionDays,
    },
    operator: {
      roleName: raw.operatorRoleName ?? named(OPERATOR_DEFAULTS.roleName),
      trustedPrincipalArns: raw.operatorTrustedPrincipalArns,
      requireMfa: raw.operatorRequireMfa ?? OPERATOR_DEFAULTS.requireMfa,
    },
    backend: raw.backendImage
      ? {
          image: raw.backendImage,
          serviceName: raw.backendServiceName ?? named(BACKEND_DEFAULTS.serviceName),
          cpuArchitecture: raw.backendCpuArchitecture ?? BACKEND_DEFAULTS.cpuArchitecture,
          logGroupName: named(BACKEND_DEFAULTS.logGroupName),
          cpu: raw.backendCpu ?? BACKEND_DEFAULTS.cpu,
          memory: raw.backendMemory ?? BACKEND_DEFAULTS.memory,
          desiredCount: raw.backendDesiredCount ?? BACKEND_DEFAULTS.desiredCount,
          containerPort: raw.backendContainerPort ?? BACKEND_DEFAULTS.containerPort,
          targetGroupArn: raw.backendTargetGroupArn,
          loadBalancerSecurityGroupId: raw.backendLoadBalancerSecurityGroupId,
          environment: raw.backendEnvironment ?? {},
          secrets: raw.backendSecrets ?? {},
        }
      : undefined,
    scaling: {
      minTasks: raw.workerMinTasks ?? SCALING_DEFAULTS.minTasks,
      maxTasks: raw.workerMaxTasks ?? SCALING_DEFAULTS.maxTasks,
      acceptableLatencySeconds: raw.acceptableLatencySeconds ?? SCALING_DEFAULTS.acceptableLatencySeconds,
      averageJobSeconds: raw.averageJobSeconds ?? SCALING_DEFAULTS.averageJobSeconds,
      scaleInIdleMinutes: raw.scaleInIdleMinutes ?? SCALING_DEFAULTS.scaleInIdleMinutes,
    },
    alarms: {
      topicName: raw.alarmTopicName ?? named(ALARM_DEFAULTS.topicName),
      email: raw.alarmEmail,
      dlqDepthThreshold: raw.dlqDepthThreshold ?? ALARM_DEFAULTS.dlqDepthThreshold,
      oldestMessageAgeThresholdSeconds:
        raw.oldestMessageAgeThresholdSeconds ?? ALARM_DEFAULTS.oldestMessageAgeThresholdSeconds,
      jobFailureRateThresholdPercent:
        raw.jobFailureRateThresholdPercent ?? ALARM_DEFAULTS.jobFailureRateThresholdPercent,
      backlogWithoutWorkersMinutes:
        raw.backlogWithoutWorkersMinutes ?? ALARM_DEFAULTS.backlogWithoutWorkersMinutes,
    },
    ci: {
      repository: raw.githubRepository,
      deployTrust: raw.githubDeployTrust ?? CI_DEFAULTS.deployTrust,
      deployBranch: raw.githubDeployBranch ?? CI_DEFAULTS.deployBranch,
      deployEnvironment: raw.githubDeployEnvironment ?? environment,
      oidcProviderArn: raw.githubOidcProviderArn,
      previewRoleName: raw.previewRoleName ?? named(CI_DEFAULTS.previewRoleName),
      deployRoleName: raw.deployRoleName ?? named(CI_DEFAULTS.deployRoleName),
      permissionsBoundaryName: named(CI_DEFAULTS.permissionsBoundaryName),
      stateBackend,
    },
  };
}
