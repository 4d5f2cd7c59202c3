import { encode, type ByteWriter } from './byte-writer.js';
import type { Confidence, Explanation, Factor, FactorMemo } from './explain.js';
import type { Manifest } from './manifest.js';
import { pyFixed, pyRound } from './py-format.js';

/**
 * The results CSV (spec/csv-io.md §8): the existing 17 columns in order, formatted as the Python worker
 * wrote them, plus `customer_id` (lessons #28). Plain RFC 4180, `\n` line ends, no BOM.
 *
 * Risk bands come from the manifest thresholds (High > 0.6, Medium > 0.3), the one source of truth for
 * the file; note that the API and UI band `churn_probability` themselves at 0.7/0.4 (csv-io §10).
 */
export const OUTPUT_COLUMNS = [
  'customerID',
  'risk_level',
  'churn_risk_pct',
  'recommendation',
  'summary',
  'key_risks',
  'strengths',
  'churn_probability',
  'retention_probability',
  'retention_prediction',
  'retention_score',
  'confidence',
  'model_type',
  'model_version',
  'risk_factors',
  'protective_factors',
  'explanation',
  'customer_id',
] as const;

export type RiskLevel = 'High' | 'Medium' | 'Low';

const LEVEL_TEXT: Record<RiskLevel, { recommendation: string; words: string; action: string }> = {
  High: {
    recommendation: 'HIGH RISK - Immediate intervention needed',
    words: 'HIGH RISK',
    action: 'Immediate intervention recommended',
  },
  Medium: {
    recommendation: 'MEDIUM RISK - Proactive engagement recommended',
    words: 'MEDIUM RISK',
    action: 'Proactive engagement suggested',
  },
  Low: { recommendation: 'LOW RISK - Continue monitoring', words: 'LOW RISK', action: 'Continue monitoring' },
};

export interface ScoredRow {
  readonly customerId: string;
  readonly probability: number;
  readonly explanation: Explanation;
  readonly confidence: Confidence;
}

export interface RowFormatter {
  readonly header: string;
  riskLevel(probability: number): RiskLevel;
  /** appends one CSV line, `\n`-terminated */
  write(out: ByteWriter, row: ScoredRow): void;
}

/** Cells a spreadsheet would run as a formula; text cells starting so get a leading `'` (OWASP). */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\n\r]/;

export function csvCell(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A user-controlled text cell: neutralised against CSV injection, then quoted as needed. */
export function textCell(text: string): string {
  return csvCell(FORMULA_START.test(text) ? `'${text}` : text);
}

/**
 * The three JSON columns are always quoted CSV cells, so their JSON is written with every `"` already
 * doubled instead of being built and then escaped: no second pass over the row. The customer id, the one
 * user-supplied string, goes through JSON.stringify first unless it is plain.
 */
const jsonInCell = (text: string): string => JSON.stringify(text).replaceAll('"', '""');

/** needs CSV quoting or JSON escaping */
const ESCAPED_ID = 0;
const PLAIN_ID = 1;
const PLAIN_ASCII_ID = 2;
type IdKind = typeof ESCAPED_ID | typeof PLAIN_ID | typeof PLAIN_ASCII_ID;

/**
 * An id that is its own CSV cell and its own JSON string body: no formula start, quote, comma, backslash,
 * control character or surrogate. Nearly every id is, and is then written once and copied; an ASCII one (most)
 * byte by byte, cheaper than the call into the UTF-8 encoder for a dozen characters.
 */
function idKind(id: string): IdKind {
  const first = id.charCodeAt(0);
  if (first === 61 || first === 43 || first === 45 || first === 64) return ESCAPED_ID; // = + - @
  let ascii = true;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x20 || c === 34 || c === 44 || c === 92 || (c >= 0xd800 && c <= 0xdfff)) return ESCAPED_ID;
    if (c >= 0x80) ascii = false;
  }
  return ascii ? PLAIN_ASCII_ID : PLAIN_ID;
}

/**
 * Factor messages are the library's own texts and are written unescaped inside CSV and JSON-in-CSV cells
 * alike, which lets a row copy its summary instead of building it twice; this is checked, not assumed.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be excluded
const PLAIN_MESSAGE = /^[^\u0000-\u001f"\\]*$/;

/** Digits of a model factor's `contribution` in the file; the exact value stays in the library's output. */
export const CONTRIBUTION_DIGITS = 4;

const CONTRIBUTION_SCALE = 10 ** CONTRIBUTION_DIGITS;

/**
 * A contribution rounded to CONTRIBUTION_DIGITS in shortest form (`0.5346`, `1.0`): plain arithmetic
 * instead of toFixed, which is several times slower (these digits need no Python parity).
 */
