// The keep-alive function's code, run as Lambda would run it (its exported handler, the environment its resource
// sets) against an SQS emulator, with the AWS SDK the Lambda Node.js runtime bundles (v3).
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { interceptLocalhostDns, startFauxqs, type FauxqsServer } from 'fauxqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

type Handler = () => Promise<{ queueUrl: string; approximateNumberOfMessages: number }>;
const REGION = 'us-east-1';

describe('the queue keep-alive handler', () => {
  let fauxqs: FauxqsServer;
  let queueUrl: string;
  let restoreDns: () => void;
  const handler = async (): Promise<Handler> => {
    vi.resetModules();
    const module = (await import(new URL('../queue-keep-alive-handler.js', import.meta.url).href)) as {
      handler: Handler;
    };
    return module.handler;
  };

  beforeAll(async () => {
    fauxqs = await startFauxqs({ port: 0, logger: false, defaultRegion: REGION });
    queueUrl = fauxqs.createQueue('prod-retainwise-predictions-queue').queueUrl;
    // The SDK sends each call to its QueueUrl's host, as in Lambda; the emulator's URLs name sqs.<region>.localhost.
    restoreDns = interceptLocalhostDns();
    vi.stubEnv('AWS_REGION', REGION);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    restoreDns();
    await fauxqs.stop();
  });
  beforeEach(() => {
    vi.stubEnv('QUEUE_URL', queueUrl);
  });

  it("reads the job queue's attributes (the access that keeps the queue active) and reports the depth", async () => {
    const sqs = new SQSClient({});
    for (const body of ['{"a":1}', '{"b":2}'])
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    await expect((await handler())()).resolves.toEqual({ queueUrl, approximateNumberOfMessages: 2 });
  });

  it('fails the invocation when the queue is gone, so Lambda counts an error and the alarm sees it', async () => {
    vi.stubEnv('QUEUE_URL', queueUrl.replace(/[^/]+$/, 'no-such-queue'));
    await expect((await handler())()).rejects.toThrow(/queue/i);
  });

  it('fails the invocation with a clear message when QUEUE_URL is not set', async () => {
    vi.stubEnv('QUEUE_URL', '');
    await expect((await handler())()).rejects.toThrow('QUEUE_URL is not set');
  });
});
