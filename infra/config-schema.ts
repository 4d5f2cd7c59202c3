// Every `retainwise:*` key of the stack config: its type and format. What the values mean, their defaults and the
// checks across settings belong to the components that use them (their `*Settings` interfaces).
import { z } from 'zod';

const ACCOUNT = String.raw`\d{12}`;
const REGION = '[a-z]{2}(?:-[a-z]+)+-\\d';
export const formats = {
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
export const schema = z.strictObject({
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
  workerBusinessHours: z
    .preprocess(
      parseJson,
      z.strictObject({
        minTasks: num(),
        start: z.string(),
        end: z.string(),
        days: z.string().optional(),
        timezone: z.string().optional(),
      }),
    )
    .optional(),

  queueKeepAlive: bool().optional(),

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
