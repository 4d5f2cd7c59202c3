// The queue keep-alive's Lambda function (infra/queue-keep-alive.ts says why it exists). It runs on the
// Lambda Node.js runtime, which bundles the AWS SDK for JavaScript v3, so it ships as this one file: no bundle,
// no dependencies of its own. Plain JavaScript because Lambda runs the file as it is (archived as index.mjs).
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';

const sqs = new SQSClient({});

/**
 * One GetQueueAttributes call on the job queue: that access keeps SQS publishing the queue's metrics. A failure
 * is thrown, so Lambda counts it in `Errors` and the keep-alive alarm sees it.
 */
export async function handler() {
  const queueUrl = process.env['QUEUE_URL'];
  if (!queueUrl) throw new Error('QUEUE_URL is not set: the function has no queue to keep active');
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return { queueUrl, approximateNumberOfMessages: Number(Attributes?.ApproximateNumberOfMessages ?? 0) };
}
