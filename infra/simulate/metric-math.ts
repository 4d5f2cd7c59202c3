// CloudWatch metric math and statistics over time series (period index → value), as AWS documents them; where the
// documentation is silent the choice made here is the pessimistic one and is marked as such.
//
// Sources (stored copies of the AWS docs):
// - Metric math: awsdocs/amazon-cloudwatch-user-guide doc_source/using-metric-math.md
//   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html).

/** A missing key is a missing datapoint. */
export type Series = Map<number, number>;
export type Value = number | Series;

export const isSeries = (v: Value): v is Series => v instanceof Map;

type Token = { kind: 'num'; value: number } | { kind: 'id'; value: string } | { kind: 'op'; value: string };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|&&|\|\||[-+*/^<>(),]))/y;
  let rest = expression.trim();
  while (rest.length > 0) {
    re.lastIndex = 0;
    const m = re.exec(rest);
    if (!m) throw new Error(`cannot parse metric math near "${rest}"`);
    if (m[1] !== undefined) tokens.push({ kind: 'num', value: Number(m[1]) });
    else if (m[2] === 'AND' || m[2] === 'OR')
      tokens.push({ kind: 'op', value: m[2] === 'AND' ? '&&' : '||' });
    else if (m[2] !== undefined) tokens.push({ kind: 'id', value: m[2] });
    else tokens.push({ kind: 'op', value: m[3] as string });
    rest = rest.slice(m[0].length).trimStart();
  }
  return tokens;
}

/** Combines two values pointwise. Between two series the documented rules apply: arithmetic ("Missing values in a
 *  time series are treated as 0") and comparisons ("only one of the time series has a value … treats the missing
 *  value in the other time series as 0") both see the union of timestamps; division by zero drops the point. */
function pointwise(a: Value, b: Value, f: (x: number, y: number) => number): Value {
  if (!isSeries(a) && !isSeries(b)) return f(a, b);
  const out: Series = new Map();
  const keys = new Set<number>([...(isSeries(a) ? a.keys() : []), ...(isSeries(b) ? b.keys() : [])]);
  for (const k of [...keys].sort((x, y) => x - y)) {
    const x = isSeries(a) ? (a.get(k) ?? 0) : a;
    const y = isSeries(b) ? (b.get(k) ?? 0) : b;
    const r = f(x, y);
    if (Number.isFinite(r)) out.set(k, r);
  }
  return out;
}

const BINARY: Record<string, (x: number, y: number) => number> = {
  '+': (x, y) => x + y,
  '-': (x, y) => x - y,
  '*': (x, y) => x * y,
  '/': (x, y) => x / y,
  '^': (x, y) => x ** y,
  '==': (x, y) => Number(x === y),
  '!=': (x, y) => Number(x !== y),
  '<': (x, y) => Number(x < y),
  '<=': (x, y) => Number(x <= y),
  '>': (x, y) => Number(x > y),
  '>=': (x, y) => Number(x >= y),
  '&&': (x, y) => Number(x !== 0 && y !== 0),
  '||': (x, y) => Number(x !== 0 || y !== 0),
};

const PRECEDENCE: string[][] = [
  ['||'],
  ['&&'],
  ['==', '!=', '<', '<=', '>', '>='],
  ['+', '-'],
  ['*', '/'],
  ['^'],
];

/** IF as documented ("Using IF expressions"): per datapoint of the condition, a true condition takes the true
 *  branch (0 where a true-branch series has no point), a false one takes the false branch (dropped where that
 *  series has no point or the branch is omitted); a scalar condition picks a whole branch. */
function ifFunction(cond: Value, whenTrue: Value, whenFalse: Value | undefined): Value {
  if (!isSeries(cond)) return cond !== 0 ? whenTrue : (whenFalse ?? new Map());
  const out: Series = new Map();
  for (const [k, c] of cond) {
    if (c !== 0) out.set(k, isSeries(whenTrue) ? (whenTrue.get(k) ?? 0) : whenTrue);
    else if (whenFalse !== undefined) {
      const v = isSeries(whenFalse) ? whenFalse.get(k) : whenFalse;
      if (v !== undefined) out.set(k, v);
    }
  }
  return out;
}

