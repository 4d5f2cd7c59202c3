import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { formatNaiveUtc, TASK_TYPE, type JobMessage } from '../message.js';

/**
 * The job message as the existing FastAPI backend publishes it. Both publishers on this side build it here, so a
 * job `npm run ops -- requeue` publishes is indistinguishable from one the backend sent, and the local stack's
 * stand-in backend (worker/local/) sends what the real one does.
 */

/** Python's `json.dumps(obj)`: `", "` and `": "` separators and ASCII-only output (ensure_ascii). */
export function pythonJson(value: Record<string, unknown>): string {
  const ascii = (text: string) =>
    text.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const entries = Object.entries(value).map(
    ([k, v]) => `${ascii(JSON.stringify(k))}: ${ascii(JSON.stringify(v))}`,
  );
  return `{${entries.join(', ')}}`;
}

/** What the backend's message names: the job as the worker reads it, less the priority it always sends. */
export type BackendJob = Omit<JobMessage, 'priority'>;

/**
 * The message body and attributes `publish_prediction_task` sends (message-contract.md §3, §4): the six fields
 * in its order, every value a string, Python's spacing, and the task_type/user_id attributes.
 */
export function backendMessage(
  job: BackendJob,
  editBody?: (body: Record<string, unknown>) => Record<string, unknown>,
): { MessageBody: string; MessageAttributes: Record<string, MessageAttributeValue> } {
  const fields: Record<string, unknown> = {
    prediction_id: job.predictionId,
    upload_id: String(job.uploadId),
    user_id: job.userId,
    s3_file_path: `s3://${job.bucket}/${job.key}`,
    timestamp: formatNaiveUtc(job.publishedAt),
    priority: 'normal',
  };
  return {
    MessageBody: pythonJson(editBody ? editBody(fields) : fields),
    MessageAttributes: {
      task_type: { DataType: 'String', StringValue: TASK_TYPE },
      user_id: { DataType: 'String', StringValue: job.userId },
    },
  };
}
