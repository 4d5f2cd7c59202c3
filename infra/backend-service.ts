// Optional: the existing backend API (FastAPI) as a second Fargate service in the worker's cluster, with its own
// task role, the same network, secrets and log settings, behind an existing load balancer target group or none.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import {
  FargateService,
  fargateSizeIssues,
  type ContainerSecret,
  type CpuArchitecture,
} from './fargate-service.js';
import { PARTITION } from './policy.js';
import { assertValid, check, type Issue } from './validation.js';

export const BACKEND_DEFAULTS = {
  /** The existing API service's name (lessons #36). */
  serviceName: 'retainwise-service',
  executionRoleName: 'retainwise-backend-ecs-task-execution-role',
  cpu: 512,
  memory: 1024,
  desiredCount: 1,
  containerPort: 8000,
  // The existing API image is built for x86-64.
  cpuArchitecture: 'X86_64' as CpuArchitecture,
  logGroupName: '/ecs/retainwise-backend',
  logRetentionDays: 7,
  healthCheckGracePeriodSeconds: 60,
};

/** Set by this program from its own resources; configuration may not override them. */
export const BACKEND_MANAGED_VARIABLES = [
  'PREDICTIONS_QUEUE_URL',
  'S3_BUCKET',
  'AWS_REGION',
  'ENVIRONMENT',
  'DATABASE_URL',
];
const CREDENTIAL_LIKE = /PASSWORD|SECRET|TOKEN|CREDENTIAL|PRIVATE|API_KEY|ACCESS_KEY|DATABASE_URL/;

export interface BackendSettings {
  /** ECR image pinned by digest (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:…`). */
  image: string;
  /** @default 'retainwise-service' */
  serviceName?: string;
  /** CPU architecture the image is built for. @default 'X86_64' */
  cpuArchitecture?: CpuArchitecture;
  /** @default 512 */
  cpu?: number;
  /** @default 1024 */
  memory?: number;
  /** Tasks to run (the API is not autoscaled here). @default 1 */
  desiredCount?: number;
  /** Port the API listens on. @default 8000 */
  containerPort?: number;
  /** Existing target group to register tasks with; requires `loadBalancerSecurityGroupId`. @default undefined (no load balancer) */
  targetGroupArn?: string | undefined;
  /** Security group of that load balancer, admitted to `containerPort`. @default undefined */
  loadBalancerSecurityGroupId?: string | undefined;
  /** Further plain variables (no credentials). @default {} */
  environment?: Record<string, string>;
  /** Further variables from Secrets Manager: name → full secret ARN. @default {} */
  secrets?: Record<string, string>;
}

export function validateBackendSettings(s: BackendSettings): Issue[] {
  const environment = Object.keys(s.environment ?? {});
  const secrets = Object.keys(s.secrets ?? {});
  const reserved = (names: string[]) => names.filter((n) => BACKEND_MANAGED_VARIABLES.includes(n));
  const credentials = environment.filter((n) => CREDENTIAL_LIKE.test(n));
  const both = environment.filter((n) => secrets.includes(n));
  return [
    ...fargateSizeIssues(s.cpu ?? BACKEND_DEFAULTS.cpu, s.memory ?? BACKEND_DEFAULTS.memory),
    ...check(
      [
        !s.targetGroupArn || !!s.loadBalancerSecurityGroupId,
        'loadBalancerSecurityGroupId',
        'is required with targetGroupArn (the load balancer must reach the tasks)',
      ],
      [
        !s.loadBalancerSecurityGroupId || !!s.targetGroupArn,
        'targetGroupArn',
        'is required with loadBalancerSecurityGroupId',
      ],
      [
        reserved([...environment, ...secrets]).length === 0,
        'environment',
        `must not set ${reserved([...environment, ...secrets]).join(', ')}: this program sets them`,
      ],
      [
        credentials.length === 0,
        'environment',
        `${credentials.join(', ')} look like credentials: put them in secrets (Secrets Manager), never in plain environment (lessons #40)`,
      ],
      [both.length === 0, 'secrets', `${both.join(', ')} also appear in environment`],
    ),
  ];
}

/** The repository ARN of an ECR image reference. */
export function ecrRepositoryArn(image: string): string {
  const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^@:]+)/.exec(image);
  if (!m) throw new Error(`not an ECR image reference: ${image}`);
  return `arn:${PARTITION}:ecr:${m[2]}:${m[1]}:repository/${m[3]}`;
}

