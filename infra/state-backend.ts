// The CI roles' access to the Pulumi state: nothing for Pulumi Cloud; for an S3 backend, the bucket and the KMS
// secrets provider, read-write for a deploy and read-only for a preview.
import { bucketArn, type PolicyStatement } from './policy.js';

/** Where Pulumi keeps the stack's state: Pulumi Cloud, or an S3 bucket with a KMS secrets provider. */
export type StateBackend = { kind: 'pulumi-cloud' } | { kind: 's3'; bucketName: string; kmsKeyArn: string };

/**
 * State access: a deploy reads and writes state; a preview only reads it. `pulumi preview` takes no lock on a
 * self-managed backend (pulumi/pulumi pkg/backend/diy/backend.go: `Preview` never calls `Lock`; `Update`,
 * `Refresh`, `Import` and `Destroy` do, the last three only when not `PreviewOnly`), and has always-on locking
 * since v3.20.0 (PULUMI_SELF_MANAGED_STATE_LOCKING is gone: CHANGELOG, #8565).
 */
export function stateBackendStatements(
  backend: StateBackend,
  access: 'preview' | 'deploy',
): PolicyStatement[] {
  if (backend.kind === 'pulumi-cloud') return [];
  const bucket = bucketArn(backend.bucketName);
  const list: PolicyStatement = {
    Sid: 'ListStateBucket',
    Effect: 'Allow',
    Action: ['s3:ListBucket', 's3:GetBucketLocation'],
    Resource: bucket,
  };
  if (access === 'deploy') {
    return [
      list,
      {
        Sid: 'ReadWriteState',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        Resource: `${bucket}/*`,
      },
      {
        Sid: 'UseSecretsProviderKey',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: backend.kmsKeyArn,
      },
    ];
  }
  return [
    list,
    { Sid: 'ReadState', Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucket}/*` },
    // A pull request must not be able to hold or break the lock of a running deployment, nor touch state.
    {
      Sid: 'DenyStateWrites',
      Effect: 'Deny',
      Action: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
      Resource: `${bucket}/*`,
    },
    // Decrypts the stack's secrets and the state objects (bucket default encryption with the same key).
    { Sid: 'DecryptState', Effect: 'Allow', Action: 'kms:Decrypt', Resource: backend.kmsKeyArn },
  ];
}
