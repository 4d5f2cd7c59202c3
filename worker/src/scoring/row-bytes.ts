import { encode, type ByteWriter } from './byte-writer.js';
import type { Factor, FactorMemo } from './explain.js';
import { FORMULA_START, LEVEL_TEXT, type RiskLevel } from './output.js';
import { pyFixed } from './py-format.js';

/**
 * The byte pieces results rows are assembled from (row-writer.ts), each encoded once: per model constants, per
 * risk level and churn percentage, and per distinct factor text and impact, cached for the worker's lifetime.
 * Each copy into the row has a fixed cost beside its bytes, so texts that always sit side by side are one piece.
 */

/**
 * Factor messages and keys are the library's own texts and are written unescaped inside CSV and JSON-in-CSV
 * cells alike, which lets a row copy its summary instead of building it twice; this is checked, not assumed.
 * `plainText` is that check, and in the same pass says what else the writer needs to know of a text: -1 for a
 * text with a control character, `"` or `\` (one that would need escaping), else the PLAIN_* flags.
 */
const PLAIN_ASCII = 1;
const PLAIN_WITH_COMMA = 2;
function plainText(text: string): number {
  let flags = PLAIN_ASCII;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 34 || c === 92) return -1;
    if (c >= 0x80) flags &= ~PLAIN_ASCII;
    else if (c === 44) flags |= PLAIN_WITH_COMMA;
  }
  return flags;
}

/**
 * The places a factor's text takes in a row, each with its own piece: the text with what surrounds it there.
 * `next…`: after `, `; `closeNextItem`: after the previous item's contribution, with the `}` closing it.
 */
export const PLACE = {
  /** the text alone: a summary's first risk, a key_risks / strengths cell's first message */
  message: 0,
  /** `; text` (summary) */
  semicolonMessage: 1,
  /** `. Positive signs: text`, the summary's first protective factor */
  positiveMessage: 2,
  /** `, text` (key_risks, strengths) */
  commaMessage: 3,
  /** `"text`, a quoted key_risks / strengths cell's first message */
  quotedMessage: 4,
  /** column 15/16 item up to its contribution (model factors), or whole (engagement signals) */
  item: 5,
  nextItem: 6,
  closeNextItem: 7,
  /** the explanation's `{"factor", "impact", "description"}` after `, `, or opening its list */
  nextDescribed: 8,
  firstRiskDescribed: 9,
  firstProtectiveDescribed: 10,
} as const;
export type Place = (typeof PLACE)[keyof typeof PLACE];
const PLACES = Object.keys(PLACE).length;

/** What comes before and after a factor's text in each place, by factor key, impact and source. */
interface Shape {
  readonly before: readonly Uint8Array[];
  readonly after: readonly Uint8Array[];
}

function shape(factor: string, impact: Factor['impact'], source: Factor['source']): Shape {
  if (plainText(factor) < 0) throw new Error(`factor key ${JSON.stringify(factor)} would need escaping`);
  const common = `{""factor"": ""${factor}"", ""impact"": ""${impact}"", `;
  const item = `${common}""message"": ""`;
  const itemEnd = `"", ${source === 'model' ? '""contribution"": ' : `""source"": ""${source}""}`}`;
  const described = `${common}""description"": ""`;
  const texts: Record<keyof typeof PLACE, [before: string, after: string]> = {
    message: ['', ''],
    semicolonMessage: ['; ', ''],
    positiveMessage: [POSITIVE_SIGNS, ''],
    commaMessage: [', ', ''],
    quotedMessage: ['"', ''],
    item: [item, itemEnd],
    nextItem: [`, ${item}`, itemEnd],
    closeNextItem: [`}, ${item}`, itemEnd],
    nextDescribed: [`, ${described}`, '""}'],
    firstRiskDescribed: [`${RISK_FACTORS}${described}`, '""}'],
    firstProtectiveDescribed: [`${PROTECTIVE_FACTORS}${described}`, '""}'],
  };
  const before = new Array<Uint8Array>(PLACES);
  const after = new Array<Uint8Array>(PLACES);
  for (const [name, index] of Object.entries(PLACE)) {
    const [head, tail] = texts[name as keyof typeof PLACE];
    before[index] = encode(head);
    after[index] = encode(tail);
  }
  return { before, after };
}