export interface BackendServiceArgs extends BackendSettings {
  cluster: aws.ecs.Cluster;
  taskRole: aws.iam.Role;
  /** What grants the task role its permissions (e.g. the TaskRoles component). @default [] */
  taskRoleGrants?: pulumi.Resource[];
  /** @default 'retainwise-backend-ecs-task-execution-role' */
  executionRoleName?: string;
  queueUrl: pulumi.Input<string>;
  bucketName: pulumi.Input<string>;
  environmentName: string;
  databaseUrlSecret: ContainerSecret;
  /** @default [] */
  secretKmsKeyArns?: string[];
  vpcId: pulumi.Input<string>;
  subnetIds: pulumi.Input<string[]>;
  /** The tasks' security group (egress). */
  tasksSecurityGroupId: pulumi.Input<string>;
  /** Name prefix for the ingress security group. */
  namePrefix: string;
  /** @default '/ecs/retainwise-backend' */
  logGroupName?: string;
  /** @default 7 */
  logRetentionDays?: number;
  region: string;
  accountId: pulumi.Input<string>;
}

export class BackendService extends pulumi.ComponentResource {
  readonly fargate: FargateService;

  constructor(name: string, args: BackendServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    assertValid(`BackendService '${name}' arguments`, validateBackendSettings(args));
    super('retainwise:backend:BackendService', name, {}, opts);
    const parent = { parent: this };
    const containerPort = args.containerPort ?? BACKEND_DEFAULTS.containerPort;
    const securityGroupIds: pulumi.Input<string>[] = [args.tasksSecurityGroupId];

    if (args.targetGroupArn && args.loadBalancerSecurityGroupId) {
      const ingress = new aws.ec2.SecurityGroup(
        `${name}-ingress`,
        {
          name: `${args.namePrefix}-backend-ingress`,
          description: 'RetainWise backend API: traffic from its load balancer',
          vpcId: args.vpcId,
          tags: { Name: `${args.namePrefix}-backend-ingress` },
        },
        parent,
      );
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-from-load-balancer`,
        {
          securityGroupId: ingress.id,
          referencedSecurityGroupId: args.loadBalancerSecurityGroupId,
          ipProtocol: 'tcp',
          fromPort: containerPort,
          toPort: containerPort,
          description: 'API port from the load balancer',
        },
        parent,
      );
      securityGroupIds.push(ingress.id);
    }

    const secrets: ContainerSecret[] = [
      args.databaseUrlSecret,
      ...Object.entries(args.secrets ?? {}).map(([secretName, secretArn]) => ({
        name: secretName,
        secretArn,
      })),
    ];
    this.fargate = new FargateService(
      name,
      {
        cluster: args.cluster,
        serviceName: args.serviceName ?? BACKEND_DEFAULTS.serviceName,
        containerName: 'backend',
        image: args.image,
        repositoryArn: ecrRepositoryArn(args.image),
        cpu: args.cpu ?? BACKEND_DEFAULTS.cpu,
        memory: args.memory ?? BACKEND_DEFAULTS.memory,
        cpuArchitecture: args.cpuArchitecture ?? BACKEND_DEFAULTS.cpuArchitecture,
        taskRole: args.taskRole,
        taskRoleGrants: args.taskRoleGrants ?? [],
        executionRoleName: args.executionRoleName ?? BACKEND_DEFAULTS.executionRoleName,
        environment: {
          ...args.environment,
          PREDICTIONS_QUEUE_URL: args.queueUrl,
          S3_BUCKET: args.bucketName,
          AWS_REGION: args.region,
          ENVIRONMENT: args.environmentName,
        },
        secrets,
        secretKmsKeyArns: args.secretKmsKeyArns ?? [],
        logGroupName: args.logGroupName ?? BACKEND_DEFAULTS.logGroupName,
        logRetentionDays: args.logRetentionDays ?? BACKEND_DEFAULTS.logRetentionDays,
        subnetIds: args.subnetIds,
        securityGroupIds,
        desiredCount: args.desiredCount ?? BACKEND_DEFAULTS.desiredCount,
        // The existing API writes to its working directory (its local upload fallback), so its root stays writable.
        readonlyRootFilesystem: false,
        loadBalancer: args.targetGroupArn
          ? {
              targetGroupArn: args.targetGroupArn,
              containerPort,
              healthCheckGracePeriodSeconds: BACKEND_DEFAULTS.healthCheckGracePeriodSeconds,
            }
          : undefined,
        region: args.region,
        accountId: args.accountId,
      },
      parent,
    );
    this.registerOutputs({ serviceName: this.fargate.service.name });
  }
}
