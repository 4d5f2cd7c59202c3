// Decides requests with a real IAM policy evaluator (@cloud-copilot/iam-simulate), on the policy documents the
// program registered.
import {
  anonymousPrincipal,
  runSimulation,
  runUnsafeSimulation,
  type EvaluationResult,
  type Simulation,
} from '@cloud-copilot/iam-simulate';

export type Decision = EvaluationResult;

export interface Request {
  /** A role ARN (the call is made from a session of that role), an OIDC provider ARN, or 'anonymous'. */
  principal: string;
  action: string;
  resource: string;
  /** Account owning the resource. @default the principal's account */
  resourceAccount?: string;
  context?: Record<string, string | string[]>;
  identityPolicies?: object[];
  resourcePolicy?: object | undefined;
  /** The principal's permissions boundary. @default none */
  permissionsBoundary?: object | undefined;
}

/**
 * The evaluator's action catalogue lists GitHub's newer token claims for sts:AssumeRoleWithWebIdentity but not
 * the standard `sub` and `aud`; it would silently drop them from the request. Requests using only those keys are
 * evaluated with its unchecked entry point, after the policies passed the checked one's validation.
 */
const WEB_IDENTITY_KEYS = /^token\.actions\.githubusercontent\.com:(sub|aud)$/;

export async function decide(r: Request): Promise<Decision> {
  const roleMatch = /^arn:aws:iam::(\d{12}):role\/(.+)$/.exec(r.principal);
  const principalAccount = /^arn:aws:[a-z]+::(\d{12}):/.exec(r.principal)?.[1] ?? '000000000000';
  const context: Record<string, string | string[]> = { ...r.context };
  // The evaluator does not derive aws:PrincipalArn from the principal; IAM always sets it for a signed call.
  if (roleMatch) context['aws:PrincipalArn'] = r.principal;
  const simulation: Simulation = {
    request: {
      principal:
        r.principal === 'anonymous'
          ? anonymousPrincipal
          : roleMatch
            ? `arn:aws:sts::${roleMatch[1]}:assumed-role/${roleMatch[2]}/session`
            : r.principal,
      action: r.action,
      resource: { resource: r.resource, accountId: r.resourceAccount ?? principalAccount },
      contextVariables: context,
    },
    identityPolicies: (r.identityPolicies ?? []).map((policy, i) => ({ name: `identity-${i}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: r.resourcePolicy,
    ...(r.permissionsBoundary && {
      permissionBoundaryPolicies: [{ name: 'permissions-boundary', policy: r.permissionsBoundary }],
    }),
  };
  const checked = await runSimulation(simulation, {});
  if (checked.resultType === 'error') {
    throw new Error(`the evaluator rejected the request or a policy: ${JSON.stringify(checked.errors)}`);
  }
  // A "*" resource (actions AWS does not scope, e.g. cloudwatch:PutMetricData) is decided per resource pattern.
  if (checked.resultType === 'wildcard') return checked.overallResult;
  const ignored = checked.result.ignoredContextKeys ?? [];
  if (ignored.length === 0) return checked.overallResult;
  const unexpected = ignored.filter((key) => !WEB_IDENTITY_KEYS.test(key));
  if (unexpected.length > 0) {
    throw new Error(
      `context keys ${unexpected.join(', ')} do not apply to ${r.action}: the test would not test them`,
    );
  }
  // The unchecked entry point loads the resource policy without a name, which its reporting needs: hand it the
  // (plain-data) "already validated" form the checked entry point accepted above.
  const resourcePolicy = r.resourcePolicy && {
    __validated: true,
    policyDocument: r.resourcePolicy,
    metadata: { name: 'resource-policy' },
    errors: [],
  };
  return runUnsafeSimulation({ ...simulation, resourcePolicy }, {});
}
