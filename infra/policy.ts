// IAM policy documents as plain data: every policy in this program is built by a pure function returning a
// `PolicyDocument`, so the same object is serialised into the resource input and fed to the IAM evaluator in
// the tests (infra/test/*matrix*.test.ts).
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

export type ConditionBlock = Record<string, Record<string, string | string[]>>;

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | { AWS?: string | string[]; Federated?: string; Service?: string | string[] };
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: ConditionBlock;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export function policyDocument(statements: (PolicyStatement | false | undefined)[]): PolicyDocument {
  return { Version: '2012-10-17', Statement: statements.filter((s): s is PolicyStatement => !!s) };
}

/** Serialises a policy built from resolved inputs, e.g. `policyJson([queue.arn], ([arn]) => doc(arn))`. */
export function policyJson<I extends readonly pulumi.Input<unknown>[]>(
  inputs: [...I],
  build: (values: { [K in keyof I]: pulumi.Unwrap<I[K]> }) => PolicyDocument,
): pulumi.Output<string> {
  return pulumi
    .all(inputs as pulumi.Input<unknown>[])
    .apply((values) => JSON.stringify(build(values as { [K in keyof I]: pulumi.Unwrap<I[K]> })));
}

/** The partition of every ARN this program writes; the stack targets commercial regions only. */
export const PARTITION = 'aws';

export const roleArn = (accountId: string, roleName: string): string =>
  `arn:${PARTITION}:iam::${accountId}:role/${roleName}`;

export const bucketArn = (bucketName: string): string => `arn:${PARTITION}:s3:::${bucketName}`;

/**
 * Trust policy letting one AWS service assume a role, scoped to our account (confused-deputy guard). ECS tasks,
 * VPC flow logs, Lambda and EventBridge Scheduler all send `aws:SourceAccount` when they assume a role (AWS's own
 * Lambda trust example carries it: aws/agent-toolkit-for-aws, deploying-custom-domain-rest-api/scripts/
 * lambda-trust-policy.json).
 */
export function serviceTrustPolicy(service: string, accountId: string): PolicyDocument {
  return policyDocument([
    {
      Sid: 'AssumeByService',
      Effect: 'Allow',
      Principal: { Service: service },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'aws:SourceAccount': accountId } },
    },
  ]);
}

export interface RolePolicies {
  /** Inline policies by name. */
  inline: Record<string, pulumi.Input<string>>;
  /** ARNs of AWS managed policies to attach. @default [] */
  managed?: string[];
}

/**
 * Attaches exactly these policies to a role and removes any other inline or attached policy on the next
 * `pulumi up --refresh`, so nothing granted by hand survives (lessons #33).
 */
export function attachExclusivePolicies(
  name: string,
  role: aws.iam.Role,
  policies: RolePolicies,
  opts: pulumi.CustomResourceOptions,
): pulumi.Resource[] {
  const inline = Object.entries(policies.inline).map(
    ([policyName, policy]) =>
      new aws.iam.RolePolicy(`${name}-${policyName}`, { role: role.name, name: policyName, policy }, opts),
  );
  const managed = (policies.managed ?? []).map(
    (policyArn) =>
      new aws.iam.RolePolicyAttachment(
        `${name}-${policyArn.split('/').pop() ?? policyArn}`,
        { role: role.name, policyArn },
        opts,
      ),
  );
  const exclusive = [
    new aws.iam.RolePoliciesExclusive(
      `${name}-inline-exclusive`,
      { roleName: role.name, policyNames: inline.map((p) => p.name) },
      opts,
    ),
    new aws.iam.RolePolicyAttachmentsExclusive(
      `${name}-managed-exclusive`,
      { roleName: role.name, policyArns: managed.map((a) => a.policyArn) },
      opts,
    ),
  ];
  return [...inline, ...managed, ...exclusive];
}

export interface ServiceRoleArgs {
  roleName: string;
  description?: string;
  /** The one AWS service that assumes the role, e.g. `lambda.amazonaws.com`. */
  service: string;
  accountId: pulumi.Input<string>;
  policies: RolePolicies;
}

/**
 * A role one AWS service assumes for our account (serviceTrustPolicy), holding exactly `policies`
 * (attachExclusivePolicies). Returns the policy resources too: a resource that runs with the role can depend on
 * them.
 */
export function serviceRole(
  name: string,
  args: ServiceRoleArgs,
  opts: pulumi.CustomResourceOptions,
): { role: aws.iam.Role; policies: pulumi.Resource[] } {
  const role = new aws.iam.Role(
    name,
    {
      name: args.roleName,
      ...(args.description !== undefined && { description: args.description }),
      assumeRolePolicy: policyJson([args.accountId], ([accountId]) =>
        serviceTrustPolicy(args.service, accountId),
      ),
    },
    opts,
  );
  return { role, policies: attachExclusivePolicies(name, role, args.policies, opts) };
}