/**
 * A factor's pieces of the row. A factor whose text holds a customer's own amount ("Low total charges to date
 * ($1,889.51)") is seldom shown in a second row: in its first, each place gets the bytes around the text and the
 * text itself, written in place (encoding each piece was a tenth of scoreCsv's CPU on a file of distinct
 * totals). Once shown again (`shownAgain`), each place's piece is encoded the first time it is needed and kept,
 * one copy per place instead of three.
 */
export class FactorBytes {
  readonly factor: string;
  readonly source: Factor['source'];
  /** the message needs its cell quoted */
  readonly comma: boolean;
  /** the message would start a cell as a formula */
  readonly formula: boolean;
  /** set by the cache when it hands this out for another row */
  shownAgain = false;
  readonly #text: string;
  readonly #ascii: boolean;
  readonly #shape: Shape;
  #textBytes?: Uint8Array;
  #pieces?: (Uint8Array | undefined)[];

  constructor(f: Factor, shape: Shape) {
    const plain = plainText(f.message);
    if (plain < 0) throw new Error(`factor text ${JSON.stringify(f)} would need escaping`);
    this.factor = f.factor;
    this.source = f.source;
    this.#text = f.message;
    this.#ascii = (plain & PLAIN_ASCII) !== 0;
    this.#shape = shape;
    this.comma = (plain & PLAIN_WITH_COMMA) !== 0;
    this.formula = FORMULA_START.test(f.message);
  }

