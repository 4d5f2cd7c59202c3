// AWS managed policies exactly as AWS publishes them (shared/aws/managed-policies, next to the repository; CI
// clones the repository beside shared/), and the key policy KMS gives a key created with defaults.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const REPOSITORY_ROOT = path.resolve(import.meta.dirname, '../../..');
const MANAGED_POLICIES = path.join(REPOSITORY_ROOT, '../shared/aws/managed-policies');

interface PublishedPolicy {
  PolicyName: string;
  Arn: string;
  VersionId: string;
  Document: { Version: string; Statement: object[] };
}

/** The published document of an AWS managed policy, by name (the file's name). */
export function managedPolicy(name: string): PublishedPolicy['Document'] {
  const published = JSON.parse(
    readFileSync(path.join(MANAGED_POLICIES, `${name}.json`), 'utf8'),
  ) as PublishedPolicy;
  if (published.PolicyName !== name) {
    throw new Error(`${name}.json holds ${published.PolicyName}, not ${name}`);
  }
  return published.Document;
}

export const ADMINISTRATOR_ACCESS = managedPolicy('AdministratorAccess');
export const POWER_USER_ACCESS = managedPolicy('PowerUserAccess');
export const READ_ONLY_ACCESS = managedPolicy('ReadOnlyAccess');

/** The key policy KMS gives a key created with defaults: it delegates access to the account's IAM policies. */
export const defaultKeyPolicy = (accountId: string) => ({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'Enable IAM User Permissions',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${accountId}:root` },
      Action: 'kms:*',
      Resource: '*',
    },
  ],
});
