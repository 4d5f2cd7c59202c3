// `npm run ops` end to end on the local stack: fauxqs, embedded PostgreSQL and a real worker, with the worker and
// the ops CLI each connected as its own role from docs/database-roles.sql. Each test is a day-2 situation from
// docs/operations.md and runs the commands the runbook gives for it (runbook.test.ts runs all of them).
import { DeleteMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NEVER_STARTED_MESSAGE } from '../../src/ops/requeue.js';
import type { RunningWorker } from '../../src/worker.js';
import { telcoCsv, useStack, waitFor } from '../support/harness.js';
import { drained, ops, orphan, type StatusJson } from '../support/ops.js';

const MAX_RECEIVE_COUNT = 2;
const ctx = useStack({ maxReceiveCount: MAX_RECEIVE_COUNT });
let worker: RunningWorker;
/** a job that ended COMPLETED, for the refusals */
let completed: { predictionId: string; body: string } | undefined;
const deadLetterCount = async () => (await ctx.dlqMessages()).length;

beforeAll(async () => {
  worker = await ctx.startTestWorker({ MAX_RECEIVE_COUNT: String(MAX_RECEIVE_COUNT) });
});
afterAll(async () => {
  await worker?.stop();
});

describe('a poisoned job', () => {
  it('goes to the DLQ, shows in status and dlq list, and once the cause is fixed redrives to COMPLETED', async () => {
    const { stack } = ctx;
    // The cause: a deploy lost the worker's grant on uploads, so every attempt fails to complete the job.
    await stack.db.query('REVOKE UPDATE (status, updated_at) ON uploads FROM retainwise_worker');
    const byId = await ctx.submitJob({ csv: telcoCsv(20) });
    const byAll = await ctx.submitJob({ csv: telcoCsv(20) });
    try {
      for (const job of [byId, byAll]) {
        const failed = await ctx.waitForPrediction(job.predictionId);
        expect(failed.status).toBe('FAILED');
      }
      await waitFor(async () => (await deadLetterCount()) === 2);
    } finally {
      await stack.db.query('GRANT UPDATE (status, updated_at) ON uploads TO retainwise_worker');
    }

    const status = await ops(stack, 'status', '--json');
    expect(status.code).toBe(1);
    const picture = status.json<StatusJson>();
    expect(picture.dlq.visible + picture.dlq.inFlight).toBe(2);
    expect(picture.serviceUnknown).toBe('no ECS on the local stack');
    expect(picture.queue.oldestMessageAgeUnknown).toBe('no CloudWatch on the local stack');
    expect(picture.problems).toContain('2 dead letter(s): npm run ops -- dlq list');

    const list = await ops(stack, 'dlq', 'list', '--json');
    expect(list.code).toBe(1);
    const letters = list.json<{ deadLetters: Record<string, unknown>[] }>().deadLetters;
    expect(letters.map((l) => l.predictionId).sort()).toEqual([byId.predictionId, byAll.predictionId].sort());
    for (const letter of letters) {
      expect(letter).toMatchObject({ rowStatus: 'FAILED', rejectionReason: null, redrivable: true });
      expect(letter.receiveCount).toBeGreaterThanOrEqual(MAX_RECEIVE_COUNT);
    }
    expect(await deadLetterCount()).toBe(2); // listing leaves them where they are

    const dryRun = await ops(stack, 'dlq', 'redrive', byId.predictionId, '--dry-run');
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('would move');
    expect((await ctx.readPrediction(byId.predictionId))?.status).toBe('FAILED');
    expect(await deadLetterCount()).toBe(2);

    const one = await ops(stack, 'dlq', 'redrive', byId.predictionId);
    expect(one.code, one.stdout + one.stderr).toBe(0);
    expect(one.stdout).toMatch(new RegExp(`${byId.predictionId}\\s+FAILED\\s+moved`));
    const row = await ctx.waitForPrediction(byId.predictionId);
    expect(row).toMatchObject({ status: 'COMPLETED', error_message: null, rows_processed: 20 });
    completed = byId;

    // The emulator has no message move tasks: --all says so and moves the letters one by one instead.
    const all = await ops(stack, 'dlq', 'redrive', '--all', '--json');
    expect(all.code, all.stdout + all.stderr).toBe(0);
    const redrive = all.json<{
      method: string;
      results: { predictionId: string; rowStatus: string; action: string; reason: string }[];
    }>();
    expect(redrive.method).toBe('one by one');
    expect(redrive.results.map((r) => [r.predictionId, r.rowStatus, r.action])).toEqual([
      [byAll.predictionId, 'FAILED', 'moved'],
    ]);
    expect(redrive.results[0]?.reason).toMatch(/^SQS refused the move task/);
    expect((await ctx.waitForPrediction(byAll.predictionId)).status).toBe('COMPLETED');
    expect(await deadLetterCount()).toBe(0);
  });
});

