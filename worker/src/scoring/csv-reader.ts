import Papa from 'papaparse';
import { inputErrors } from './errors.js';
import { refuseNonCsv } from './file-type.js';
import { textDecoding, type InputEncoding, type TextDecoding } from './text-decoder.js';
import { isMissingCell, type DecimalSeparator } from './values.js';

/**
 * Bytes → CSV records, streaming. Parsing follows pandas' defaults where the spec asks for them
 * (spec/csv-io.md §1: `"` quoting, blank lines skipped, cells not trimmed), reads what else spreadsheets
 * save (other delimiters, any line breaks, UTF-16 and Windows-1252: text-decoder.ts), and turns every way
 * a file can be unreadable into a user-safe InputError.
 *
 * Ragged rows are decided per row: a short row is read as if its missing trailing cells were empty (as
 * pandas does); a long row is accepted when its extra cells are empty (trailing commas, as spreadsheets
 * write them) and rejected otherwise, because extra values almost always mean an unquoted comma that has
 * shifted every later value into the wrong column. Records whose cells are all empty are skipped and
 * counted, so they neither fail the file nor produce an output row.
 */

/** The input bytes: a Readable, any async iterable of chunks, or chunks already in memory. */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** A record larger than this (in characters) fails cleanly instead of buffering an unclosed quote to the end of the file. */
export const MAX_RECORD_BYTES = 1024 * 1024;

/** How the file writes its records and numbers, final once the header is read. */
export interface Dialect {
  readonly delimiter: string;
  readonly decimal: DecimalSeparator;
}

export interface CsvRecords {
  /** the header record as read */
  readonly header: readonly string[];
  /** data records in file order, `size` at a time (the last batch may be shorter) */
  batches(size: number): AsyncGenerator<string[][], void>;
  /** records read so far, and how many of them were skipped for having no value at all */
  readonly counts: { readonly records: number; readonly blank: number };
  /** the encoding the file is read in, final once every batch is read */
  readonly encoding: InputEncoding;
  readonly dialect: Dialect;
}

/** Reads up to and including the header; throws InputError('empty_file') when there is none. */
export async function openCsv(source: ByteSource): Promise<CsvRecords> {
  const dialect: { delimiter: string; decimal: DecimalSeparator } = { delimiter: ',', decimal: '.' };
  const decoder = textDecoding();
  const chunks = recordChunks(source, dialect, decoder);
  const counts = { records: 0, blank: 0 };
  let pending: string[][] = [];
  let header: string[] | undefined;
  while (header === undefined) {
    const next = await chunks.next();
    if (next.done) throw inputErrors.emptyFile();
    pending = next.value;
    header = pending.shift();
  }
  const width = header.length;
  async function* batches(size: number): AsyncGenerator<string[][], void> {
    let batch: string[][] = [];
    const accept = (records: string[][]): void => {
      for (const record of records) {
        counts.records++;
        if (record.length > width) checkExtraCells(record, width, counts.records + 1, dialect.delimiter);
        if (isBlank(record)) counts.blank++;
        else batch.push(record);
      }
    };
    accept(pending);
    pending = [];
    for (;;) {
      while (batch.length >= size) {
        yield batch.slice(0, size);
        batch = batch.slice(size);
      }
      const next = await chunks.next();
      if (next.done) break;
      accept(next.value);
    }
    if (batch.length > 0) yield batch;
  }
  return {
    header,
    batches,
    counts,
    get encoding() {
      return decoder.encoding;
    },
    dialect,
  };
}

function isBlank(record: readonly string[]): boolean {
  for (const cell of record) if (!isMissingCell(cell)) return false;
  return true;
}

function checkExtraCells(
  record: readonly string[],
  width: number,
  recordNumber: number,
  delimiter: string,
): void {
  for (let i = width; i < record.length; i++) {
    if ((record[i] as string).trim() !== '') {
      throw inputErrors.malformedCsv({ record: recordNumber, fields: record.length, width, delimiter });
    }
  }
}

/**
 * Text is handed to the parser at most this many characters at a time, so a record that started in the
 * carried-over text is the only one that can exceed MAX_RECORD_BYTES (see tooLong).
 */
const PIECE_CHARS = 64 * 1024;

/**
 * Records parsed from each chunk of the source's text.
 *
 * Papa Parse's core parser (measured ~5x faster than csv-parse on quoted Telco exports, worker/bench) is
 * driven directly: each call parses the text carried over from the last call plus a new piece and
 * leaves an incomplete last record (`ignoreLastRow`) in the carry. Its quoting is RFC 4180 with the
 * leniency pandas has: a quote inside an unquoted cell is text; a closing quote followed by anything
 * but a delimiter or line break is malformed.
 */
