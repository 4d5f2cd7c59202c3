import { afterEach, describe, expect, it, vi } from 'vitest';
import { fullJitterDelay, retryDelaySeconds } from '../../src/backoff.js';
import { createMetrics } from '../../src/metrics.js';

interface Emf {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

/** Runs `emit` and returns the EMF documents it printed to stdout. */
async function captured(emit: () => Promise<void>): Promise<Emf[]> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
  try {
    await emit();
  } finally {
    spy.mockRestore();
  }
  return lines.map((line) => JSON.parse(line) as Emf);
}

afterEach(() => vi.restoreAllMocks());

describe('metrics (contracts.md §E)', () => {
  const metrics = createMetrics({ namespace: 'RetainWise/Worker', environment: 'prod', enabled: true });

  it('emits JobsCompleted, RowsScored and JobDuration with exactly one dimension set { Environment }', async () => {
    const [doc, ...rest] = await captured(() =>
      metrics.jobCompleted({ durationMs: 1234, rows: 100, predictionId: 'p1' }),
    );
    expect(rest).toEqual([]);
    expect(doc!._aws.CloudWatchMetrics[0]!.Metrics).toHaveLength(3);
    const directive = doc!._aws.CloudWatchMetrics;
    expect(directive).toEqual([
      {
        Namespace: 'RetainWise/Worker',
        Dimensions: [['Environment']],
        Metrics: expect.arrayContaining([
          { Name: 'JobsCompleted', Unit: 'Count' },
          { Name: 'RowsScored', Unit: 'Count' },
          { Name: 'JobDuration', Unit: 'Milliseconds' },
        ]) as unknown,
      },
    ]);
    expect(doc).toMatchObject({
      Environment: 'prod',
      JobsCompleted: 1,
      RowsScored: 100,
      JobDuration: 1234,
      prediction_id: 'p1',
    });
    expect(doc).not.toHaveProperty('ServiceName');
    expect(doc).not.toHaveProperty('LogGroup');
  });

  it('puts the MessageParseError type in a property, not a dimension', async () => {
    const [doc] = await captured(() => metrics.messageParseError('invalid_timestamp', 'm1'));
    expect(doc!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['Environment']]);
    expect(doc).toMatchObject({ MessageParseError: 1, ErrorType: 'invalid_timestamp', message_id: 'm1' });
  });

  it('emits JobsFailed and QueueWait', async () => {
    const docs = await captured(async () => {
      await metrics.jobFailed({ durationMs: 5, reason: 'permanent', predictionId: 'p2' });
      await metrics.queueWait(-20);
    });
    expect(docs.map((d) => d._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name).sort())).toEqual([
      ['JobDuration', 'JobsFailed'],
      ['QueueWait'],
    ]);
    expect(docs[1]).toMatchObject({ QueueWait: 0 });
  });

  it('prints nothing when disabled (local mode)', async () => {
    const off = createMetrics({ namespace: 'RetainWise/Worker', environment: 'local', enabled: false });
    expect(await captured(() => off.jobCompleted({ durationMs: 1, rows: 1, predictionId: 'p' }))).toEqual([]);
  });
});

describe('back-off', () => {
  it('grows exponentially, is capped, and jitters below the ceiling', () => {
    expect(fullJitterDelay(1, 1000, 60_000, () => 0.999)).toBe(1998);
    expect(fullJitterDelay(3, 1000, 60_000, () => 0.999)).toBe(7992);
    expect(fullJitterDelay(30, 1000, 60_000, () => 0.999)).toBe(59_940);
    expect(fullJitterDelay(3, 1000, 60_000, () => 0)).toBe(0);
  });

  it('spreads transient retries between half and all of base x 2^(attempt-1), capped at 15 min', () => {
    expect(retryDelaySeconds(1, 30, 900, () => 0)).toBe(15);
    expect(retryDelaySeconds(1, 30, 900, () => 1)).toBe(30);
    expect(retryDelaySeconds(3, 30, 900, () => 1)).toBe(120);
    expect(retryDelaySeconds(10, 30, 900, () => 1)).toBe(900);
    expect(retryDelaySeconds(1, 0, 900, () => 0.5)).toBe(1);
  });
});
