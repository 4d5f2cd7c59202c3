// Which GitHub workflow runs may assume the CI roles: the subjects GitHub's OIDC tokens carry for each kind of run,
// and the trust policy pinning `aud` and `sub` with StringEquals (lessons #39).
import { policyDocument, type PolicyDocument } from './policy.js';

export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';
export const GITHUB_OIDC_AUDIENCE = 'sts.amazonaws.com';

/**
 * Which workflow runs may deploy: jobs in the deploy environment (its protection rules and reviewers apply;
 * GitHub then issues `sub` = `repo:<repo>:environment:<env>`), any job on the deploy branch, or both.
 */
export type DeployTrust = 'environment' | 'branch' | 'both';

/** Token subjects (`sub`) GitHub issues for each kind of workflow run. */
export function githubSubjects(
  repository: string,
  deploy: { trust: DeployTrust; branch: string; environment: string },
) {
  const environment = `repo:${repository}:environment:${deploy.environment}`;
  const branch = `repo:${repository}:ref:refs/heads/${deploy.branch}`;
  return {
    preview: [`repo:${repository}:pull_request`],
    deploy:
      deploy.trust === 'environment'
        ? [environment]
        : deploy.trust === 'branch'
          ? [branch]
          : [environment, branch],
  };
}

export function githubTrustPolicy(providerArn: string, subjects: string[]): PolicyDocument {
  return policyDocument([
    {
      Sid: 'GitHubActionsOidc',
      Effect: 'Allow',
      Principal: { Federated: providerArn },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: {
          [`${GITHUB_OIDC_HOST}:aud`]: GITHUB_OIDC_AUDIENCE,
          [`${GITHUB_OIDC_HOST}:sub`]: subjects,
        },
      },
    },
  ]);
}