async function* recordChunks(
  source: ByteSource,
  dialect: { delimiter: string; decimal: DecimalSeparator },
  decoder: TextDecoding,
): AsyncGenerator<string[][]> {
  let carry = '';
  /** physical line on which `carry` starts */
  let carryLine = 1;
  let parser: Papa.Parser | undefined;
  const toLf = lineBreaksToLf();
  const parse = (piece: string, last: boolean): string[][] => {
    let text = carry + piece;
    if (!parser) {
      if (!last && !enoughToSniff(text)) {
        carry = text;
        return [];
      }
      const sniffed = sniffDialect(text, last);
      dialect.delimiter = sniffed.delimiter;
      // Excel separates lists with ";" in exactly the locales whose decimal mark is a comma (pandas' reading of
      // such a file is `sep=';', decimal=','`); a comma-separated file cannot have one unquoted.
      dialect.decimal = sniffed.delimiter === ';' ? ',' : '.';
      parser = new Papa.Parser({ delimiter: sniffed.delimiter, newline: '\n', quoteChar: '"' });
      if (sniffed.skip > 0) {
        text = text.slice(sniffed.skip);
        carryLine++;
      }
    }
    const result = parser.parse(text, 0, !last) as PapaResult;
    const records = result.data;
    for (const error of result.errors) {
      // An error in the record left for the next call is judged again once that record is complete.
      if (error.row < records.length || last)
        throw inputErrors.malformedCsv({
          unclosedQuoteNearLine: carryLine + countLineBreaks(text, error.index),
        });
    }
    if (text.length > MAX_RECORD_BYTES && recordLength(records[0]) > MAX_RECORD_BYTES)
      throw tooLong(carryLine);
    const consumed = last ? text.length : result.meta.cursor;
    carryLine += countLineBreaks(text, consumed);
    carry = text.slice(consumed);
    if (carry.length > MAX_RECORD_BYTES) throw tooLong(carryLine);
    return withoutEmptyLines(records);
  };
  for await (const chunk of refuseNonCsv(source)) {
    const text = toLf(decoder.decode(chunk), false);
    const records: string[][] = [];
    for (let at = 0; at < text.length; at += PIECE_CHARS) {
      for (const record of parse(text.slice(at, at + PIECE_CHARS), false)) records.push(record);
    }
    if (records.length > 0) yield records;
  }
  const tail = toLf(decoder.end(), true);
  yield carry === '' && tail === '' ? [] : parse(tail, true);
}

interface PapaResult {
  data: string[][];
  errors: { row: number; index: number }[];
  meta: { cursor: number };
}

/**
 * Every CR, LF and CRLF becomes LF, so one parser reads any mix of them. pandas' C tokenizer likewise ends
 * a record at each (pandas/_libs/src/parser/tokenizer.c: with no `lineterminator`, `\r` enters EAT_CRNL,
 * which swallows a following `\n`); unlike pandas, a CR inside a quoted cell is read as LF too, which
 * keeps this to one native replace on the text that has a CR at all. A CR at the end of a chunk waits
 * for the next one, so a CRLF split between chunks stays one line break.
 */
function lineBreaksToLf(): (text: string, last: boolean) => string {
  let pendingCr = false;
  return (chunk, last) => {
    let text = pendingCr ? `\r${chunk}` : chunk;
    pendingCr = !last && text.endsWith('\r');
    if (pendingCr) text = text.slice(0, -1);
    return text.includes('\r') ? text.replace(CR_LINE_BREAK, '\n') : text;
  };
}

const CR_LINE_BREAK = /\r\n?/g;

/** Records the delimiter is guessed from (as Papa Parse's guessDelimiter previews 10 rows). */
const SNIFF_RECORDS = 10;
/** ...or this much text, if its records are longer. */
const SNIFF_CHARS = 64 * 1024;
const DELIMITERS = [',', ';', '\t', '|'];

function enoughToSniff(text: string): boolean {
  if (text.length >= SNIFF_CHARS) return true;
  let breaks = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1))
    if (++breaks > SNIFF_RECORDS) return true;
  return false;
}

/**
 * The delimiter, from Excel's `sep=X` first line (which is then skipped) or else from the header and
 * first records: as Papa Parse's guessDelimiter (papaparse.js), the candidate whose records have the
 * most consistent field count wins and more fields break ties; unlike it, the header must have at
 * least two fields with it (a customer file has five required columns) and a comma wins every tie
 * (a file no candidate splits stays comma-separated). Quotes are honoured while counting.
 */
function sniffDialect(text: string, last: boolean): { delimiter: string; skip: number } {
  const sep = /^sep=([^"\n])\n/i.exec(text);
  if (sep) return { delimiter: sep[1] as string, skip: sep[0].length };
  // only complete lines: a cut-off last record would count as inconsistent
  const sample = last ? text : text.slice(0, text.lastIndexOf('\n') + 1);
  let best = { delimiter: ',', delta: Infinity, fields: 0 };
  for (const delimiter of DELIMITERS) {
    const { data } = new Papa.Parser({
      delimiter,
      newline: '\n',
      quoteChar: '"',
      preview: SNIFF_RECORDS + 1,
    }).parse(sample, 0, false) as PapaResult;
    const counts = withoutEmptyLines(data).map((record) => record.length);
    if ((counts[0] ?? 0) < 2) continue;
    let delta = 0;
    for (let i = 1; i < counts.length; i++)
      delta += Math.abs((counts[i] as number) - (counts[i - 1] as number));
    const fields = counts.reduce((a, b) => a + b, 0) / counts.length;
    if (delta < best.delta || (delta === best.delta && fields > best.fields))
      best = { delimiter, delta, fields };
  }
  return { delimiter: best.delimiter, skip: 0 };
}

function recordLength(record: readonly string[] | undefined): number {
  let length = 0;
  for (const cell of record ?? []) length += cell.length + 1;
  return length;
}

/** Lines with nothing on them are not records (pandas' skip_blank_lines); `,,` lines are, and are counted. */
function withoutEmptyLines(records: string[][]): string[][] {
  let empty = 0;
  for (const record of records) if (record.length === 1 && record[0] === '') empty++;
  return empty === 0 ? records : records.filter((r) => !(r.length === 1 && r[0] === ''));
}

const tooLong = (line: number) => inputErrors.lineTooLong(line, MAX_RECORD_BYTES / 1024 / 1024);

function countLineBreaks(text: string, end: number): number {
  let n = 0;
  for (let at = text.indexOf('\n'); at >= 0 && at < end; at = text.indexOf('\n', at + 1)) n++;
  return n;
}
