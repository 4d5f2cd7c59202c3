import { describe, expect, it } from 'vitest';
import { formatNaiveUtc, parseJobMessage, parseTimestamp, type ParseResult } from '../../src/message.js';
import { pythonJson } from '../../src/ops/backend-message.js';

const NOW = new Date('2025-12-07T14:05:00.000Z');
const BUCKET = 'retainwise-uploads-123456789012';
const RULES = { bucket: BUCKET, maxAgeSeconds: 345_600, now: NOW };
const KEY = 'uploads/user_2ZxQ8kLmN4pRt7VwY1bC3dEfGh/20251207_140233-customers_q4.csv';

/** The message-contract.md §5 example, as the backend serialises it. */
const EXAMPLE = {
  prediction_id: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
  upload_id: '42',
  user_id: 'user_2ZxQ8kLmN4pRt7VwY1bC3dEfGh',
  s3_file_path: `s3://${BUCKET}/${KEY}`,
  timestamp: '2025-12-07T14:02:34.512873',
  priority: 'normal',
};

function parse(fields: Record<string, unknown>, attributes?: Record<string, string>): ParseResult {
  return parseJobMessage(
    {
      Body: pythonJson(fields),
      MessageAttributes: attributes
        ? Object.fromEntries(
            Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
          )
        : undefined,
    },
    RULES,
  );
}

function rejection(result: ParseResult) {
  if (result.ok) throw new Error('expected a rejection');
  return result;
}

function reasonFor(fields: Record<string, unknown>): string {
  const rejected = rejection(parse(fields));
  return rejected.issues.map((i) => `${i.field} ${i.reason}`).join('; ');
}