/** FILL(series, value) fills the missing periods of the evaluation range. The documentation does not say what
 *  FILL returns for a series with no datapoint at all in the range; this model assumes the pessimistic answer,
 *  an empty series (nothing to fill between), so the program must never rely on FILL to invent datapoints for a
 *  metric that is not being published. */
function fillFunction(series: Value, filler: Value, range: number[]): Value {
  if (!isSeries(series)) throw new Error('FILL needs a time series');
  if (isSeries(filler)) throw new Error('FILL with a series filler is not modelled');
  if (series.size === 0) return new Map();
  return new Map(range.map((k) => [k, series.get(k) ?? filler]));
}

/** Evaluates `expression` with the queries' series in `vars`, FILL filling the periods of `range`. */
export function evaluateExpression(expression: string, vars: Map<string, Value>, range: number[]): Value {
  const tokens = tokenize(expression);
  let pos = 0;
  const peek = () => tokens[pos];
  const expect = (op: string) => {
    const t = tokens[pos++];
    if (t?.kind !== 'op' || t.value !== op) throw new Error(`expected "${op}" in ${expression}`);
  };
  const parseLevel = (level: number): Value => {
    if (level === PRECEDENCE.length) return parseUnary();
    let left = parseLevel(level + 1);
    for (;;) {
      const t = peek();
      if (t?.kind !== 'op' || !PRECEDENCE[level]?.includes(t.value)) return left;
      pos++;
      left = pointwise(left, parseLevel(level + 1), BINARY[t.value] as (x: number, y: number) => number);
    }
  };
  const parseUnary = (): Value => {
    const t = peek();
    if (t?.kind === 'op' && t.value === '-') {
      pos++;
      return pointwise(0, parseUnary(), (_, y) => -y);
    }
    return parsePrimary();
  };
  const parsePrimary = (): Value => {
    const t = tokens[pos++];
    if (!t) throw new Error(`unexpected end of ${expression}`);
    if (t.kind === 'num') return t.value;
    if (t.kind === 'op' && t.value === '(') {
      const v = parseLevel(0);
      expect(')');
      return v;
    }
    if (t.kind !== 'id') throw new Error(`unexpected "${t.value}" in ${expression}`);
    const next = peek();
    if (next?.kind === 'op' && next.value === '(') {
      pos++;
      const args: Value[] = [];
      if (!(peek()?.kind === 'op' && peek()?.value === ')')) {
        args.push(parseLevel(0));
        while (peek()?.kind === 'op' && peek()?.value === ',') {
          pos++;
          args.push(parseLevel(0));
        }
      }
      expect(')');
      const [a, b, c] = args;
      if (t.value === 'IF' && a !== undefined && b !== undefined) return ifFunction(a, b, c);
      if (t.value === 'FILL' && a !== undefined && b !== undefined) return fillFunction(a, b, range);
      throw new Error(`metric math function ${t.value} is not modelled`);
    }
    const v = vars.get(t.value);
    if (v === undefined) throw new Error(`unknown id ${t.value} in ${expression}`);
    return v;
  };
  const result = parseLevel(0);
  if (pos !== tokens.length) throw new Error(`trailing input in ${expression}`);
  return result;
}

/** Evaluates metric math over plain series (period index → value); exported for the evaluator's own tests. */
export function metricMath(
  expression: string,
  series: Record<string, (number | undefined)[]>,
): (number | undefined)[] {
  const length = Math.max(0, ...Object.values(series).map((s) => s.length));
  const range = Array.from({ length }, (_, i) => i);
  const vars = new Map<string, Value>(
    Object.entries(series).map(([id, values]) => [
      id,
      new Map(values.flatMap((v, i) => (v === undefined ? [] : [[i, v] as [number, number]]))),
    ]),
  );
  const result = evaluateExpression(expression, vars, range);
  return range.map((k) => (isSeries(result) ? result.get(k) : result));
}

/** A statistic of the values of one period (or of the datapoints a step policy aggregates). */
export function aggregate(stat: string, values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  switch (stat) {
    case 'Maximum':
      return Math.max(...values);
    case 'Minimum':
      return Math.min(...values);
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'SampleCount':
      return values.length;
    default:
      throw new Error(`statistic ${stat} is not modelled`);
  }
}
