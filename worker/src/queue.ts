import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/**
 * The SQS calls the worker makes, on the predictions queue and its DLQ, behind one narrow interface so the consumer
 * loop and the job logic never build SDK commands themselves.
 */

export const REJECTION_REASON_ATTRIBUTE = 'rejection_reason';
const MAX_ATTRIBUTES = 10;

export interface Queue {
  receive(maxMessages: number, signal?: AbortSignal): Promise<Message[]>;
  delete(message: Message): Promise<void>;
  changeVisibility(message: Message, seconds: number, signal?: AbortSignal): Promise<void>;
  /** copies the message (body and attributes) to the DLQ with the reason it was rejected */
  sendToDlq(message: Message, reason: string): Promise<void>;
}

export interface QueueOptions {
  queueUrl: string;
  dlqUrl: string;
  waitTimeSeconds: number;
  visibilityTimeoutSeconds: number;
}

/** SQS returns attribute values with every field; SendMessage accepts only the typed value fields. */
function copyAttributes(
  message: Message,
  extra: Record<string, string>,
): Record<string, MessageAttributeValue> {
  const copied = Object.entries(message.MessageAttributes ?? {})
    .filter(([name]) => !(name in extra))
    .slice(0, MAX_ATTRIBUTES - Object.keys(extra).length)
    .map(([name, value]): [string, MessageAttributeValue] => [
      name,
      {
        DataType: value.DataType,
        ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
        ...(value.BinaryValue !== undefined ? { BinaryValue: value.BinaryValue } : {}),
      },
    ]);
  const added = Object.entries(extra).map(([name, value]): [string, MessageAttributeValue] => [
    name,
    { DataType: 'String', StringValue: value },
  ]);
  return Object.fromEntries([...copied, ...added]);
}

export function receiveCount(message: Message): number {
  const count = Number(message.Attributes?.ApproximateReceiveCount ?? '1');
  return Number.isFinite(count) && count >= 1 ? count : 1;
}

export function sentAt(message: Message): Date | undefined {
  const sent = Number(message.Attributes?.SentTimestamp);
  return Number.isFinite(sent) && sent > 0 ? new Date(sent) : undefined;
}

export function createQueue(sqs: SQSClient, options: QueueOptions): Queue {
  const { queueUrl, dlqUrl } = options;
  return {
    async receive(maxMessages, signal) {
      const result = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, Math.max(1, maxMessages)),
          WaitTimeSeconds: options.waitTimeSeconds,
          VisibilityTimeout: options.visibilityTimeoutSeconds,
          MessageSystemAttributeNames: [
            'ApproximateReceiveCount',
            'SentTimestamp',
            'ApproximateFirstReceiveTimestamp',
          ],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: signal },
      );
      return result.Messages ?? [];
    },

    async delete(message) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    },

    async changeVisibility(message, seconds, signal) {
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(seconds))),
        }),
        { abortSignal: signal },
      );
    },

    async sendToDlq(message, reason) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: dlqUrl,
          MessageBody: message.Body ?? '',
          MessageAttributes: copyAttributes(message, {
            [REJECTION_REASON_ATTRIBUTE]: reason.slice(0, 1024),
            original_message_id: message.MessageId ?? 'unknown',
          }),
        }),
      );
    },
  };
}
