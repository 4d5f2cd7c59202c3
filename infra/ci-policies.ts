// The CI roles' permission documents: what the preview and deploy roles may do beyond their AWS managed policy
// (pure functions, evaluated by the tests' IAM simulator: infra/test/*matrix*.test.ts).
import {
  bucketArn,
  PARTITION,
  policyDocument,
  roleArn,
  type PolicyDocument,
  type PolicyStatement,
} from './policy.js';
import { SQS_MESSAGE_ACTIONS } from './prediction-queues.js';
import { stateBackendStatements, type StateBackend } from './state-backend.js';

export const READ_ONLY_ACCESS = `arn:${PARTITION}:iam::aws:policy/ReadOnlyAccess`;
export const POWER_USER_ACCESS = `arn:${PARTITION}:iam::aws:policy/PowerUserAccess`;

/**
 * Inline policy of the preview role, on top of ReadOnlyAccess. The role runs code from pull requests, and
 * ReadOnlyAccess reads data as well as configuration (`sqs:Receive*`, `s3:Get*` on every bucket, `ssm:Get*`,
 * log events and queries): deny every data read a plan never needs, keeping the configuration reads a
 * preview and its refresh make.
 */
export function previewRolePolicy(p: {
  stateBackend: StateBackend;
  uploadsBucketName: string;
}): PolicyDocument {
  const uploads = bucketArn(p.uploadsBucketName);
  const stateKey = p.stateBackend.kind === 's3' ? p.stateBackend.kmsKeyArn : undefined;
  return policyDocument([
    ...stateBackendStatements(p.stateBackend, 'preview'),
    // A preview needs none of the calls that read, move or destroy jobs, on any queue.
    { Sid: 'DenyJobMessages', Effect: 'Deny', Action: SQS_MESSAGE_ACTIONS, Resource: '*' },
    // Uploads and results alike, and their key names (user ids and file names).
    {
      Sid: 'DenyCustomerFiles',
      Effect: 'Deny',
      Action: ['s3:GetObject*', 's3:ListBucket', 's3:ListBucketVersions', 's3:ListMultipartUploadParts'],
      Resource: [uploads, `${uploads}/*`],
    },
    {
      Sid: 'DenySecretValues',
      Effect: 'Deny',
      Action: ['ssm:GetParameter*', 'secretsmanager:GetSecretValue', 'secretsmanager:BatchGetSecretValue'],
      Resource: '*',
    },
    // AWS managed keys (aws/ssm, aws/secretsmanager, …) grant decryption to every principal of the account
    // through their key policy, whatever the role's IAM policy says.
    {
      Sid: 'DenyDecryptionExceptState',
      Effect: 'Deny',
      Action: ['kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
      ...(stateKey ? { NotResource: stateKey } : { Resource: '*' }),
    },
    {
      Sid: 'DenyLogContents',
      Effect: 'Deny',
      Action: [
        'logs:GetLogEvents',
        'logs:FilterLogEvents',
        'logs:StartQuery',
        'logs:GetQueryResults',
        'logs:StartLiveTail',
        'logs:GetLogRecord',
        'logs:Unmask',
      ],
      Resource: '*',
    },
  ]);
}

export interface DeployPolicyInputs {
  accountId: string;
  deployRoleName: string;
  previewRoleName: string;
  /** Roles ECS tasks run as (task and execution roles) that the deployer creates and passes to ECS. */
  ecsTaskRoleNames: string[];
  /** The VPC flow logs delivery role. */
  flowLogsRoleName: string;
  /** The queue operators' role (managed, never passed). */
  operatorRoleName: string;
  /** The queue keep-alive's roles: one passed to Lambda, one to EventBridge Scheduler. */
  keepAliveFunctionRoleName: string;
  keepAliveSchedulerRoleName: string;
  oidcProviderArn: string;
  /** The managed policy every role the deployer creates or changes must carry as its boundary. */
  permissionsBoundaryArn: string;
  stateBackend: StateBackend;
}

/** Passing roles only to the one service that runs with them (`iam:PassedToService`). */
const passRole = (Sid: string, Resource: string | string[], service: string): PolicyStatement => ({
  Sid,
  Effect: 'Allow',
  Action: 'iam:PassRole',
  Resource,
  Condition: { StringEquals: { 'iam:PassedToService': service } },
});

/**
 * Inline policy of the deploy role, on top of PowerUserAccess (everything but IAM, Organizations and Account):
 * manage exactly the roles of this stack, and only while they carry the stack's permissions boundary (the
 * IAM service authorization reference lists `iam:PermissionsBoundary` for every role write below); pass them
 * only to their services; never assume them, change itself, or loosen the boundary.
 */
export function deployRolePolicy(p: DeployPolicyInputs): PolicyDocument {
  const arn = (name: string) => roleArn(p.accountId, name);
  const self = arn(p.deployRoleName);
  const taskRoles = p.ecsTaskRoleNames.map(arn);
  const managedRoles = [
    ...taskRoles,
    arn(p.flowLogsRoleName),
    arn(p.previewRoleName),
    arn(p.operatorRoleName),
    arn(p.keepAliveFunctionRoleName),
    arn(p.keepAliveSchedulerRoleName),
  ];
  const bounded = { StringEquals: { 'iam:PermissionsBoundary': p.permissionsBoundaryArn } };
  const roleRead = [
    'iam:GetRole',
    'iam:GetRolePolicy',
    'iam:ListRolePolicies',
    'iam:ListAttachedRolePolicies',
    'iam:ListRoleTags',
  ];
  return policyDocument([
    {
      Sid: 'ReadAndTagStackRoles',
      Effect: 'Allow',
      Action: [...roleRead, 'iam:ListInstanceProfilesForRole', 'iam:TagRole', 'iam:UntagRole'],
      Resource: managedRoles,
    },
    {
      Sid: 'WriteBoundedStackRoles',
      Effect: 'Allow',
      Action: [
        'iam:CreateRole',
        'iam:DeleteRole',
        'iam:UpdateRole',
        'iam:UpdateRoleDescription',
        'iam:UpdateAssumeRolePolicy',
        'iam:PutRolePolicy',
        'iam:DeleteRolePolicy',
        // Detaching only takes permissions away: the exclusive attachments remove what was attached by hand.
        'iam:DetachRolePolicy',
        'iam:PutRolePermissionsBoundary',
      ],
      Resource: managedRoles,
      Condition: bounded,
    },
    passRole('PassTaskRolesToEcs', taskRoles, 'ecs-tasks.amazonaws.com'),
    passRole('PassFlowLogsRole', arn(p.flowLogsRoleName), 'vpc-flow-logs.amazonaws.com'),
    passRole('PassKeepAliveFunctionRole', arn(p.keepAliveFunctionRoleName), 'lambda.amazonaws.com'),
    passRole('PassKeepAliveSchedulerRole', arn(p.keepAliveSchedulerRoleName), 'scheduler.amazonaws.com'),
    {
      Sid: 'AttachOnlyReadOnlyToPreviewRole',
      Effect: 'Allow',
      Action: 'iam:AttachRolePolicy',
      Resource: arn(p.previewRoleName),
      Condition: { ...bounded, ArnEquals: { 'iam:PolicyARN': READ_ONLY_ACCESS } },
    },
    // Refresh reads the CI identity itself; changing it, its tags included, is an administrator's job (see the
    // README): its tags are principal tags, which ABAC conditions elsewhere in the account may trust.
    { Sid: 'ReadOwnRole', Effect: 'Allow', Action: roleRead, Resource: self },
    // Tags follow aws:defaultTags; on these two they change neither who may federate nor what is allowed.
    {
      Sid: 'ReadAndTagOidcProvider',
      Effect: 'Allow',
      Action: [
        'iam:GetOpenIDConnectProvider',
        'iam:TagOpenIDConnectProvider',
        'iam:UntagOpenIDConnectProvider',
      ],
      Resource: p.oidcProviderArn,
    },
    {
      Sid: 'ReadAndTagPermissionsBoundary',
      Effect: 'Allow',
      Action: [
        'iam:GetPolicy',
        'iam:GetPolicyVersion',
        'iam:ListPolicyVersions',
        'iam:TagPolicy',
        'iam:UntagPolicy',
      ],
      Resource: p.permissionsBoundaryArn,
    },
    ...stateBackendStatements(p.stateBackend, 'deploy'),
    {
      Sid: 'DenySelfModification',
      Effect: 'Deny',
      Action: [
        'iam:Update*',
        'iam:Attach*',
        'iam:Detach*',
        'iam:Put*',
        'iam:Delete*',
        'iam:Tag*',
        'iam:Untag*',
      ],
      Resource: self,
    },
    // A boundary once set stays, and only an administrator changes what it allows.
    {
      Sid: 'DenyBoundaryRemoval',
      Effect: 'Deny',
      Action: 'iam:DeleteRolePermissionsBoundary',
      Resource: '*',
    },
    {
      Sid: 'DenyBoundaryChanges',
      Effect: 'Deny',
      Action: [
        'iam:CreatePolicyVersion',
        'iam:SetDefaultPolicyVersion',
        'iam:DeletePolicyVersion',
        'iam:DeletePolicy',
      ],
      Resource: p.permissionsBoundaryArn,
    },
    // PowerUserAccess allows sts:AssumeRole on "*"; the deployer never needs to act as a role it manages, and a
    // trust policy it rewrote must not let it.
    {
      Sid: 'DenyAssumingStackRoles',
      Effect: 'Deny',
      Action: 'sts:AssumeRole',
      Resource: [...managedRoles, self],
    },
  ]);
}