describe('job message validation (message-contract.md §3)', () => {
  it('accepts the backend example and reads bucket, key and the naive timestamp as UTC', () => {
    const result = parse(EXAMPLE, { task_type: 'ml_prediction', user_id: EXAMPLE.user_id });
    expect(result).toEqual({
      ok: true,
      job: {
        predictionId: EXAMPLE.prediction_id,
        uploadId: 42,
        userId: EXAMPLE.user_id,
        bucket: BUCKET,
        key: KEY,
        publishedAt: new Date('2025-12-07T14:02:34.512Z'),
        priority: 'normal',
      },
    });
  });

  it('ignores unknown fields and defaults priority to normal', () => {
    const withoutPriority: Record<string, unknown> = {
      ...EXAMPLE,
      schema_version: 2,
      extra: { nested: true },
    };
    delete withoutPriority.priority;
    const result = parse(withoutPriority);
    expect(result.ok && result.job.priority).toBe('normal');
    expect(parse({ ...EXAMPLE, priority: 'high' })).toMatchObject({ ok: true, job: { priority: 'high' } });
  });

  it.each([
    ['not JSON', '{"prediction_id": '],
    ['an array', '[1, 2]'],
    ['a string', '"hello"'],
    ['empty', ''],
  ])('rejects a body that is %s', (_what, body) => {
    const result = rejection(parseJobMessage({ Body: body }, RULES));
    expect(result.issues[0]?.field).toBe('body');
    expect(result.errorType).toBe('invalid_json');
    expect(result.predictionId).toBeUndefined();
  });

  it.each(['prediction_id', 'upload_id', 'user_id', 's3_file_path', 'timestamp'])('requires %s', (field) => {
    const fields: Record<string, unknown> = { ...EXAMPLE };
    delete fields[field];
    expect(reasonFor(fields)).toBe(`${field} is missing`);
  });

  it('reports every bad field, not just the first', () => {
    const rejected = rejection(parse({ ...EXAMPLE, upload_id: 42, priority: 'urgent', user_id: 'bob' }));
    expect(rejected.issues.map((i) => i.field).sort()).toEqual(['priority', 'upload_id', 'user_id']);
  });

  describe('prediction_id', () => {
    it.each([
      ['a version 1 UUID (the schema docstring example)', '123e4567-e89b-12d3-a456-426614174000'],
      ['a non-RFC-4122 variant', '7c9e6679-7425-40de-c44b-e07fc1f90ae7'],
      ['not a UUID', 'prediction-42'],
      ['a UUID without hyphens', '7c9e6679742540de944be07fc1f90ae7'],
    ])('rejects %s', (_what, id) => {
      expect(reasonFor({ ...EXAMPLE, prediction_id: id })).toBe('prediction_id must be a version 4 UUID');
    });

    it('accepts upper case and normalises it', () => {
      const result = parse({ ...EXAMPLE, prediction_id: EXAMPLE.prediction_id.toUpperCase() });
      expect(result.ok && result.job.predictionId).toBe(EXAMPLE.prediction_id);
    });

    it('names the row a rejection may fail only when the id is a syntactically valid UUID', () => {
      expect(rejection(parse({ ...EXAMPLE, timestamp: 'yesterday' })).predictionId).toBe(
        EXAMPLE.prediction_id,
      );
      expect(
        rejection(parse({ ...EXAMPLE, prediction_id: '123e4567-e89b-12d3-a456-426614174000' })).predictionId,
      ).toBe('123e4567-e89b-12d3-a456-426614174000');
      expect(
        rejection(parse({ ...EXAMPLE, prediction_id: 'x; DROP TABLE predictions' })).predictionId,
      ).toBeUndefined();
      expect(rejection(parse({ ...EXAMPLE, prediction_id: 7 })).predictionId).toBeUndefined();
    });
  });

  describe('upload_id', () => {
    it.each([
      ['a JSON number', 42, 'upload_id must be a string'],
      ['non-numeric', 'abc', 'upload_id must be a positive integer in a string'],
      ['zero', '0', 'upload_id must be a positive integer in a string'],
      ['negative', '-4', 'upload_id must be a positive integer in a string'],
      ['a decimal', '4.0', 'upload_id must be a positive integer in a string'],
      ['a UUID (the old comment)', EXAMPLE.prediction_id, 'upload_id must be a positive integer in a string'],
      ['beyond PostgreSQL integer', '2147483648', 'upload_id must be a positive integer in a string'],
    ])('rejects %s', (_what, value, reason) => {
      expect(reasonFor({ ...EXAMPLE, upload_id: value })).toBe(reason);
    });

    it('accepts the largest PostgreSQL integer', () => {
      expect(parse({ ...EXAMPLE, upload_id: '2147483647' })).toMatchObject({
        ok: true,
        job: { uploadId: 2147483647 },
      });
    });
  });

  describe('user_id', () => {
    it.each([
      ['too short after user_ (the schema docstring example)', 'user_2abcdef1234567890'],
      ['too long', `user_${'a'.repeat(41)}`],
      ['a UUID users.id', '6f1c2a9e-1111-4222-8333-944455556666'],
      ['a trailing newline (Python $ would accept it)', `${EXAMPLE.user_id}\n`],
      ['punctuation', 'user_2ZxQ8kLmN4pRt7VwY1bC3d-fGh'],
    ])('rejects %s', (_what, value) => {
      expect(reasonFor({ ...EXAMPLE, user_id: value })).toMatch(/^user_id must/);
    });

    it('accepts 20 and 40 characters after user_', () => {
      expect(parse({ ...EXAMPLE, user_id: `user_${'a'.repeat(20)}` }).ok).toBe(true);
      expect(parse({ ...EXAMPLE, user_id: `user_${'a'.repeat(40)}` }).ok).toBe(true);
    });
  });

  describe('s3_file_path (rules in order, then bucket and key)', () => {
    it.each([
      ['too short', 's3://.csv', 's3_file_path must be at least 10 characters'],
      ['another scheme', `https://${BUCKET}/${KEY}`, 's3_file_path must start with s3://retainwise-'],
      [
        'a foreign bucket prefix',
        `s3://acme-uploads/${KEY}`,
        's3_file_path must start with s3://retainwise-',
      ],
      [
        'an upper-case prefix',
        `s3://RETAINWISE-uploads/${KEY}`,
        's3_file_path must start with s3://retainwise-',
      ],
      ['../', `s3://${BUCKET}/uploads/../secrets.csv`, 's3_file_path must not contain ../'],
      ['//', `s3://${BUCKET}//uploads/a.csv`, 's3_file_path must not contain //'],
      ['no .csv', `s3://${BUCKET}/uploads/u/a.xlsx`, 's3_file_path must end with .csv'],
      ['a $', `s3://${BUCKET}/uploads/u/$a.csv`, 's3_file_path contains a forbidden character'],
      [
        'parentheses (local/ fallback keys)',
        `s3://${BUCKET}/uploads/u/a(1).csv`,
        's3_file_path contains a forbidden character',
      ],
      [
        'another retainwise- bucket',
        `s3://retainwise-other-bucket/${KEY}`,
        "s3_file_path bucket is not the worker's S3_BUCKET",
      ],
      [
        'a key outside uploads/',
        `s3://${BUCKET}/predictions/u/a.csv`,
        's3_file_path key must be under uploads/',
      ],
      ['the local/ fallback', `s3://${BUCKET}/local/user_x/a.csv`, 's3_file_path key must be under uploads/'],
    ])('rejects %s', (_what, path, reason) => {
      expect(reasonFor({ ...EXAMPLE, s3_file_path: path })).toBe(reason);
    });

    it('checks the rules in the existing order: the first failure wins', () => {
      expect(reasonFor({ ...EXAMPLE, s3_file_path: `s3://${BUCKET}/uploads/../$x.txt` })).toBe(
        's3_file_path must not contain ../',
      );
    });

    it('accepts .CSV in any case and a 500-character path', () => {
      expect(parse({ ...EXAMPLE, s3_file_path: `s3://${BUCKET}/uploads/u/A.CSV` }).ok).toBe(true);
      const prefix = `s3://${BUCKET}/uploads/`;
      const path = `${prefix}${'a'.repeat(500 - prefix.length - 4)}.csv`;
      expect(path).toHaveLength(500);
      expect(parse({ ...EXAMPLE, s3_file_path: path }).ok).toBe(true);
      expect(
        reasonFor({ ...EXAMPLE, s3_file_path: `${prefix}${'a'.repeat(501 - prefix.length - 4)}.csv` }),
      ).toBe('s3_file_path must be at most 500 characters');
    });
  });

  describe('timestamp', () => {
    it.each([
      ['no fraction', '2025-12-07T14:02:34', '2025-12-07T14:02:34.000Z'],
      ['one fraction digit', '2025-12-07T14:02:34.5', '2025-12-07T14:02:34.500Z'],
      ['six fraction digits', '2025-12-07T14:02:34.512873', '2025-12-07T14:02:34.512Z'],
      ['Z', '2025-12-07T14:02:34Z', '2025-12-07T14:02:34.000Z'],
      ['a positive offset (converted, not dropped)', '2025-12-07T16:02:34+02:00', '2025-12-07T14:02:34.000Z'],
      ['a negative offset', '2025-12-07T09:02:34.25-05:00', '2025-12-07T14:02:34.250Z'],
      ['a space separator', '2025-12-07 14:02:34', '2025-12-07T14:02:34.000Z'],
    ])('parses %s', (_what, text, iso) => {
      expect(parseTimestamp(text)?.toISOString()).toBe(iso);
    });

    it.each([
      'yesterday',
      '2025-12-07',
      '2025-02-30T10:00:00',
      '2025-12-07T24:00:00',
      '2025-12-07T14:02:34.1234567',
      '1733580154',
    ])('rejects %s', (text) => {
      expect(parseTimestamp(text)).toBeUndefined();
      expect(reasonFor({ ...EXAMPLE, timestamp: text })).toBe('timestamp must be an ISO 8601 date-time');
    });

    it('rejects a Unix epoch number (the backend always sends a string)', () => {
      expect(reasonFor({ ...EXAMPLE, timestamp: 1765116154 })).toBe('timestamp must be a string');
    });

    it('allows messages up to MESSAGE_MAX_AGE_SECONDS old, not 24 hours (lessons #8)', () => {
      expect(parse({ ...EXAMPLE, timestamp: '2025-12-04T14:05:00' }).ok).toBe(true); // 3 days
      expect(parse({ ...EXAMPLE, timestamp: '2025-12-03T14:05:00' }).ok).toBe(true); // exactly 96 h
      const old = rejection(parse({ ...EXAMPLE, timestamp: '2025-12-03T14:04:59' }));
      expect(old.issues).toEqual([{ field: 'timestamp', reason: 'older than 96h' }]);
      expect(old.userMessage).toBe('Invalid job message: timestamp older than 96h - please re-upload');
      expect(old.errorType).toBe('invalid_timestamp');
    });

    it('allows up to one hour of clock skew into the future', () => {
      expect(parse({ ...EXAMPLE, timestamp: '2025-12-07T15:05:00' }).ok).toBe(true);
      expect(reasonFor({ ...EXAMPLE, timestamp: '2025-12-07T15:05:01' })).toBe(
        'timestamp more than 1h in the future',
      );
      // the same instant written with an offset is judged by its real time
      expect(parse({ ...EXAMPLE, timestamp: '2025-12-07T16:05:00+01:00' }).ok).toBe(true);
    });

    it('formats timestamps the way Python isoformat() does', () => {
      expect(formatNaiveUtc(new Date('2025-12-07T14:02:34.512Z'))).toBe('2025-12-07T14:02:34.512000');
      expect(formatNaiveUtc(new Date('2025-12-07T14:02:34.000Z'))).toBe('2025-12-07T14:02:34');
    });
  });

  it('rejects a priority outside normal and high', () => {
    expect(reasonFor({ ...EXAMPLE, priority: 'urgent' })).toBe('priority must be normal or high');
    expect(reasonFor({ ...EXAMPLE, priority: null })).toBe('priority must be normal or high');
  });

  it('checks the task_type attribute only when present', () => {
    expect(parse(EXAMPLE, { user_id: EXAMPLE.user_id }).ok).toBe(true);
    const wrong = rejection(parse(EXAMPLE, { task_type: 'train_model' }));
    expect(wrong.issues).toEqual([{ field: 'task_type attribute', reason: 'must be ml_prediction' }]);
  });

  it('keeps values out of every reason and the user message', () => {
    const secretish = 'user_SHOULD_NOT_APPEAR_IN_LOGS_1234567890!';
    const rejected = rejection(
      parse({ ...EXAMPLE, user_id: secretish, s3_file_path: `s3://${BUCKET}/uploads/${secretish}.txt` }),
    );
    expect(JSON.stringify(rejected)).not.toContain('SHOULD_NOT_APPEAR');
  });
});
