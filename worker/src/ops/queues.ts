import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
  type ListMessageMoveTasksResultEntry,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { REJECTION_REASON_ATTRIBUTE, receiveCount, sentAt } from '../queue.js';

/**
 * The operator's SQS calls: queue depths, a look at every dead letter, and the two ways back to the main queue
 * (one message at a time, or an SQS message move task). Only what the operator role grants
 * (infra/operator.ts): attributes of both queues, receive/delete/visibility on the DLQ, send on the main queue.
 */

export interface QueueDepth {
  arn: string;
  visible: number;
  inFlight: number;
  delayed: number;
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const { Attributes: a = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'QueueArn',
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return {
    arn: a.QueueArn ?? '',
    visible: Number(a.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

export interface DeadLetter {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: Record<string, MessageAttributeValue>;
  receiveCount: number;
  sentAt: Date | undefined;
  /** set when the worker copied the message here as invalid (worker/src/job.ts) */
  rejectionReason: string | undefined;
}

/**
 * Receives every dead letter that is visible now and keeps each hidden for `holdSeconds`, so nobody else (the
 * worker's DLQ sweeper, a second operator) acts on it meanwhile. Messages already held by someone else cannot be
 * seen at all: SQS has no way to look at a message without receiving it.
 */
export async function receiveDeadLetters(
  sqs: SQSClient,
  dlqUrl: string,
  holdSeconds: number,
): Promise<DeadLetter[]> {
  const seen = new Map<string, DeadLetter>();
  for (;;) {
    const { Messages: batch = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        // a long poll of one second asks every SQS server, so an empty answer means there is nothing left
        WaitTimeSeconds: 1,
        VisibilityTimeout: holdSeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        MessageAttributeNames: ['All'],
      }),
    );
    if (batch.length === 0) return [...seen.values()];
    for (const message of batch) {
      seen.set(message.MessageId ?? '', {
        messageId: message.MessageId ?? '',
        receiptHandle: message.ReceiptHandle ?? '',
        body: message.Body ?? '',
        attributes: message.MessageAttributes ?? {},
        receiveCount: receiveCount(message),
        sentAt: sentAt(message),
        rejectionReason: message.MessageAttributes?.[REJECTION_REASON_ATTRIBUTE]?.StringValue,
      });
    }
  }
}

/** Makes held dead letters visible again at once, for the worker's sweeper and the next look. */
export async function releaseDeadLetters(
  sqs: SQSClient,
  dlqUrl: string,
  letters: DeadLetter[],
): Promise<void> {
  for (let i = 0; i < letters.length; i += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: dlqUrl,
        Entries: letters.slice(i, i + 10).map((letter, n) => ({
          Id: String(n),
          ReceiptHandle: letter.receiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
}

/** SendMessage accepts only the typed value fields of an attribute SQS hands out. */
function sendable(attributes: Record<string, MessageAttributeValue>): Record<string, MessageAttributeValue> {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      {
        DataType: value.DataType,
        ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
        ...(value.BinaryValue !== undefined ? { BinaryValue: value.BinaryValue } : {}),
      },
    ]),
  );
}

/**
 * One dead letter back onto the main queue: a fresh copy first (body and attributes as the backend sent them,
 * a receive count of zero), then the DLQ's copy is deleted. A failure in between leaves both; the worker absorbs
 * the duplicate, and nothing is lost.
 */
export async function moveBack(
  sqs: SQSClient,
  queues: { queueUrl: string; dlqUrl: string },
  letter: DeadLetter,
): Promise<string> {
  const sent = await sqs.send(
    new SendMessageCommand({
      QueueUrl: queues.queueUrl,
      MessageBody: letter.body,
      MessageAttributes: sendable(letter.attributes),
    }),
  );
  await sqs.send(new DeleteMessageCommand({ QueueUrl: queues.dlqUrl, ReceiptHandle: letter.receiptHandle }));
  return sent.MessageId ?? '';
}

export interface MoveTask {
  taskHandle: string;
  status: string | undefined;
  toMove: number | undefined;
  moved: number | undefined;
}

/**
 * Starts an SQS message move task from the DLQ to the main queue and reads back what SQS says about it
 * (StartMessageMoveTask, ListMessageMoveTasks in the SQS API Reference). The task runs in SQS with the caller's
 * permissions and moves the DLQ's messages at SQS's pace; only one can run per queue.
 */
export async function startMoveTask(
  sqs: SQSClient,
  queues: { dlqArn: string; queueArn: string },
): Promise<MoveTask> {
  const started = await sqs.send(
    new StartMessageMoveTaskCommand({ SourceArn: queues.dlqArn, DestinationArn: queues.queueArn }),
  );
  const taskHandle = started.TaskHandle ?? '';
  const listed = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: queues.dlqArn, MaxResults: 1 }));
  const task: ListMessageMoveTasksResultEntry | undefined = listed.Results?.[0];
  return {
    taskHandle,
    status: task?.Status,
    toMove: task?.ApproximateNumberOfMessagesToMove,
    moved: task?.ApproximateNumberOfMessagesMoved,
  };
}
