// The CI identity: GitHub Actions' OIDC provider and two roles assumed with its tokens. The preview role
// (read-only) is for pull requests of this repository; the deploy role for jobs in its deploy environment
// (optionally: its deploy branch). No static keys anywhere; `aud` and `sub` are pinned with StringEquals
// (lessons #39).
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { permissionsBoundaryDocument } from './boundary.js';
import { deployRolePolicy, POWER_USER_ACCESS, previewRolePolicy, READ_ONLY_ACCESS } from './ci-policies.js';
import {
  GITHUB_OIDC_AUDIENCE,
  GITHUB_OIDC_HOST,
  githubSubjects,
  githubTrustPolicy,
  type DeployTrust,
} from './github-trust.js';
import { environmentName } from './names.js';
import { attachExclusivePolicies, policyJson } from './policy.js';
import type { StateBackend } from './state-backend.js';
import { check, type Issue } from './validation.js';

/** A deploy builds an image and waits for ECS to reach a steady state. */
const DEPLOY_MAX_SESSION_SECONDS = 7200;

/** The CI and state settings of the stack config (`retainwise:<key>`). */
export interface CiSettings {
  /** `owner/name` exactly as GitHub spells it: it becomes the tokens' `sub` prefix. */
  githubRepository: string;
  /** Which runs may assume the deploy role. @default 'environment' (only jobs in `githubDeployEnvironment`) */
  githubDeployTrust?: DeployTrust | undefined;
  /** Branch whose workflow runs may deploy (with `githubDeployTrust` branch or both). @default 'main' */
  githubDeployBranch?: string | undefined;
  /** GitHub environment whose jobs may deploy. @default the stack's environment */
  githubDeployEnvironment?: string | undefined;
  /** The account's existing GitHub OIDC provider (one per account). @default undefined (create it) */
  githubOidcProviderArn?: string | undefined;
  /** @default 'retainwise-cicd-preview-role' (`-<environment>` outside prod) */
  previewRoleName?: string | undefined;
  /** @default 'retainwise-cicd-ecs-deployment-role' (the existing CI role's name; `-<environment>` outside prod) */
  deployRoleName?: string | undefined;
  /** Where Pulumi keeps the state. @default 'pulumi-cloud' */
  stateBackend?: StateBackend['kind'] | undefined;
  /** The state bucket (with `stateBackend` s3). */
  stateBucketName?: string | undefined;
  /** The awskms:// secrets provider key (with `stateBackend` s3). */
  stateKmsKeyArn?: string | undefined;
}

export interface ResolvedCiSettings {
  githubRepository: string;
  githubDeployTrust: DeployTrust;
  githubDeployBranch: string;
  githubDeployEnvironment: string;
  githubOidcProviderArn: string | undefined;
  previewRoleName: string;
  deployRoleName: string;
  /** Not a key: the managed policy capping every role the deploy role manages. */
  permissionsBoundaryName: string;
  stateBackend: StateBackend;
}

/** The CI settings with every default applied (the only place they are). */
export function resolveCiSettings(s: CiSettings, environment: string): ResolvedCiSettings {
  const named = (base: string) => environmentName(base, environment);
  return {
    githubRepository: s.githubRepository,
    githubDeployTrust: s.githubDeployTrust ?? 'environment',
    githubDeployBranch: s.githubDeployBranch ?? 'main',
    githubDeployEnvironment: s.githubDeployEnvironment ?? environment,
    githubOidcProviderArn: s.githubOidcProviderArn,
    previewRoleName: s.previewRoleName ?? named('retainwise-cicd-preview-role'),
    deployRoleName: s.deployRoleName ?? named('retainwise-cicd-ecs-deployment-role'),
    permissionsBoundaryName: named('retainwise-permissions-boundary'),
    stateBackend:
      s.stateBackend === 's3'
        ? { kind: 's3', bucketName: s.stateBucketName ?? '', kmsKeyArn: s.stateKmsKeyArn ?? '' }
        : { kind: 'pulumi-cloud' },
  };
}

/** Combinations the settings reject, judged on what the stack config sets (`given`). */
export function validateCiSettings(s: ResolvedCiSettings, given: CiSettings): Issue[] {
  const s3 = s.stateBackend.kind === 's3';
  return [
    ...check(
      [!s3 || !!given.stateBucketName, 'stateBucketName', 'is required when stateBackend is "s3"'],
      [
        !s3 || !!given.stateKmsKeyArn,
        'stateKmsKeyArn',
        'is required when stateBackend is "s3" (the awskms:// secrets provider key)',
      ],
      [
        given.githubDeployBranch === undefined || s.githubDeployTrust !== 'environment',
        'githubDeployBranch',
        'only applies when githubDeployTrust is "branch" or "both"',
      ],
    ),
    ...(s3
      ? []
      : (['stateBucketName', 'stateKmsKeyArn'] as const)
          .filter((k) => given[k] !== undefined)
          .map((key) => ({ key, message: 'only applies when stateBackend is "s3"' }))),
  ];
}

