// AWS managed policies the stack attaches or that administrators typically hold, as AWS publishes them
// (ReadOnlyAccess: the statements relevant here; the real policy lists several hundred read actions).

export const ADMINISTRATOR_ACCESS = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};

export const POWER_USER_ACCESS = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', NotAction: ['iam:*', 'organizations:*', 'account:*'], Resource: '*' },
    {
      Effect: 'Allow',
      Action: [
        'iam:CreateServiceLinkedRole',
        'iam:DeleteServiceLinkedRole',
        'iam:ListRoles',
        'organizations:DescribeOrganization',
        'account:ListRegions',
        'account:GetAccountInformation',
      ],
      Resource: '*',
    },
  ],
};

export const READ_ONLY_ACCESS_EXCERPT = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: [
        's3:Get*',
        's3:List*',
        'sqs:Get*',
        'sqs:List*',
        'iam:Get*',
        'iam:List*',
        'ecs:Describe*',
        'ecs:List*',
        'ec2:Describe*',
      ],
      Resource: '*',
    },
  ],
};

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
