import type { Message } from '@aws-sdk/client-sqs';
import { z } from 'zod';

/**
 * The prediction job message exactly as the existing backend publishes it (spec/message-contract.md §3), checked
 * the way the existing worker checks it, plus the fixes from existing-system-lessons.md: the age limit is a setting
 * as long as the queue's retention (#8), offsets are converted rather than dropped (#9), the bucket must be ours and
 * the key under uploads/ (#10), and upload_id must be a positive integer before anything is claimed (#11).
 */

export interface JobMessage {
  predictionId: string;
  uploadId: number;
  userId: string;
  bucket: string;
  /** the input object's key in `bucket` */
  key: string;
  publishedAt: Date;
  priority: 'normal' | 'high';
}

export interface MessageRules {
  /** the only bucket the worker reads from (S3_BUCKET) */
  bucket: string;
  /** MESSAGE_MAX_AGE_SECONDS: at least the queue's retention, so a backlog is never rejected for its age alone */
  maxAgeSeconds: number;
  now: Date;
}

/** One field-level reason: safe to log and to show, because it never contains the field's value. */
export interface FieldIssue {
  field: string;
  reason: string;
}

export type ParseResult =
  | { ok: true; job: JobMessage }
  | {
      ok: false;
      issues: FieldIssue[];
      /** the id named by the message if it is a syntactically valid UUID: the only row a rejection may touch */
      predictionId: string | undefined;
      /** short, user-safe text for predictions.error_message */
      userMessage: string;
      /** MessageParseError's ErrorType property: invalid_json, invalid_timestamp, ... */
      errorType: string;
    };

export const TASK_TYPE = 'ml_prediction';
const FUTURE_SKEW_SECONDS = 3600;

const ANY_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Python's uuid.UUID reports a version only for the RFC 4122 variant, so pydantic's UUID4 needs both bits.
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const USER_ID = /^user_[a-zA-Z0-9_]{20,40}$/;
const MAX_INT4 = 2_147_483_647;
const FORBIDDEN_PATH_CHARS = ['<', '>', '|', '&', ';', '`', '$', '(', ')', '{', '}'];
const ISO_DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:?\d{2})?$/;

/** Parses an ISO 8601 date-time; no offset means UTC (the backend sends naive UTC), offsets are applied. */
export function parseTimestamp(value: string): Date | undefined {
  const m = ISO_DATETIME.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, fraction = '', offset = 'Z'] = m;
  const fields = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const [year, month, day, hour, minute, second] = fields;
  const ms = Number(fraction.padEnd(3, '0').slice(0, 3));
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const check = new Date(utc);
  // Date.UTC rolls 2025-02-30 over into March; a calendar-invalid value must be rejected, not moved.
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    check.getUTCHours() !== hour ||
    check.getUTCMinutes() !== minute ||
    check.getUTCSeconds() !== second
  ) {
    return undefined;
  }
  if (offset === 'Z') return check;
  const sign = offset.startsWith('-') ? -1 : 1;
  const digits = offset.slice(1).replace(':', '');
  const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  if (offsetMinutes > 18 * 60) return undefined;
  return new Date(utc - sign * offsetMinutes * 60_000);
}

