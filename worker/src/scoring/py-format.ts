/**
 * Number formatting exactly as the existing Python worker wrote it (spec/csv-io.md §8), so the results
 * file is byte-compatible: `f"{x:.1f}"`, `round(x, 3)` printed by `repr`, and `repr(float)` in JSON.
 */

/**
 * `format(x, f".{digits}f")`: correctly rounded with exact ties to even. `toFixed` already rounds the
 * exact binary value correctly but sends exact ties (e.g. 12.25 → "12.3") up, so ties are detected and
 * corrected; 20 digits are enough to see a tie for the magnitudes formatted here (below 1e5).
 */
export function pyFixed(x: number, digits: number): string {
  const fixed = x.toFixed(digits);
  const scaled = Math.abs(x) * 10 ** digits;
  if (Math.abs(scaled - Math.floor(scaled) - 0.5) > 1e-6) return fixed;
  const exact = x.toFixed(20);
  const cut = exact.indexOf('.') + digits + 1;
  if (!/^50*$/.test(exact.slice(cut))) return fixed;
  const down = exact.slice(0, cut).replace(/\.$/, '');
  const lastDigit = Number(down.at(-1));
  return lastDigit % 2 === 0 ? down : fixed;
}

/** `repr(round(x, digits))`: the rounded value in shortest form with at least one decimal (0.7, 1.0). */
export function pyRound(x: number, digits: number): string {
  const fixed = pyFixed(x, digits);
  if (digits <= 0) return `${fixed}.0`;
  // trailing zeros trimmed down to one decimal (on the hot path: no regular expression)
  let end = fixed.length;
  while (fixed.charCodeAt(end - 1) === 48 && fixed.charCodeAt(end - 2) !== 46) end--;
  return end === fixed.length ? fixed : fixed.slice(0, end);
}

/** `repr(x)` of a finite float: shortest round-trip digits, scientific below 1e-4 and from 1e16. */
export function pyRepr(x: number): string {
  const magnitude = Math.abs(x);
  // Where both languages print fixed notation they print the same shortest digits; Python adds ".0".
  if (magnitude >= 1e-4 && magnitude < 1e16) return Number.isInteger(x) ? `${x}.0` : String(x);
  if (!Number.isFinite(x)) throw new Error(`cannot format ${x} as JSON`);
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa = '', exp = '0'] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number(exp);
  const sign = x < 0 ? '-' : '';
  if (exponent < -4 || exponent >= 16) {
    const e = Math.abs(exponent) < 10 ? `0${Math.abs(exponent)}` : `${Math.abs(exponent)}`;
    return `${sign}${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ''}e${exponent < 0 ? '-' : '+'}${e}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1);
  return `${sign}${whole}.${fraction === '' ? '0' : fraction}`;
}
