// The SQS actions that read, write, move or destroy messages (batch APIs are authorised as their single-message
// action), written down apart from prediction-queues.ts so that the policy tests pin what its policies deny
// instead of repeating whatever it lists.
export const MESSAGE_ACTIONS = [
  'sqs:CancelMessageMoveTask',
  'sqs:ChangeMessageVisibility',
  'sqs:DeleteMessage',
  'sqs:PurgeQueue',
  'sqs:ReceiveMessage',
  'sqs:SendMessage',
  'sqs:StartMessageMoveTask',
] as const;
