import { loadConfig } from '../src/config.js';
import { splitS3Path } from '../src/message.js';
import { createStorage, outputKey } from '../src/storage.js';
import { createPool, createStore, endPool } from '../src/store.js';
import { workerClients, workerQueue } from '../src/worker.js';

/**
 * The requests a small job cannot do without, and nothing else: receive, claim, read the input, store the
 * results (`RESULT_BYTES` of them, what scoring would have written), complete, delete, through the worker's own
 * clients and edge modules, configured as the worker configures them. No validation, scoring, logging or
 * metrics. Runs in its own process (small-job-floor.ts), on jobs already queued; prints its CPU per job (the
 * first `WARM_JOBS` excluded) as JSON on its last line.
 */

const jobs = Number(process.env.FLOOR_JOBS);
const warm = Number(process.env.WARM_JOBS);
const ROWS = Number(process.env.FLOOR_ROWS);
const results = Buffer.alloc(Number(process.env.RESULT_BYTES), 'x');
const config = loadConfig();
const { sqs, s3 } = workerClients(config);
const queue = workerQueue(sqs, config);
const storage = createStorage(s3, config.bucket);
const pool = createPool(config.database, () => undefined);
const store = createStore(pool);

async function oneJob(): Promise<void> {
  const [message] = await queue.receive(1);
  if (message === undefined) throw new Error('the floor ran out of queued jobs');
  const body = JSON.parse(message.Body ?? '{}') as { prediction_id: string; s3_file_path: string };
  const claim = await store.claim(body.prediction_id, {
    receiveCount: 1,
    visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
  });
  if (claim.outcome !== 'claimed') throw new Error(`the floor could not claim its job: ${claim.outcome}`);
  for await (const chunk of await storage.openInput(splitS3Path(body.s3_file_path).key)) void chunk;
  const key = outputKey(claim.prediction.userId, body.prediction_id);
  const output = storage.createOutput(key);
  output.sink.end(results);
  await output.done();
  await store.complete(body.prediction_id, {
    uploadId: claim.prediction.uploadId,
    outputKey: key,
    rowsProcessed: ROWS,
    metrics: { rows_processed: ROWS, original_rows: ROWS, positive_rate: 0, processing_timestamp: '' },
  });
  await queue.delete(message);
}

for (let i = 0; i < warm; i++) await oneJob();
const before = process.cpuUsage();
for (let i = 0; i < jobs; i++) await oneJob();
const used = process.cpuUsage(before);
await endPool(pool);
sqs.destroy();
s3.destroy();
process.stdout.write(`${JSON.stringify({ cpuMsPerJob: (used.user + used.system) / 1000 / jobs })}\n`);
