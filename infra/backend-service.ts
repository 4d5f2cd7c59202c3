// Optional: the existing backend API (FastAPI) as a second Fargate service in the worker's cluster, with its own
// task role, the same network, secrets and log settings, behind an existing load balancer target group or none.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { ContainerSecret } from './container-definition.js';
import { fargateSizeIssues } from './fargate-limits.js';
import { FargateService, type CpuArchitecture } from './fargate-service.js';
import { environmentName, namePrefix } from './names.js';
import type { Network } from './network.js';
import { PARTITION } from './policy.js';
import type { TaskRoles } from './task-roles.js';
import { assertValid, check, pick, withDefaults, type Issue } from './validation.js';
import type { WorkerService } from './worker-service.js';

/** Set by this program from its own resources; configuration may not override them. */
export const BACKEND_MANAGED_VARIABLES = [
  'PREDICTIONS_QUEUE_URL',
  'S3_BUCKET',
  'AWS_REGION',
  'ENVIRONMENT',
  'DATABASE_URL',
];
const CREDENTIAL_LIKE = /PASSWORD|SECRET|TOKEN|CREDENTIAL|PRIVATE|API_KEY|ACCESS_KEY|DATABASE_URL/;

/** The backend settings of the stack config (`retainwise:<key>`); the service runs only with `backendImage`. */
export interface BackendSettings {
  /** ECR image pinned by digest (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:…`). */
  backendImage?: string | undefined;
  /** The existing API service's name (lessons #36). @default 'retainwise-service' (`-<environment>` outside prod) */
  backendServiceName?: string | undefined;
  /** @default 'retainwise-backend-ecs-task-execution-role' (`-<environment>` outside prod) */
  backendExecutionRoleName?: string | undefined;
  /** CPU architecture the image is built for (the existing API image is x86-64). @default 'X86_64' */
  backendCpuArchitecture?: CpuArchitecture | undefined;
  /** @default 512 */
  backendCpu?: number | undefined;
  /** @default 1024 */
  backendMemory?: number | undefined;
  /** Tasks to run (the API is not autoscaled here). @default 1 */
  backendDesiredCount?: number | undefined;
  /** Port the API listens on. @default 8000 */
  backendContainerPort?: number | undefined;
  /** Existing target group to register tasks with; requires `backendLoadBalancerSecurityGroupId`. @default undefined (no load balancer) */
  backendTargetGroupArn?: string | undefined;
  /** Security group of that load balancer, admitted to `backendContainerPort`. @default undefined */
  backendLoadBalancerSecurityGroupId?: string | undefined;
  /** Further plain variables (no credentials). @default {} */
  backendEnvironment?: Record<string, string> | undefined;
  /** Further variables from Secrets Manager: name → full secret ARN. @default {} */
  backendSecrets?: Record<string, string> | undefined;
}

const OPTIONAL = ['backendImage', 'backendTargetGroupArn', 'backendLoadBalancerSecurityGroupId'] as const;
export type ResolvedBackendSettings = Required<Omit<BackendSettings, (typeof OPTIONAL)[number]>> &
  Pick<BackendSettings, (typeof OPTIONAL)[number]>;

/** The backend settings with every default applied (the only place they are). */
export function resolveBackendSettings(s: BackendSettings, environment: string): ResolvedBackendSettings {
  const named = (base: string) => environmentName(base, environment);
  return {
    ...withDefaults(
      {
        backendServiceName: named('retainwise-service'),
        backendExecutionRoleName: named('retainwise-backend-ecs-task-execution-role'),
        backendCpuArchitecture: 'X86_64',
        backendCpu: 512,
        backendMemory: 1024,
        backendDesiredCount: 1,
        backendContainerPort: 8000,
        backendEnvironment: {},
        backendSecrets: {},
      },
      pick(s, [
        'backendServiceName',
        'backendExecutionRoleName',
        'backendCpuArchitecture',
        'backendCpu',
        'backendMemory',
        'backendDesiredCount',
        'backendContainerPort',
        'backendEnvironment',
        'backendSecrets',
      ]),
    ),
    ...pick(s, OPTIONAL),
  };
}

