import { describe, expect, it } from 'vitest';
import { pyFixed, pyRepr, pyRound } from '../../src/scoring/py-format.js';

// Reference strings: Python 3.11 `format(x, '.1f')`, `format(x, '.3f')`, `repr(round(x, 3))`, `repr(x)`.
const CASES: [number, string, string, string, string][] = [
  [0.7, '0.7', '0.700', '0.7', '0.7'],
  [1, '1.0', '1.000', '1.0', '1.0'],
  [0, '0.0', '0.000', '0.0', '0.0'],
  [12.25, '12.2', '12.250', '12.25', '12.25'],
  [0.125, '0.1', '0.125', '0.125', '0.125'],
  [0.375, '0.4', '0.375', '0.375', '0.375'],
  [65.37663799463694, '65.4', '65.377', '65.377', '65.37663799463694'],
  [0.0005, '0.0', '0.001', '0.001', '0.0005'],
  [1e-5, '0.0', '0.000', '0.0', '1e-05'],
  [123, '123.0', '123.000', '123.0', '123.0'],
  [-0.0519, '-0.1', '-0.052', '-0.052', '-0.0519'],
  [0.30000000000000004, '0.3', '0.300', '0.3', '0.30000000000000004'],
  [99.95, '100.0', '99.950', '99.95', '99.95'],
  [0.9995, '1.0', '1.000', '1.0', '0.9995'],
  [2.5e-7, '0.0', '0.000', '0.0', '2.5e-07'],
  [1234567.891, '1234567.9', '1234567.891', '1234567.891', '1234567.891'],
];

describe('Python number formatting', () => {
  it.each(CASES)('%d → %s / %s / %s / %s', (x, fixed1, fixed3, round3, repr) => {
    expect(pyFixed(x, 1)).toBe(fixed1);
    expect(pyFixed(x, 3)).toBe(fixed3);
    expect(pyRound(x, 3)).toBe(round3);
    expect(pyRepr(x)).toBe(repr);
  });

  it('rounds exact ties to even like Python, not up like toFixed', () => {
    expect((12.25).toFixed(1)).toBe('12.3');
    expect(pyFixed(12.25, 1)).toBe('12.2');
    expect(pyFixed(12.75, 1)).toBe('12.8');
    expect(pyFixed(0.5, 0)).toBe('0');
    expect(pyFixed(1.5, 0)).toBe('2');
  });

  it('prints scientific notation with two exponent digits, as repr does', () => {
    expect(pyRepr(1.5e16)).toBe('1.5e+16');
    expect(pyRepr(-3e-9)).toBe('-3e-09');
    expect(pyRepr(1.2345e-100)).toBe('1.2345e-100');
    expect(() => pyRepr(Number.NaN)).toThrow();
  });
});