describe('an orphaned QUEUED row (the backend never sent its message)', () => {
  it('is found by status and requeued by requeue, exactly as the backend publishes, to COMPLETED', async () => {
    const { stack } = ctx;
    const id = await orphan(ctx, 60);
    const status = await ops(stack, 'status', '--older-than', '30m', '--json');
    expect(status.code).toBe(1);
    expect(status.json<StatusJson>().predictions.queuedWithoutMessage.map((r) => r.id)).toContain(id);

    const requeued = await ops(stack, 'requeue', id, '--json');
    expect(requeued.code, requeued.stderr).toBe(0);
    const [result] = requeued.json<{ results: { action: string; messageId: string }[] }>().results;
    expect(result?.action).toBe('requeued');
    const sent = await stack.fauxqs.spy.waitForMessageWithId(result?.messageId ?? '', 'published');
    const row = await ctx.readPrediction(id);
    const upload = await stack.db.query<{ s3_object_key: string }>(
      'SELECT s3_object_key FROM uploads WHERE id = $1',
      [row?.upload_id],
    );
    // message-contract.md §3-4: the six fields in the backend's order and spacing, naive UTC, two attributes
    expect('body' in sent ? sent.body : '').toMatch(
      new RegExp(
        `^\\{"prediction_id": "${id}", "upload_id": "${row?.upload_id}", "user_id": "${row?.user_id}", ` +
          `"s3_file_path": "s3://${stack.bucket}/${upload.rows[0]?.s3_object_key}", ` +
          `"timestamp": "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{6})?", "priority": "normal"\\}$`,
      ),
    );
    expect('messageAttributes' in sent ? sent.messageAttributes : {}).toEqual({
      task_type: { DataType: 'String', StringValue: 'ml_prediction' },
      user_id: { DataType: 'String', StringValue: row?.user_id },
    });
    expect((await ctx.waitForPrediction(id)).status).toBe('COMPLETED');
  });

  it('sweep lists the rows older than the limit, and with --requeue brings them to COMPLETED', async () => {
    const { stack } = ctx;
    const old = await orphan(ctx, 120);
    const recent = await orphan(ctx, 5);
    const listed = await ops(stack, 'sweep', '--older-than', '1h');
    expect(listed.code).toBe(1);
    expect(listed.stdout).toMatch(new RegExp(`${old}\\s+2h 0m\\s+skipped: no message`));
    expect(listed.stdout).not.toContain(recent);
    expect((await ctx.readPrediction(old))?.status).toBe('QUEUED');

    const swept = await ops(stack, 'sweep', '--older-than', '1h', '--requeue');
    expect(swept.code, swept.stdout).toBe(0);
    expect(swept.stdout).toMatch(new RegExp(`${old}\\s+2h 0m\\s+requeued`));
    expect((await ctx.waitForPrediction(old)).status).toBe('COMPLETED');
    expect((await ctx.readPrediction(recent))?.status).toBe('QUEUED');
    await drained(ctx.stack);
    await ops(stack, 'sweep', '--older-than', '1m', '--fail'); // leaves no orphan to the next test
  });

  it('sweep --fail fails them with a message that tells the user to upload again', async () => {
    const { stack } = ctx;
    const old = await orphan(ctx, 120);
    const swept = await ops(stack, 'sweep', '--older-than', '1h', '--fail', '--json');
    expect(swept.code, swept.stdout).toBe(0);
    expect(swept.json<{ results: unknown[] }>().results).toEqual([{ predictionId: old, action: 'failed' }]);
    expect(await ctx.readPrediction(old)).toMatchObject({
      status: 'FAILED',
      error_message: NEVER_STARTED_MESSAGE,
    });
    const after = await ops(stack, 'status', '--json');
    expect(after.json<StatusJson>().predictions.queuedWithoutMessage).toEqual([]);
  });
});

