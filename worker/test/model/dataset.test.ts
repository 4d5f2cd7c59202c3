import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLabelColumn, parseLabel, TrainingDataError, writeTrainingCsv } from '../../training/dataset.js';

const TELCO = fileURLToPath(new URL('../../training/data/telco-churn.csv', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'retainwise-dataset-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function canonicalise(csv: string, label?: string) {
  const input = join(dir, `in-${Math.random().toString(36).slice(2)}.csv`);
  const output = `${input}.canonical.csv`;
  await writeFile(input, csv);
  const summary = await writeTrainingCsv(input, output, { label });
  return { summary, text: await readFile(output, 'utf8') };
}

describe('findLabelColumn', () => {
  it('finds the usual label names in any spelling', () => {
    expect(findLabelColumn(['customerID', 'tenure', 'Churn'])).toBe('Churn');
    expect(findLabelColumn(['id', 'Is Churned'])).toBe('Is Churned');
    expect(findLabelColumn(['id', 'churned', 'label'])).toBe('churned');
  });

  it('takes an explicit column by exact or normalised name', () => {
    expect(findLabelColumn(['id', 'left_company', 'Churn'], 'left_company')).toBe('left_company');
    expect(findLabelColumn(['id', 'Left Company'], 'left_company')).toBe('Left Company');
  });

  it('says what to do when there is no label column', () => {
    expect(() => findLabelColumn(['id', 'tenure'])).toThrow(/--label <column>/);
    expect(() => findLabelColumn(['id', 'tenure'], 'cancelled')).toThrow(TrainingDataError);
  });
});

describe('parseLabel', () => {
  it('reads yes/no, 1/0 and true/false in any case, and never reads "No" as churn', () => {
    expect(['Yes', 'yes', '1', 'TRUE', 'y'].map(parseLabel)).toEqual([1, 1, 1, 1, 1]);
    expect(['No', 'no', '0', 'false', 'N'].map(parseLabel)).toEqual([0, 0, 0, 0, 0]);
  });

  it('tells a missing label from an unreadable one', () => {
    expect(['', 'NA', '  '].map(parseLabel)).toEqual([undefined, undefined, undefined]);
    expect(['maybe', '2'].map(parseLabel)).toEqual([null, null]);
  });
});

describe('writeTrainingCsv', () => {
  it("canonicalises a SaaS company's history with the scoring library's mapper", async () => {
    const { summary, text } = await canonicalise(
      [
        'user_id,months_subscribed,mrr,total_revenue,plan_type,payment_type,company_name,Is Churned',
        '007,3,49.5,"$1,234.50",Monthly,Electronic check,Acme,Yes',
        'u2,24,99,,ANNUAL,mailed check,Beta,no',
        'u3,12,20,240,Two Year,,Gamma,',
      ].join('\n'),
    );
    expect(summary).toEqual({
      labelColumn: 'Is Churned',
      columns: ['customerID', 'tenure', 'MonthlyCharges', 'TotalCharges', 'Contract', 'PaymentMethod'],
      rows: 2,
      positives: 1,
      unlabelled: 1,
    });
    expect(text).toBe(
      [
        'customerID,tenure,MonthlyCharges,TotalCharges,Contract,PaymentMethod,churned',
        '007,3,49.5,1234.5,Month-to-month,Electronic check,1',
        'u2,24,99,,One year,Mailed check,0',
        '',
      ].join('\n'),
    );
  });

  it('reads the Telco file as the model was trained on it', async () => {
    const output = join(dir, 'telco.canonical.csv');
    const summary = await writeTrainingCsv(TELCO, output);
    expect(summary).toMatchObject({ labelColumn: 'Churn', rows: 5634, positives: 1495, unlabelled: 0 });
    const lines = (await readFile(output, 'utf8')).trimEnd().split('\n');
    expect(lines[1]).toBe(
      '7590-VHVEG,1,29.85,29.85,Month-to-month,Female,No,Yes,No,No,No phone service,DSL,No,Yes,No,No,No,No,Yes,Electronic check,0',
    );
    const totalCharges = (lines[0] ?? '').split(',').indexOf('TotalCharges');
    expect(lines.filter((l) => l.split(',')[totalCharges] === '')).toHaveLength(8);
  });

  it('refuses labels it cannot read, naming a few of them', async () => {
    const csv = [
      'customerID,tenure,MonthlyCharges,TotalCharges,Contract,Churn',
      'a,1,2,2,Monthly,maybe',
      'b,1,2,2,Monthly,No',
    ];
    await expect(canonicalise(csv.join('\n'))).rejects.toThrow(
      'The label column "Churn" has 1 value(s) that are not Yes/No, 1/0 or true/false, e.g. "maybe" (data row 1).',
    );
  });

  it('fails like scoring does when a required column is missing', async () => {
    await expect(canonicalise('customerID,tenure,Churn\na,1,Yes\n')).rejects.toMatchObject({
      code: 'missing_columns',
    });
  });
});
