import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { submitJob, type SubmittedJob } from '../local/backend.js';
import type { LocalStack } from '../local/stack.js';
import { smallCsv } from './small-csv.js';

/** The soak's job mix (soak.ts): which kinds of job it submits, how many of each, and how each must end. */

export const KINDS = ['good', 'duplicate', 'slow', 'huge', 'invalid_csv', 'invalid_message'] as const;
export type Kind = (typeof KINDS)[number];

/** jobs of each kind in every hundred, the rest good */
const PER_HUNDRED: Record<Exclude<Kind, 'good'>, number> = {
  duplicate: 7,
  slow: 1,
  huge: 2,
  invalid_csv: 5,
  invalid_message: 5,
};
export const EXPECTED: Record<Kind, 'COMPLETED' | 'FAILED'> = {
  good: 'COMPLETED',
  duplicate: 'COMPLETED',
  slow: 'COMPLETED',
  huge: 'FAILED',
  invalid_csv: 'FAILED',
  invalid_message: 'FAILED',
};
/** rows of a slow job: seconds of scoring, longer than the visibility timeout, so only heartbeats keep it ours */
const SLOW_ROWS = 60_000;
/** a huge upload: one record with no line break, well past the scorer's 1 MiB record limit */
const HUGE_BYTES = 3 * 1024 * 1024;

export function kindOf(i: number): Kind {
  let slot = i % 100;
  for (const kind of KINDS.slice(1) as Exclude<Kind, 'good'>[]) {
    if (slot < PER_HUNDRED[kind]) return kind;
    slot -= PER_HUNDRED[kind];
  }
  return 'good';
}

export async function submit(stack: LocalStack, kind: Kind, i: number): Promise<SubmittedJob> {
  const filename = `soak-${i}.csv`;
  switch (kind) {
    case 'good':
      return submitJob(stack, { csv: smallCsv(10, i * 10), filename });
    case 'slow':
      return submitJob(stack, { csv: smallCsv(SLOW_ROWS), filename });
    case 'huge':
      return submitJob(stack, { csv: `customerID,tenure\nC1,${'9'.repeat(HUGE_BYTES)}`, filename });
    case 'invalid_csv':
      return submitJob(stack, { csv: 'name,plan\nAda,gold\n', filename });
    case 'invalid_message':
      return submitJob(stack, {
        csv: smallCsv(10),
        filename,
        editBody: (b) => ({ ...b, upload_id: 'seven' }),
      });
    case 'duplicate': {
      // the backend publishing twice (a retried request): the same body and attributes again
      const job = await submitJob(stack, { csv: smallCsv(10, i * 10), filename });
      await stack.sqs.send(
        new SendMessageCommand({
          QueueUrl: stack.queueUrl,
          MessageBody: job.body,
          MessageAttributes: {
            task_type: { DataType: 'String', StringValue: 'ml_prediction' },
            user_id: { DataType: 'String', StringValue: job.userId },
          },
        }),
      );
      return job;
    }
  }
}
