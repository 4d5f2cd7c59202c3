import { describe, expect, it } from 'vitest';
import { numericMessage } from '../../src/scoring/factor-texts.js';

// Amounts in factor texts are written as en-US dollars; Intl, too slow for the hot path, is the reference.
const dollars = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const amount = (message: string): string => /\((-?\$[\d,]+\.\d\d)/.exec(message)?.[1] ?? message;

describe('amounts in factor texts', () => {
  const values = [
    0, 0.004, 0.005, 0.5, 1, 9.99, 29.85, 99.995, 100, 999.99, 999.995, 1000, 1889.5, 12345.678, 99999.99,
    100000, 123456.78, 1234567.89, 98765432.1, -0.5, -29.85, -1000, -1234567.89,
  ];
  // every magnitude and cents pattern up to 10^9
  for (let k = 0; k < 2000; k++)
    values.push(Math.round(Math.pow(10, (k % 1000) / 111)) + ((k * 37) % 100) / 100);

  it.each(['MonthlyCharges', 'TotalCharges'])('%s: group thousands with commas, two decimals', (column) => {
    for (const value of values) {
      const message = numericMessage(column, value, [-1e12, 1e12], true, true);
      const expected = dollars.format(value).replace(/^-\$/, '-$');
      expect(amount(message), String(value)).toBe(expected);
    }
  });

  it('shows a value outside the clip range as the bound the model reads', () => {
    expect(numericMessage('TotalCharges', 1e9, [0, 8684.8], true, true)).toBe(
      'High total charges to date ($8,684.80 or more, value out of range)',
    );
  });
});