describe('refusals change nothing and exit 2 with one line', () => {
  // No worker from here on: its DLQ sweeper would hide the dead letter these tests place.
  beforeAll(async () => {
    await worker.stop();
  });
  const done = () => {
    if (!completed) throw new Error('needs the COMPLETED job of the poisoned-job test');
    return completed;
  };

  it('requeue refuses a COMPLETED row and an unknown id', async () => {
    const { stack } = ctx;
    const { predictionId } = done();
    const unknown = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
    const refused = await ops(stack, 'requeue', predictionId, unknown);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      `ops: requeue refused, nothing sent: ${predictionId}: is COMPLETED; only QUEUED rows are requeued; ${unknown}: unknown prediction (no such row)\n`,
    );
    expect(refused.stdout).toBe('');
    const queue = await ops(stack, 'status', '--json');
    expect(queue.json<StatusJson>().queue).toMatchObject({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('dlq redrive never sets a COMPLETED row back: by id it refuses, with --all it reports and keeps the letter', async () => {
    const { stack } = ctx;
    const { predictionId, body } = done();
    // a late duplicate of a finished job, dead-lettered
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.dlqUrl, MessageBody: body }));

    const byId = await ops(stack, 'dlq', 'redrive', predictionId);
    expect(byId.code).toBe(2);
    expect(byId.stderr).toBe(
      `ops: dlq redrive refused, nothing changed: ${predictionId}: already COMPLETED\n`,
    );
    const all = await ops(stack, 'dlq', 'redrive', '--all');
    expect(all.code).toBe(1);
    expect(all.stdout).toMatch(new RegExp(`${predictionId}\\s+COMPLETED\\s+not moved: already COMPLETED`));
    expect((await ctx.readPrediction(predictionId))?.status).toBe('COMPLETED');
    const [kept] = await ctx.dlqMessages();
    expect(kept?.Body).toBe(body);
    await stack.sqs.send(
      new DeleteMessageCommand({ QueueUrl: stack.dlqUrl, ReceiptHandle: kept?.ReceiptHandle }),
    );
  });

  it.each([
    [
      ['sweep', '--older-than', '10 minutes'],
      'ops: --older-than "10 minutes" is not a duration: use a whole number and s, m, h or d (15m, 2h, 1d)',
    ],
    [
      ['sweep', '--older-than', '0m'],
      'ops: --older-than "0m" is not a duration: use a whole number and s, m, h or d (15m, 2h, 1d)',
    ],
    [['requeue', 'not-an-id'], 'ops: not a prediction id (a UUID): not-an-id'],
    [['dlq', 'redrive'], 'ops: dlq redrive needs either --all or prediction ids'],
    [
      ['sweep', '--older-than', '1h', '--requeue', '--fail'],
      'ops: sweep takes --requeue or --fail, not both',
    ],
    [['status', '--all'], 'ops: status takes no --all'],
    [['purge'], 'ops: unknown command: purge'],
  ])('%j', async (argv, line) => {
    const run = await ops(ctx.stack, ...argv);
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe(line);
  });
});