export function contributionText(x: number): string {
  const rounded = Math.round(x * CONTRIBUTION_SCALE) / CONTRIBUTION_SCALE;
  return Number.isInteger(rounded) ? `${rounded}.0` : String(rounded);
}

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
function factorBytesCache(): (f: Factor) => FactorBytes {
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

/** Contributions below this many units of the last digit (|x| < 1e11) are written as digits, not as text. */
const PLAIN_CONTRIBUTION = 1e15;

/**
 * Python's formatting of `x` as a table lookup: the texts of `k / scale` for every k, encoded once. A value
 * outside the table or near an exact tie, where the half-even rule decides, is formatted directly.
 */
function numberTable(size: number, scale: number, format: (x: number) => string): (x: number) => Uint8Array {
  const texts = Array.from({ length: size }, (_, k) => encode(format(k / scale)));
  return (x) => {
    const scaled = x * scale;
    const k = Math.round(scaled);
    return k >= 0 && k < size && Math.abs(scaled - Math.floor(scaled) - 0.5) > 1e-6
      ? (texts[k] as Uint8Array)
      : encode(format(x));
  };
}

const fallback = (factor: string, impact: Factor['impact'], message: string): Factor => ({
  factor,
  impact,
  message,
  source: 'model',
});

// Adjacent constant pieces are one piece: each copy has a fixed cost beside its bytes.
const PIECES = {
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
interface LevelBytes {
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

function levelBytes(level: RiskLevel): LevelBytes {
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

const formatters = new WeakMap<Manifest, RowFormatter>();

/**
 * The formatter of a model, built once: its tables and caches cost more to build than a small file costs to
 * score, and they are shared by every job (one thread: no locking needed).
 */
export function rowFormatter(manifest: Manifest): RowFormatter {
  let formatter = formatters.get(manifest);
  if (formatter === undefined) {
    formatter = createRowFormatter(manifest);
    formatters.set(manifest, formatter);
  }
  return formatter;
}

export function createRowFormatter(manifest: Manifest): RowFormatter {
  const { high, medium, retention } = manifest.thresholds;
  const riskLevel = (p: number): RiskLevel => (p > high ? 'High' : p > medium ? 'Medium' : 'Low');
  const levels: Record<RiskLevel, LevelBytes> = {
    High: levelBytes('High'),
    Medium: levelBytes('Medium'),
    Low: levelBytes('Low'),
  };
  const modelColumns = `${textCell(manifest.model_type)},${textCell(manifest.model_version)},`;
  /** the confidence cell, the model columns and the start of the risk_factors list */
  const confidence: Record<Confidence, Uint8Array> = {
    high: encode(`high,${modelColumns}"[`),
    medium: encode(`medium,${modelColumns}"[`),
    low: encode(`low,${modelColumns}"[`),
  };
  /** churn x 100 with one decimal (churn_risk_pct, the summary, the explanation's churn_probability) */
  const percent = numberTable(1001, 10, (x) => pyFixed(x, 1));
  /** churn_probability, retention_probability, each with its cell's comma */
  const rounded = numberTable(1001, 1000, (x) => `${pyRound(x, 3)},`);
  /** retention_score, the integer part (not a rounding: the table's entries are never near a tie) */
  const scores = Array.from({ length: 101 }, (_, k) => encode(`${k},`));
  const bytes = factorBytesCache();
  // reused from row to row
  const listedRisks: FactorBytes[] = [];
  const listedProtective: FactorBytes[] = [];
  const listed = (factors: readonly Factor[], into: FactorBytes[]): FactorBytes[] => {
    into.length = 0;
    for (let i = 0; i < factors.length; i++) into.push(bytes(factors[i] as Factor));
    return into;
  };

  /** csv-io §8's fallbacks when the row has no risk factor / no protective factor. */
  function shown(listed: FactorBytes[], risk: boolean, level: RiskLevel, pct: string): FactorBytes[] {
    if (listed.length > 0) return listed;
    if (risk) {
      return [
        bytes(
          level === 'High'
            ? fallback(
                'high_churn_probability',
                'high',
                `Churn probability of ${pct}% indicates significant risk`,
              )
            : level === 'Medium'
              ? fallback(
                  'medium_churn_probability',
                  'medium',
                  `Churn probability of ${pct}% requires monitoring`,
                )
              : fallback('baseline_risk', 'low', 'Standard customer risk profile'),
        ),
      ];
    }
    return level === 'Low'
      ? [
          bytes(
            fallback(
              'low_churn_probability',
              'high',
              `Low churn probability of ${pct}% indicates strong retention`,
            ),
          ),
        ]
      : [];
  }

  /** Up to `n` messages with `; ` between them. */
  const summaryMessages = (out: ByteWriter, factors: readonly FactorBytes[], n: number): void => {
    for (let i = 0; i < factors.length && i < n; i++) {
      const f = factors[i] as FactorBytes;
      out.bytes(i === 0 ? f.message : f.semicolonMessage);
    }
  };
  const anyComma = (factors: readonly FactorBytes[], n: number): boolean => {
    for (let i = 0; i < factors.length && i < n; i++) if ((factors[i] as FactorBytes).comma) return true;
    return false;
  };
  /** key_risks / strengths: up to 3 messages joined by `, `, as a text cell, then `,` */
  const messagesCell = (out: ByteWriter, factors: readonly FactorBytes[]): void => {
    const n = Math.min(factors.length, 3);
    if (n === 0) return out.bytes(PIECES.comma);
    const quoted = n > 1 || anyComma(factors, n);
    if (quoted) out.bytes(PIECES.quote);
    const first = factors[0] as FactorBytes;
    if (first.formula) out.bytes(PIECES.apostrophe);
    out.bytes(first.message);
    for (let i = 1; i < n; i++) out.bytes((factors[i] as FactorBytes).commaMessage);
    out.bytes(quoted ? PIECES.quoteComma : PIECES.comma);
  };
  /** column 15/16's items: every factor; model factors with their contribution, engagement signals marked as such */
  const factorList = (out: ByteWriter, factors: readonly Factor[], listed: readonly FactorBytes[]): void => {
    for (let i = 0; i < factors.length; i++) {
      const { contribution: x } = factors[i] as Factor;
      const b = listed[i] as FactorBytes;
      out.bytes(i === 0 ? b.item : b.nextItem);
      if (x === undefined) continue;
      const scaled = Math.round(x * CONTRIBUTION_SCALE);
      if (Math.abs(scaled) < PLAIN_CONTRIBUTION) out.decimal(scaled, CONTRIBUTION_DIGITS);
      else out.text(contributionText(x));
      out.bytes(PIECES.contributionClose);
    }
  };
  /** the explanation's lists: up to 3 factors */
  const describedList = (out: ByteWriter, factors: readonly FactorBytes[]): void => {
    for (let i = 0; i < factors.length && i < 3; i++) {
      const f = factors[i] as FactorBytes;
      out.bytes(i === 0 ? f.described : f.nextDescribed);
    }
  };

  return {
    header: OUTPUT_COLUMNS.join(',') + '\n',
    riskLevel,
    write(out, row) {
      const p = row.probability;
      const level = riskLevel(p);
      const l = levels[level];
      const { explanation } = row;
      const riskBytes = listed(explanation.risks, listedRisks);
      const protectiveBytes = listed(explanation.protective, listedProtective);
      const needsFallback = riskBytes.length === 0 || protectiveBytes.length === 0;
      const pct = needsFallback ? pyFixed(p * 100, 1) : '';
      const risks = shown(riskBytes, true, level, pct);
      const protective = shown(protectiveBytes, false, level, pct);

      const id = row.customerId;
      const kind = idKind(id);
      const idStart = out.length;
      if (kind === PLAIN_ASCII_ID) out.ascii(id);
      else out.text(kind === PLAIN_ID ? id : textCell(id));
      const idEnd = out.length;
      // churn x 100 appears three times: churn_risk_pct, the summary and the explanation
      const percentBytes = percent(p * 100);
      out.bytes(l.level);
      out.bytes(percentBytes);
      const quoteSummary = anyComma(risks, 2) || anyComma(protective, 2);
      out.bytes(quoteSummary ? l.quotedSummaryOpen : l.summaryOpen);
      const summaryStart = out.length - l.words;
      out.bytes(percentBytes);
      out.bytes(l.concerns);
      summaryMessages(out, risks, 2);
      if (protective.length > 0) {
        out.bytes(PIECES.positiveSigns);
        summaryMessages(out, protective, 2);
      }
      out.bytes(quoteSummary ? PIECES.periodQuoteComma : PIECES.periodComma);
      const summaryEnd = out.length - (quoteSummary ? 2 : 1);
      messagesCell(out, risks);
      messagesCell(out, protective);

      const stay = 1 - p;
      out.bytes(rounded(p));
      out.bytes(rounded(stay));
      out.bytes(stay >= retention ? PIECES.one : PIECES.zero);
      const score = Math.trunc(stay * 100);
      if (score >= 0 && score <= 100) out.bytes(scores[score] as Uint8Array);
      else out.text(`${score},`);
      out.bytes(confidence[row.confidence]);
      factorList(out, explanation.risks, riskBytes);
      out.bytes(PIECES.nextList);
      factorList(out, explanation.protective, protectiveBytes);

      if (kind === ESCAPED_ID) {
        out.bytes(PIECES.explanationOpen);
        out.text(jsonInCell(id));
        out.bytes(PIECES.probability);
      } else {
        out.bytes(PIECES.explanationOpenPlainId);
        out.repeat(idStart, idEnd);
        out.bytes(PIECES.probabilityAfterPlainId);
      }
      out.bytes(percentBytes);
      out.bytes(l.explanation);
      out.repeat(summaryStart, summaryEnd);
      out.bytes(PIECES.riskFactors);
      describedList(out, risks);
      out.bytes(PIECES.protectiveFactors);
      describedList(out, protective);
      out.bytes(PIECES.explanationClose);
      out.repeat(idStart, idEnd);
      out.bytes(PIECES.newline);
    },
  };
}
