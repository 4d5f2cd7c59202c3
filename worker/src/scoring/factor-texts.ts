/**
 * The texts of model factors: their `factor` keys and the messages a reader sees, per categorical label and
 * per numeric value (explain.ts decides which factors a row shows).
 */

export const snake = (text: string): string =>
  text
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');

const ADD_ON_NAMES: Record<string, string> = {
  OnlineSecurity: 'online security',
  OnlineBackup: 'online backup',
  DeviceProtection: 'device protection',
  TechSupport: 'tech support',
  StreamingTV: 'TV streaming',
  StreamingMovies: 'movie streaming',
};

export const CATEGORY_MESSAGES: Record<string, Record<string, string>> = {
  Contract: {
    'Month-to-month': 'Month-to-month contract',
    'One year': 'One year contract',
    'Two year': 'Two year contract',
  },
  gender: { Female: 'Female customer', Male: 'Male customer' },
  SeniorCitizen: { Yes: 'Senior citizen', No: 'Not a senior citizen' },
  Partner: { Yes: 'Has a partner', No: 'No partner' },
  Dependents: { Yes: 'Has dependents', No: 'No dependents' },
  PhoneService: { Yes: 'Has phone service', No: 'No phone service' },
  MultipleLines: {
    Yes: 'Multiple phone lines',
    No: 'Single phone line',
    'No phone service': 'No phone lines',
  },
  InternetService: {
    DSL: 'DSL internet service',
    'Fiber optic': 'Fiber optic internet service',
    No: 'No internet service',
  },
  PaperlessBilling: { Yes: 'Paperless billing', No: 'Paper billing' },
  PaymentMethod: {
    'Electronic check': 'Pays by electronic check',
    'Mailed check': 'Pays by mailed check',
    'Bank transfer (automatic)': 'Pays by automatic bank transfer',
    'Credit card (automatic)': 'Pays by automatic credit card',
  },
  ...Object.fromEntries(
    Object.entries(ADD_ON_NAMES).map(([column, name]) => [
      column,
      { Yes: `Has ${name}`, No: `No ${name}`, 'No internet service': `No internet service (no ${name})` },
    ]),
  ),
};

export const NUMERIC_NAMES: Record<string, string> = {
  tenure: 'Tenure',
  MonthlyCharges: 'Monthly charges',
  TotalCharges: 'Total charges',
};

const months = (t: number): string => {
  const shown = Number.isInteger(t) ? String(t) : t.toFixed(1);
  return `${shown} ${shown === '1' ? 'month' : 'months'} tenure`;
};
/**
 * `$1,889.50`. Intl formatting costs microseconds per call, and a split and a lookahead regex were still 4% of
 * scoreCsv on a file of distinct totals, where nearly every row formats an amount of its own.
 */
const money = (x: number): string => {
  const fixed = Math.abs(x).toFixed(2);
  const point = fixed.length - 3;
  let grouped = fixed.slice(0, ((point - 1) % 3) + 1);
  for (let at = grouped.length; at < point; at += 3) grouped += `,${fixed.slice(at, at + 3)}`;
  return `${x < 0 ? '-' : ''}$${grouped}${fixed.slice(point)}`;
};

/**
 * Message for a present numeric cell; `above` = its encoded value is above the training mean. A value
 * outside the feature's clip range is shown as the model reads it, clipped to the range (encoder.ts),
 * with "or less"/"or more" and "value out of range", so a text stays true for a large real value and
 * never echoes an absurd cell such as -1e308.
 */
export function numericMessage(
  column: string,
  raw: number,
  [low, high]: readonly [number, number],
  above: boolean,
  risk: boolean,
): string {
  const value = raw < low ? low : raw > high ? high : raw;
  const bound = raw < low ? 'or less' : raw > high ? 'or more' : '';
  const note = bound && `${bound}, value out of range`;
  switch (column) {
    case 'tenure': {
      const tenure = note ? `${months(value)} (${note})` : months(value);
      if (!risk) return `${tenure} - well-established relationship`;
      if (value < 3) return `${tenure} - early high-risk period`;
      if (value < 6) return `${tenure} - past critical period but still establishing`;
      return `${tenure} - shorter than typical`;
    }
    case 'MonthlyCharges':
      return `${above ? 'High' : 'Low'} monthly charges (${money(value)}${note && ` ${note}`})`;
    case 'TotalCharges':
      return `${above ? 'High' : 'Low'} total charges to date (${money(value)}${note && ` ${note}`})`;
    default:
      return `${column} of ${value}${note && ` (${note})`}`;
  }
}
