import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTelcoCsv } from '../../bench/generate.js';

// The bench's input stands in for a customer's file: a test of what it holds, since a file that repeated the
// training rows let every per-value cache hit and flattered the worker's CPU and memory per row 1.7x.
const TRAINING = join(import.meta.dirname, '..', '..', 'training', 'data', 'telco-churn.csv');

const parse = (text: string): string[][] => Papa.parse<string[]>(text, { skipEmptyLines: true }).data;

describe('the benchmark data', () => {
  let dir: string;
  let training: string[][];
  let generated: string[][];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-data-'));
    training = parse(await readFile(TRAINING, 'utf8'));
    const rows = (training.length - 1) * 3 + 10;
    await generateTelcoCsv(TRAINING, join(dir, 'telco.csv'), rows);
    generated = parse(await readFile(join(dir, 'telco.csv'), 'utf8'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const column = (records: string[][], name: string): string[] => {
    const at = (records[0] as string[]).indexOf(name);
    return records.slice(1).map((record) => record[at] as string);
  };

  it('has the training header and the number of rows asked for, each with a customer id of its own', () => {
    expect(generated[0]).toEqual(training[0]);
    const ids = column(generated, 'customerID');
    expect(ids).toHaveLength((training.length - 1) * 3 + 10);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('gives nearly every row a total of its own, as a real customer base has', () => {
    const totals = column(generated, 'TotalCharges').filter((t) => t.trim() !== '');
    expect(new Set(totals).size / totals.length).toBeGreaterThan(0.9);
  });

  it('repeats the training rows otherwise: the first cycle unchanged, later ones a cent per cycle more', () => {
    const data = training.length - 1;
    const total = (training[0] as string[]).indexOf('TotalCharges');
    for (const cycle of [0, 1, 2]) {
      for (const j of [0, 1, data - 1]) {
        const original = training[j + 1] as string[];
        const row = generated[1 + cycle * data + j] as string[];
        expect(row[0]).toBe(`${original[0]}-${cycle}`);
        expect(row.filter((_, i) => i !== 0 && i !== total)).toEqual(
          original.filter((_, i) => i !== 0 && i !== total),
        );
        const cents = Math.round(Number(original[total]) * 100);
        if ((original[total] as string).trim() === '') expect(row[total]).toBe(original[total]);
        else expect(Math.round(Number(row[total]) * 100)).toBe(cents + cycle);
      }
    }
    const blank = column(generated, 'TotalCharges').filter((t) => t.trim() === '');
    expect(blank.length).toBe(3 * column(training, 'TotalCharges').filter((t) => t.trim() === '').length);
  });
});
