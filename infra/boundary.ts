// The permissions boundary of every role the deploy role creates or changes. The deploy role may rewrite those
// roles' policies and trust (that is its job), so what caps them must be something it cannot rewrite: a managed
// policy its own grants are conditioned on (`iam:PermissionsBoundary`) and that it may not change or detach.
import type * as pulumi from '@pulumi/pulumi';
import { policyDocument, type PolicyDocument } from './policy.js';

/**
 * At most what the deploy role itself holds (PowerUserAccess: everything but IAM, Organizations and Account),
 * without assuming roles: a capped role can neither mint or widen an identity nor step into another role, so
 * rewriting its policy or trust, or running an ECS task with it, never takes the deployer further than it is.
 * IAM reads stay: the preview role refreshes the stack's roles.
 */
export function permissionsBoundaryDocument(): PolicyDocument {
  return policyDocument([
    {
      Sid: 'NoMoreThanTheDeployer',
      Effect: 'Allow',
      NotAction: ['iam:*', 'organizations:*', 'account:*', 'sts:AssumeRole'],
      Resource: '*',
    },
    { Sid: 'ReadIam', Effect: 'Allow', Action: ['iam:Get*', 'iam:List*'], Resource: '*' },
  ]);
}

/**
 * Gives every IAM role registered under the component it is passed to (`transformations` option) this
 * boundary, so no role of the stack, present or future, can be created without it: the deploy role's IAM
 * grants require it.
 */
export function capRolesWith(boundaryArn: pulumi.Input<string>): pulumi.ResourceTransformation {
  return ({ type, props, opts }) =>
    type === 'aws:iam/role:Role'
      ? { props: { ...props, permissionsBoundary: boundaryArn }, opts }
      : undefined;
}
