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