  /** Appends the factor's piece for `place`. */
  write(out: ByteWriter, place: Place): void {
    const piece = this.#pieces?.[place];
    if (piece !== undefined) return out.bytes(piece);
    const before = this.#shape.before[place] as Uint8Array;
    const after = this.#shape.after[place] as Uint8Array;
    if (this.shownAgain) {
      const joined = Buffer.concat([before, this.#encoded(), after]);
      (this.#pieces ??= new Array<Uint8Array | undefined>(PLACES).fill(undefined))[place] = joined;
      return out.bytes(joined);
    }
    out.bytes(before);
    if (this.#ascii) out.ascii(this.#text);
    else out.bytes(this.#encoded());
    out.bytes(after);
  }

  #encoded(): Uint8Array {
    return (this.#textBytes ??= encode(this.#text));
  }
}

const TEXTS_LIMIT = 65_536;

/**
 * Factor bytes by text and impact (a factor's impact varies from row to row, its text does not): in the
 * factor's memo when the explainer gave it one, else by message. Categorical factors are a handful of
 * constants and numeric ones repeat their values, so nearly every row finds its pieces; the cache lives as long
 * as the worker (see rowFormatter) and starts over when full, which bounds it on files of unique values. The
 * shapes are few: one per factor key, impact and source.
 */
export function factorBytesCache(): (f: Factor) => FactorBytes {
  const cache = new Map<string, FactorMemo>();
  const shapes = new Map<string, Shape>();
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
    if (bytes !== undefined && bytes.factor === f.factor && bytes.source === f.source) {
      bytes.shownAgain = true;
      return bytes;
    }
    const key = `${f.impact} ${f.source} ${f.factor}`;
    let s = shapes.get(key);
    if (s === undefined) shapes.set(key, (s = shape(f.factor, f.impact, f.source)));
    bytes = new FactorBytes(f, s);
    entry[f.impact] = bytes;
    return bytes;
  };
}

/**
 * The index `k` of `x` in a table of the texts of `k / scale` (k < size), or -1 for a value outside the table or
 * near an exact tie, where the half-even rule decides and the value must be formatted directly.
 */
export function tableIndex(size: number, scale: number): (x: number) => number {
  return (x) => {
    const scaled = x * scale;
    const k = Math.round(scaled);
    return k >= 0 && k < size && Math.abs(scaled - Math.floor(scaled) - 0.5) > 1e-6 ? k : -1;
  };
}

/** Python's formatting of `x` as a table lookup: the texts of `k / scale` for every k, encoded once. */
export function numberTable(
  size: number,
  scale: number,
  format: (x: number) => string,
): (x: number) => Uint8Array {
  const texts = Array.from({ length: size }, (_, k) => encode(format(k / scale)));
  const index = tableIndex(size, scale);
  return (x) => {
    const k = index(x);
    return k >= 0 ? (texts[k] as Uint8Array) : encode(format(x));
  };
}

const POSITIVE_SIGNS = '. Positive signs: ';
const RISK_FACTORS = '"", ""risk_factors"": [';
const PROTECTIVE_FACTORS = '], ""protective_factors"": [';
const EXPLANATION_OPEN = ']","{""customer_id"": ';

// Adjacent constant pieces are one piece: each copy has a fixed cost beside its bytes. `close…`: the same
// after a model factor's contribution, with the `}` that closes its item.
export const PIECES = {
  quote: encode('"'),
  apostrophe: encode("'"),
  comma: encode(','),
  quoteComma: encode('",'),
  zero: encode('0,'),
  one: encode('1,'),
  periodComma: encode('.,'),
  periodQuoteComma: encode('.",'),
  /** between the risk_factors and protective_factors lists */
  nextList: encode(']","['),
  closeNextList: encode('}]","['),
  /** the protective list's end, then the explanation's start up to its customer id (as a JSON string) */
  explanationOpen: encode(EXPLANATION_OPEN),
  closeExplanationOpen: encode(`}${EXPLANATION_OPEN}`),
  explanationOpenPlainId: encode(`${EXPLANATION_OPEN}""`),
  closeExplanationOpenPlainId: encode(`}${EXPLANATION_OPEN}""`),
  riskFactors: encode(RISK_FACTORS),
  protectiveFactors: encode(PROTECTIVE_FACTORS),
  explanationClose: encode(']}",'),
  newline: encode('\n'),
};

/** The pieces of a row that depend only on its risk level and its churn x 100 (one decimal). */
export interface HeadBytes {
  /** `,High,71.5%,<recommendation>,<WORDS> (71.5% churn probability). <action>. Key concerns: ` */
  readonly open: Uint8Array;
  /** the same with the summary cell quoted */
  readonly quotedOpen: Uint8Array;
  /** bytes of the summary's start (`<WORDS> (` to `Key concerns: `) at the end of `open` */
  readonly summary: number;
  /** `, "churn_probability": 71.5, "risk_level": "High", "summary": "` in the explanation */
  readonly explanation: Uint8Array;
  /** the same after a plain customer id, with the quote that closes it */
  readonly explanationAfterPlainId: Uint8Array;
}

function headBytes(level: RiskLevel, percent: string): HeadBytes {
  const { recommendation, words, action } = LEVEL_TEXT[level];
  const summary = `${words} (${percent}% churn probability). ${action}. Key concerns: `;
  const explanation = `, ""churn_probability"": ${percent}, ""risk_level"": ""${level}"", ""summary"": ""`;
  return {
    open: encode(`,${level},${percent}%,${recommendation},${summary}`),
    quotedOpen: encode(`,${level},${percent}%,${recommendation},"${summary}`),
    summary: encode(summary).length,
    explanation: encode(explanation),
    explanationAfterPlainId: encode(`""${explanation}`),
  };
}

/** Rows' churn x 100 is one of 1001 texts (0.0 to 100.0) bar exact ties, so their heads are built once each. */
const PERCENTS = 1001;

/** Head pieces by level and churn probability `p`, built when first needed. */
export function headCache(): (level: RiskLevel, p: number) => HeadBytes {
  const index = tableIndex(PERCENTS, 10);
  const table = (): (HeadBytes | undefined)[] => new Array<HeadBytes | undefined>(PERCENTS).fill(undefined);
  const heads: Record<RiskLevel, (HeadBytes | undefined)[]> = {
    High: table(),
    Medium: table(),
    Low: table(),
  };
  return (level, p) => {
    const x = p * 100;
    const k = index(x);
    if (k < 0) return headBytes(level, pyFixed(x, 1));
    const byPercent = heads[level];
    return (byPercent[k] ??= headBytes(level, pyFixed(k / 10, 1)));
  };
}