/** Settings of the backend service, which exists only with `backendImage`. */
export const BACKEND_ONLY_SETTINGS = [
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

export function validateBackendSettings(s: ResolvedBackendSettings, given: BackendSettings): Issue[] {
  if (!s.backendImage) {
    return BACKEND_ONLY_SETTINGS.filter((k) => given[k] !== undefined).map((key) => ({
      key,
      message: 'only applies to the backend service, which runs only when backendImage is set',
    }));
  }
  const environment = Object.keys(s.backendEnvironment);
  const secrets = Object.keys(s.backendSecrets);
  const reserved = (names: string[]) => names.filter((n) => BACKEND_MANAGED_VARIABLES.includes(n));
  const credentials = environment.filter((n) => CREDENTIAL_LIKE.test(n));
  const both = environment.filter((n) => secrets.includes(n));
  return [
    ...fargateSizeIssues(s.backendCpu, s.backendMemory, { cpu: 'backendCpu', memory: 'backendMemory' }),
    ...check(
      [
        !s.backendTargetGroupArn || !!s.backendLoadBalancerSecurityGroupId,
        'backendLoadBalancerSecurityGroupId',
        'is required with backendTargetGroupArn (the load balancer must reach the tasks)',
      ],
      [
        !s.backendLoadBalancerSecurityGroupId || !!s.backendTargetGroupArn,
        'backendTargetGroupArn',
        'is required with backendLoadBalancerSecurityGroupId',
      ],
      [
        reserved([...environment, ...secrets]).length === 0,
        'backendEnvironment',
        `must not set ${reserved([...environment, ...secrets]).join(', ')}: this program sets them`,
      ],
      [
        credentials.length === 0,
        'backendEnvironment',
        `${credentials.join(', ')} look like credentials: put them in backendSecrets (Secrets Manager), never in plain environment (lessons #40)`,
      ],
      [both.length === 0, 'backendSecrets', `${both.join(', ')} also appear in backendEnvironment`],
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
  environment: string;
  /** Its cluster, database secret, queue and log retention. */
  worker: WorkerService;
  taskRoles: TaskRoles;
  network: Network;
  bucketName: pulumi.Input<string>;
  region: string;
  accountId: pulumi.Input<string>;
}

const HEALTH_CHECK_GRACE_PERIOD_SECONDS = 60;

export class BackendService extends pulumi.ComponentResource {
  readonly fargate: FargateService;

  constructor(name: string, args: BackendServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    const s = resolveBackendSettings(args, args.environment);
    assertValid(`BackendService '${name}' arguments`, [
      ...validateBackendSettings(s, args),
      ...check([!!s.backendImage, 'backendImage', 'is required']),
    ]);
    super('retainwise:backend:BackendService', name, {}, opts);
    const parent = { parent: this };
    const { network, worker } = args;
    const prefix = namePrefix(args.environment);
    const containerPort = s.backendContainerPort;
    const securityGroupIds: pulumi.Input<string>[] = [network.tasksSecurityGroup.id];
    if (network.egress === 'vpc-endpoints') {
      void pulumi.log.warn(
        'The backend API runs without a NAT path: it can reach AWS APIs only. Use egress "nat-gateway" if it calls external services.',
      );
    }

    if (s.backendTargetGroupArn && s.backendLoadBalancerSecurityGroupId) {
      const ingress = new aws.ec2.SecurityGroup(
        `${name}-ingress`,
        {
          name: `${prefix}-backend-ingress`,
          description: 'RetainWise backend API: traffic from its load balancer',
          vpcId: network.vpcId,
          tags: { Name: `${prefix}-backend-ingress` },
        },
        parent,
      );
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-from-load-balancer`,
        {
          securityGroupId: ingress.id,
          referencedSecurityGroupId: s.backendLoadBalancerSecurityGroupId,
          ipProtocol: 'tcp',
          fromPort: containerPort,
          toPort: containerPort,
          description: 'API port from the load balancer',
        },
        parent,
      );
      securityGroupIds.push(ingress.id);
    }

    const image = s.backendImage ?? '';
    const secrets: ContainerSecret[] = [
      worker.databaseUrlSecret,
      ...Object.entries(s.backendSecrets).map(([secretName, secretArn]) => ({
        name: secretName,
        secretArn,
      })),
    ];
    this.fargate = new FargateService(
      name,
      {
        cluster: worker.cluster,
        serviceName: s.backendServiceName,
        containerName: 'backend',
        image,
        repositoryArn: ecrRepositoryArn(image),
        cpu: s.backendCpu,
        memory: s.backendMemory,
        cpuArchitecture: s.backendCpuArchitecture,
        taskRole: args.taskRoles.backendTaskRole,
        taskRoleGrants: [args.taskRoles],
        executionRoleName: s.backendExecutionRoleName,
        environment: {
          ...s.backendEnvironment,
          PREDICTIONS_QUEUE_URL: worker.queues.queue.url,
          S3_BUCKET: args.bucketName,
          AWS_REGION: args.region,
          ENVIRONMENT: args.environment,
        },
        secrets,
        secretKmsKeyArns: worker.secretKmsKeyArns,
        logGroupName: environmentName('/ecs/retainwise-backend', args.environment),
        logRetentionDays: worker.settings.logRetentionDays,
        subnetIds: network.privateSubnetIds,
        securityGroupIds,
        desiredCount: s.backendDesiredCount,
        // The existing API writes to its working directory (its local upload fallback), so its root stays writable.
        readonlyRootFilesystem: false,
        loadBalancer: s.backendTargetGroupArn
          ? {
              targetGroupArn: s.backendTargetGroupArn,
              containerPort,
              healthCheckGracePeriodSeconds: HEALTH_CHECK_GRACE_PERIOD_SECONDS,
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