export interface GithubOidcArgs extends ResolvedCiSettings {
  /** Names of the task and execution roles the deployer manages and passes to ECS. */
  ecsTaskRoleNames: string[];
  flowLogsRoleName: string;
  operatorRoleName: string;
  /** The queue keep-alive's function role (passed to Lambda) and schedule role (passed to EventBridge Scheduler). */
  keepAliveFunctionRoleName: string;
  keepAliveSchedulerRoleName: string;
  /** The customer-file bucket the preview role must not read. */
  uploadsBucketName: pulumi.Input<string>;
  accountId: pulumi.Input<string>;
}

export class GithubOidc extends pulumi.ComponentResource {
  readonly providerArn: pulumi.Output<string>;
  /** Every role the deploy role manages must carry it: give it to them with `capRolesWith`. */
  readonly permissionsBoundary: aws.iam.Policy;
  readonly previewRole: aws.iam.Role;
  readonly deployRole: aws.iam.Role;

  constructor(name: string, args: GithubOidcArgs, opts?: pulumi.ComponentResourceOptions) {
    super('retainwise:ci:GithubOidc', name, {}, opts);
    const parent = { parent: this };
    const { previewRoleName, deployRoleName } = args;
    const subjects = githubSubjects(args.githubRepository, {
      trust: args.githubDeployTrust,
      branch: args.githubDeployBranch,
      environment: args.githubDeployEnvironment,
    });

    // GitHub's certificate chain is trusted by AWS directly: no thumbprint to pin and rotate.
    this.providerArn = args.githubOidcProviderArn
      ? pulumi.output(args.githubOidcProviderArn)
      : new aws.iam.OpenIdConnectProvider(
          `${name}-provider`,
          { url: `https://${GITHUB_OIDC_HOST}`, clientIdLists: [GITHUB_OIDC_AUDIENCE] },
          { parent: this, protect: true },
        ).arn;

    this.permissionsBoundary = new aws.iam.Policy(
      `${name}-permissions-boundary`,
      {
        name: args.permissionsBoundaryName,
        description: 'The most any role the CI deploy role manages may do',
        policy: JSON.stringify(permissionsBoundaryDocument()),
      },
      parent,
    );

    this.previewRole = new aws.iam.Role(
      `${name}-preview`,
      {
        name: previewRoleName,
        permissionsBoundary: this.permissionsBoundary.arn,
        description: `pulumi preview for pull requests of ${args.githubRepository}`,
        assumeRolePolicy: policyJson([this.providerArn], ([arn]) => githubTrustPolicy(arn, subjects.preview)),
      },
      parent,
    );
    attachExclusivePolicies(
      `${name}-preview`,
      this.previewRole,
      {
        managed: [READ_ONLY_ACCESS],
        inline: {
          'preview-stack': policyJson([args.uploadsBucketName], ([uploadsBucketName]) =>
            previewRolePolicy({ stateBackend: args.stateBackend, uploadsBucketName }),
          ),
        },
      },
      parent,
    );

    // Losing this role locks CI out; removing it must be deliberate.
    this.deployRole = new aws.iam.Role(
      `${name}-deploy`,
      {
        name: deployRoleName,
        description: `pulumi up from ${args.githubRepository} (${subjects.deploy.join(', ')})`,
        maxSessionDuration: DEPLOY_MAX_SESSION_SECONDS,
        assumeRolePolicy: policyJson([this.providerArn], ([arn]) => githubTrustPolicy(arn, subjects.deploy)),
      },
      { parent: this, protect: true },
    );
    attachExclusivePolicies(
      `${name}-deploy`,
      this.deployRole,
      {
        managed: [POWER_USER_ACCESS],
        inline: {
          'deploy-stack': policyJson(
            [args.accountId, this.providerArn, this.permissionsBoundary.arn],
            ([accountId, oidcProviderArn, permissionsBoundaryArn]) =>
              deployRolePolicy({
                accountId,
                deployRoleName,
                previewRoleName,
                ecsTaskRoleNames: args.ecsTaskRoleNames,
                flowLogsRoleName: args.flowLogsRoleName,
                operatorRoleName: args.operatorRoleName,
                keepAliveFunctionRoleName: args.keepAliveFunctionRoleName,
                keepAliveSchedulerRoleName: args.keepAliveSchedulerRoleName,
                oidcProviderArn,
                permissionsBoundaryArn,
                stateBackend: args.stateBackend,
              }),
          ),
        },
      },
      parent,
    );
    this.registerOutputs({ previewRoleArn: this.previewRole.arn, deployRoleArn: this.deployRole.arn });
  }
}
