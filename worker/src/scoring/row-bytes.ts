import { encode } from './byte-writer.js';
import type { Factor, FactorMemo } from './explain.js';
import { FORMULA_START, LEVEL_TEXT, type RiskLevel } from './output.js';

/**
 * The byte pieces results rows are assembled from (row-writer.ts), each encoded once: per model and level
 * constants, and per distinct factor text and impact, cached for the worker's lifetime.
 */

/**
 * Factor messages are the library's own texts and are written unescaped inside CSV and JSON-in-CSV cells
 * alike, which lets a row copy its summary instead of building it twice; this is checked, not assumed.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be excluded
const PLAIN_MESSAGE = /^[^\u0000-\u001f"\\]*$/;

/** A factor's pieces of the row, encoded once per distinct factor. */
export interface FactorBytes {
  readonly factor: string;
  readonly source: Factor['source'];
  readonly message: Uint8Array;
  /** `; message` (summary) */
  readonly semicolonMessage: Uint8Array;
  /** `, message` (key_risks, strengths) */
  readonly commaMessage: Uint8Array;
  /** column 15/16 item up to its contribution (model factors), or whole (engagement signals); `next`: after `, ` */
  readonly item: Uint8Array;
  readonly nextItem: Uint8Array;
  /** the explanation's `{"factor", "impact", "description"}`; `next`: after `, ` */
  readonly described: Uint8Array;
  readonly nextDescribed: Uint8Array;
  /** the message needs its cell quoted */
  readonly comma: boolean;
  /** the message would start a cell as a formula */
  readonly formula: boolean;
}

const TEXTS_LIMIT = 65_536;

function factorBytes(f: Factor): FactorBytes {
  if (!PLAIN_MESSAGE.test(f.message) || !PLAIN_MESSAGE.test(f.factor))
    throw new Error(`factor text ${JSON.stringify(f)} would need escaping`);
  const common = `{""factor"": ""${f.factor}"", ""impact"": ""${f.impact}"", `;
  const item =
    `${common}""message"": ""${f.message}"", ` +
    (f.source === 'model' ? '""contribution"": ' : `""source"": ""${f.source}""}`);
  const described = `${common}""description"": ""${f.message}""}`;
  return {
    factor: f.factor,
    source: f.source,
    message: encode(f.message),
    semicolonMessage: encode(`; ${f.message}`),
    commaMessage: encode(`, ${f.message}`),
    item: encode(item),
    nextItem: encode(`, ${item}`),
    described: encode(described),
    nextDescribed: encode(`, ${described}`),
    comma: f.message.includes(','),
    formula: FORMULA_START.test(f.message),
  };
}

/**
 * Factor bytes by text and impact (a factor's impact varies from row to row, its text does not): in the
 * factor's memo when the explainer gave it one, else by message. Categorical factors are a handful of
 * constants and numeric ones repeat their values, so nearly every row finds its pieces; the cache lives as long
 * as the worker (see rowFormatter) and starts over when full, which bounds it on files of unique values.
 */
export function factorBytesCache(): (f: Factor) => FactorBytes {
  const cache = new Map<string, FactorMemo>();
  return (f) => {
    let entry = f.memo ?? cache.get(f.message);
    if (entry === undefined) {
      if (cache.size >= TEXTS_LIMIT) cache.clear();
      entry = {};
      cache.set(f.message, entry);
    }
    // a switch, not entry[f.impact]: a keyed load by a string costs a dictionary lookup on this path
    let bytes: FactorBytes | undefined;
    switch (f.impact) {
      case 'high':
        bytes = entry.high;
        break;
      case 'medium':
        bytes = entry.medium;
        break;
      case 'low':
        bytes = entry.low;
    }
    if (bytes === undefined || bytes.factor !== f.factor || bytes.source !== f.source) {
      bytes = factorBytes(f);
      entry[f.impact] = bytes;
    }
    return bytes;
  };
}

/**
 * Python's formatting of `x` as a table lookup: the texts of `k / scale` for every k, encoded once. A value
 * outside the table or near an exact tie, where the half-even rule decides, is formatted directly.
 */
export function numberTable(
  size: number,
  scale: number,
  format: (x: number) => string,
): (x: number) => Uint8Array {
  const texts = Array.from({ length: size }, (_, k) => encode(format(k / scale)));
  return (x) => {
    const scaled = x * scale;
    const k = Math.round(scaled);
    return k >= 0 && k < size && Math.abs(scaled - Math.floor(scaled) - 0.5) > 1e-6
      ? (texts[k] as Uint8Array)
      : encode(format(x));
  };
}

// Adjacent constant pieces are one piece: each copy has a fixed cost beside its bytes.
export const PIECES = {
  quote: encode('"'),
  apostrophe: encode("'"),
  comma: encode(','),
  quoteComma: encode('",'),
  zero: encode('0,'),
  one: encode('1,'),
  periodComma: encode('.,'),
  periodQuoteComma: encode('.",'),
  positiveSigns: encode('. Positive signs: '),
  contributionClose: encode('}'),
  /** between the risk_factors and protective_factors lists */
  nextList: encode(']","['),
  /** the protective list's end, then the explanation's start up to its customer id (as a JSON string) */
  explanationOpen: encode(']","{""customer_id"": '),
  explanationOpenPlainId: encode(']","{""customer_id"": ""'),
  probability: encode(', ""churn_probability"": '),
  probabilityAfterPlainId: encode('"", ""churn_probability"": '),
  riskFactors: encode('"", ""risk_factors"": ['),
  protectiveFactors: encode('], ""protective_factors"": ['),
  explanationClose: encode(']}",'),
  newline: encode('\n'),
};

/** The pieces of a row that depend only on its risk level. */
export interface LevelBytes {
  /** `,High,` */
  readonly level: Uint8Array;
  /** `%,<recommendation>,<WORDS> (` and the same with the summary cell quoted */
  readonly summaryOpen: Uint8Array;
  readonly quotedSummaryOpen: Uint8Array;
  /** `<WORDS> (`, the summary's start */
  readonly words: number;
  /** `% churn probability). <action>. Key concerns: ` */
  readonly concerns: Uint8Array;
  /** `, "risk_level": "High", "summary": "` in the explanation */
  readonly explanation: Uint8Array;
}

export function levelBytes(level: RiskLevel): LevelBytes {
  const { recommendation, words, action } = LEVEL_TEXT[level];
  return {
    level: encode(`,${level},`),
    summaryOpen: encode(`%,${recommendation},${words} (`),
    quotedSummaryOpen: encode(`%,${recommendation},"${words} (`),
    words: encode(`${words} (`).length,
    concerns: encode(`% churn probability). ${action}. Key concerns: `),
    explanation: encode(`, ""risk_level"": ""${level}"", ""summary"": ""`),
  };
}
