import { describe, expect, it } from 'vitest';
import { readCanonicalTable } from '../../src/scoring/training-table.js';
import { InputError } from '../../src/scoring/errors.js';
import { chunked } from './helpers.js';

const table = (text: string, passThrough?: string[]) =>
  readCanonicalTable(chunked(Buffer.from(text), 7), { passThrough });

async function all<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

describe('readCanonicalTable (the training pipeline reads files exactly as scoring does)', () => {
  it('yields canonical text per present column plus pass-through columns verbatim', async () => {
    const { columns, rows } = await table(
      'Customer ID,tenure_days,mrr_cents,total charges,plan,Senior,payment type,Churn\n' +
        '007,61,"12,345",$1.00,monthly,1,electronic check,Yes\n' +
        'x,,,NA,Two Years,no,??,No\n',
      ['Churn'],
    );
    expect(columns).toEqual([
      'customerID',
      'tenure',
      'MonthlyCharges',
      'TotalCharges',
      'Contract',
      'SeniorCitizen',
      'PaymentMethod',
      'Churn',
    ]);
    expect(await all(rows)).toEqual([
      {
        customerID: '007',
        tenure: String(61 / 30.44),
        MonthlyCharges: '123.45',
        TotalCharges: '1',
        Contract: 'Month-to-month',
        SeniorCitizen: 'Yes',
        PaymentMethod: 'Electronic check',
        Churn: 'Yes',
      },
      {
        customerID: 'x',
        tenure: '',
        MonthlyCharges: '',
        TotalCharges: '',
        Contract: 'Two year',
        SeniorCitizen: 'No',
        PaymentMethod: '',
        Churn: 'No',
      },
    ]);
  });

  it('fails with InputError when a pass-through column is missing', async () => {
    await expect(
      table('customerID,tenure,MonthlyCharges,TotalCharges,Contract\na,1,1,1,Monthly\n', ['Churn']),
    ).rejects.toThrow(InputError);
  });
});
