import { encode, type ByteWriter } from './byte-writer.js';
import type { Confidence } from './confidence.js';
import type { Explanation, Factor } from './explain.js';
import type { Manifest } from './manifest.js';
import {
  CONTRIBUTION_DIGITS,
  CONTRIBUTION_SCALE,
  contributionText,
  OUTPUT_COLUMNS,
  textCell,
  type RiskLevel,
} from './output.js';
import { pyFixed, pyRound } from './py-format.js';
import { factorBytesCache, headCache, numberTable, PIECES, PLACE, type FactorBytes } from './row-bytes.js';

/**
 * The row writer of the results CSV (output.ts holds its contract): each row assembled from byte pieces
 * encoded once per model, level and distinct factor text, and cached for the worker's lifetime.
 */

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

/** Contributions below this many units of the last digit (|x| < 1e11) are written as digits, not as text. */
const PLAIN_CONTRIBUTION = 1e15;

const fallback = (factor: string, impact: Factor['impact'], message: string): Factor => ({
  factor,
  impact,
  message,
  source: 'model',
});

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
  /** the cells up to the summary's messages, and the explanation's up to its summary */
  const heads = headCache();
  const modelColumns = `${textCell(manifest.model_type)},${textCell(manifest.model_version)},`;
  /** the confidence cell, the model columns and the start of the risk_factors list */
  const confidence: Record<Confidence, Uint8Array> = {
    high: encode(`high,${modelColumns}"[`),
    medium: encode(`medium,${modelColumns}"[`),
    low: encode(`low,${modelColumns}"[`),
  };
  /** churn_probability, retention_probability, each with its cell's comma */
  const rounded = numberTable(1001, 1000, (x) => `${pyRound(x, 3)},`);
  /**
   * retention_prediction, retention_score (the integer part, 0 to 100) and the confidence piece as one piece,
   * by (prediction × 101 + score) × 3 + confidence, built when first needed
   */
  const tails = new Array<Uint8Array | undefined>(2 * 101 * 3).fill(undefined);
  const tail = (retained: boolean, score: number, rating: Confidence): Uint8Array => {
    const key = ((retained ? 101 : 0) + score) * 3 + (rating === 'high' ? 0 : rating === 'medium' ? 1 : 2);
    return (tails[key] ??= encode(`${retained ? 1 : 0},${score},${rating},${modelColumns}"[`));
  };
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

  /** Up to 2 messages with `; ` between them, the protective ones after `. Positive signs: `. */
  const summaryMessages = (out: ByteWriter, factors: readonly FactorBytes[], risk: boolean): void => {
    for (let i = 0; i < factors.length && i < 2; i++) {
      const f = factors[i] as FactorBytes;
      f.write(out, i > 0 ? PLACE.semicolonMessage : risk ? PLACE.message : PLACE.positiveMessage);
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
    const first = factors[0] as FactorBytes;
    if (first.formula) {
      if (quoted) out.bytes(PIECES.quote);
      out.bytes(PIECES.apostrophe);
      first.write(out, PLACE.message);
    } else first.write(out, quoted ? PLACE.quotedMessage : PLACE.message);
    for (let i = 1; i < n; i++) (factors[i] as FactorBytes).write(out, PLACE.commaMessage);
    out.bytes(quoted ? PIECES.quoteComma : PIECES.comma);
  };
  /**
   * column 15/16's items: every factor; model factors with their contribution, engagement signals marked as such.
   * Returns whether the last item is a model factor's, still to be closed by the next piece (`close…`).
   */
  const factorList = (
    out: ByteWriter,
    factors: readonly Factor[],
    listed: readonly FactorBytes[],
  ): boolean => {
    let open = false;
    for (let i = 0; i < factors.length; i++) {
      const { contribution: x } = factors[i] as Factor;
      const b = listed[i] as FactorBytes;
      b.write(out, i === 0 ? PLACE.item : open ? PLACE.closeNextItem : PLACE.nextItem);
      open = x !== undefined;
      if (x === undefined) continue;
      const scaled = Math.round(x * CONTRIBUTION_SCALE);
      if (Math.abs(scaled) < PLAIN_CONTRIBUTION) out.decimal(scaled, CONTRIBUTION_DIGITS);
      else out.text(contributionText(x));
    }
    return open;
  };
  /** the explanation's lists, from their key: up to 3 factors */
  const describedList = (out: ByteWriter, factors: readonly FactorBytes[], risk: boolean): void => {
    if (factors.length === 0) return out.bytes(risk ? PIECES.riskFactors : PIECES.protectiveFactors);
    const first = factors[0] as FactorBytes;
    first.write(out, risk ? PLACE.firstRiskDescribed : PLACE.firstProtectiveDescribed);
    for (let i = 1; i < factors.length && i < 3; i++)
      (factors[i] as FactorBytes).write(out, PLACE.nextDescribed);
  };

  return {
    header: OUTPUT_COLUMNS.join(',') + '\n',
    riskLevel,
    write(out, row) {
      const p = row.probability;
      const level = riskLevel(p);
      const head = heads(level, p);
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
      const quoteSummary = anyComma(risks, 2) || anyComma(protective, 2);
      out.bytes(quoteSummary ? head.quotedOpen : head.open);
      const summaryStart = out.length - head.summary;
      summaryMessages(out, risks, true);
      summaryMessages(out, protective, false);
      out.bytes(quoteSummary ? PIECES.periodQuoteComma : PIECES.periodComma);
      const summaryEnd = out.length - (quoteSummary ? 2 : 1);
      messagesCell(out, risks);
      messagesCell(out, protective);

      const stay = 1 - p;
      out.bytes(rounded(p));
      out.bytes(rounded(stay));
      const retained = stay >= retention;
      const score = Math.trunc(stay * 100);
      if (score >= 0 && score <= 100) out.bytes(tail(retained, score, row.confidence));
      else {
        out.bytes(retained ? PIECES.one : PIECES.zero);
        out.text(`${score},`);
        out.bytes(confidence[row.confidence]);
      }
      const riskOpen = factorList(out, explanation.risks, riskBytes);
      out.bytes(riskOpen ? PIECES.closeNextList : PIECES.nextList);
      const protectiveOpen = factorList(out, explanation.protective, protectiveBytes);

      if (kind === ESCAPED_ID) {
        out.bytes(protectiveOpen ? PIECES.closeExplanationOpen : PIECES.explanationOpen);
        out.text(jsonInCell(id));
        out.bytes(head.explanation);
      } else {
        out.bytes(protectiveOpen ? PIECES.closeExplanationOpenPlainId : PIECES.explanationOpenPlainId);
        out.repeat(idStart, idEnd);
        out.bytes(head.explanationAfterPlainId);
      }
      out.repeat(summaryStart, summaryEnd);
      describedList(out, risks, true);
      describedList(out, protective, false);
      out.bytes(PIECES.explanationClose);
      out.repeat(idStart, idEnd);
      out.bytes(PIECES.newline);
    },
  };
}