/** Splits `s3://bucket/key`; the rules of message-contract.md §3.2 have been applied before. */
export function splitS3Path(path: string): { bucket: string; key: string } {
  const rest = path.slice('s3://'.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? { bucket: rest, key: '' } : { bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
}

function s3PathRule(path: string, bucket: string): string | undefined {
  // The existing worker's rules, in its order (first failure wins), then ours (lessons #10).
  if (!path.startsWith('s3://retainwise-')) return 'must start with s3://retainwise-';
  if (path.includes('../')) return 'must not contain ../';
  if (path.slice('s3://'.length).includes('//')) return 'must not contain //';
  if (!path.toLowerCase().endsWith('.csv')) return 'must end with .csv';
  if (FORBIDDEN_PATH_CHARS.some((c) => path.includes(c))) return 'contains a forbidden character';
  const location = splitS3Path(path);
  if (location.bucket !== bucket) return "bucket is not the worker's S3_BUCKET";
  if (!location.key.startsWith('uploads/')) return 'key must be under uploads/';
  return undefined;
}

function hours(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600}h` : `${Math.round(seconds / 60)} min`;
}

/**
 * The message's shape, built once: constructing a zod schema costs more than validating with it (a tenth of a
 * small job's CPU when it was built per message). What depends on the call (our bucket, the clock) is checked
 * afterwards by `ruleIssues`, on the fields the schema accepted.
 */
const BODY = z.object({
  prediction_id: z.string().regex(UUID_V4, 'must be a version 4 UUID'),
  upload_id: z
    .string()
    .regex(/^[1-9]\d{0,9}$/, 'must be a positive integer in a string')
    .transform(Number)
    .refine((n) => n <= MAX_INT4, 'must be a positive integer in a string'),
  user_id: z.string().min(5).max(50).regex(USER_ID, 'must match user_<20-40 letters, digits or _>'),
  // the length rule speaks before the path rules, as in pydantic
  s3_file_path: z.string().min(10).max(500),
  timestamp: z.string().transform((value, ctx) => {
    const at = parseTimestamp(value);
    if (!at) {
      ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 date-time' });
      return z.NEVER;
    }
    return at;
  }),
  priority: z.enum(['normal', 'high'], 'must be normal or high').default('normal'),
});

const FIELD_ORDER: readonly string[] = Object.keys(BODY.shape);

/** The rules that depend on the call, for the fields whose shape `accepted` says is right. */
function ruleIssues(
  body: Record<string, unknown>,
  rules: MessageRules,
  accepted: (field: string) => boolean,
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const path = body.s3_file_path;
  if (accepted('s3_file_path') && typeof path === 'string') {
    const reason = s3PathRule(path, rules.bucket);
    if (reason) issues.push({ field: 's3_file_path', reason });
  }
  const at =
    accepted('timestamp') && typeof body.timestamp === 'string' ? parseTimestamp(body.timestamp) : undefined;
  if (at) {
    const ageSeconds = (rules.now.getTime() - at.getTime()) / 1000;
    if (ageSeconds > rules.maxAgeSeconds) {
      issues.push({ field: 'timestamp', reason: `older than ${hours(rules.maxAgeSeconds)}` });
    } else if (ageSeconds < -FUTURE_SKEW_SECONDS) {
      issues.push({ field: 'timestamp', reason: 'more than 1h in the future' });
    }
  }
  return issues;
}

function reasonFor(issue: z.core.$ZodIssue, body: Record<string, unknown>): string {
  if (issue.code === 'invalid_type') {
    return body[String(issue.path[0])] === undefined ? 'is missing' : `must be a ${issue.expected}`;
  }
  if (issue.code === 'too_small') return `must be at least ${String(issue.minimum)} characters`;
  if (issue.code === 'too_big') return `must be at most ${String(issue.maximum)} characters`;
  return issue.message;
}

function rejection(issues: FieldIssue[], predictionId: string | undefined): ParseResult {
  const first = issues[0] ?? { field: 'body', reason: 'is invalid' };
  return {
    ok: false,
    issues,
    predictionId,
    userMessage: `Invalid job message: ${first.field} ${first.reason} - please re-upload`,
    errorType: first.field === 'body' ? 'invalid_json' : `invalid_${first.field.replace(/\W+/g, '_')}`,
  };
}

/** Validates one SQS message; never throws. */
export function parseJobMessage(
  message: Pick<Message, 'Body' | 'MessageAttributes'>,
  rules: MessageRules,
): ParseResult {
  let body: unknown;
  try {
    body = JSON.parse(message.Body ?? '');
  } catch {
    return rejection([{ field: 'body', reason: 'is not valid JSON' }], undefined);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return rejection([{ field: 'body', reason: 'is not a JSON object' }], undefined);
  }
  const fields = body as Record<string, unknown>;
  const named = fields.prediction_id;
  const predictionId = typeof named === 'string' && ANY_UUID.test(named) ? named.toLowerCase() : undefined;

  const issues: FieldIssue[] = [];
  const taskType = message.MessageAttributes?.task_type;
  if (taskType !== undefined && taskType.StringValue !== TASK_TYPE) {
    issues.push({ field: 'task_type attribute', reason: `must be ${TASK_TYPE}` });
  }
  const parsed = BODY.safeParse(fields);
  // One reason per field: the first rule it breaks.
  const byField = new Map<string, string>();
  for (const issue of parsed.success ? [] : parsed.error.issues) {
    const field = issue.path.join('.') || 'body';
    if (!byField.has(field)) byField.set(field, reasonFor(issue, fields));
  }
  for (const issue of ruleIssues(fields, rules, (field) => !byField.has(field))) {
    byField.set(issue.field, issue.reason);
  }
  const order = (field: string) => FIELD_ORDER.indexOf(field);
  issues.push(
    ...[...byField].sort(([a], [b]) => order(a) - order(b)).map(([field, reason]) => ({ field, reason })),
  );
  if (issues.length > 0 || !parsed.success) return rejection(issues, predictionId);

  const data = parsed.data;
  const { bucket, key } = splitS3Path(data.s3_file_path);
  return {
    ok: true,
    job: {
      predictionId: data.prediction_id.toLowerCase(),
      uploadId: data.upload_id,
      userId: data.user_id,
      bucket,
      key,
      publishedAt: data.timestamp,
      priority: data.priority,
    },
  };
}

/**
 * UTC as Python's `datetime.utcnow().isoformat()` writes it: no offset, microseconds (omitted when zero). Used for
 * the message timestamp the backend publishes and for metrics_json.processing_timestamp, which the API shows as is.
 */
export function formatNaiveUtc(date: Date): string {
  const iso = date.toISOString().slice(0, 23);
  const ms = date.getUTCMilliseconds();
  return ms === 0 ? iso.slice(0, 19) : `${iso}000`;
}
