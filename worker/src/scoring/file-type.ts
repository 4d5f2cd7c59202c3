import { inputErrors, type InputError, type NotCsvKind } from './errors.js';

/**
 * Recognises the files people upload instead of a CSV from their first bytes, so the message says what
 * the file is and how to get a CSV out of it instead of complaining about its encoding or columns.
 */

/** How much of the file's start is looked at: a workbook's `xl/` entries follow its small first entries. */
export const FILE_TYPE_BYTES = 64 * 1024;

/** The source's chunks, after checking its first FILE_TYPE_BYTES (or all of it, if shorter) are no known non-CSV file. */
export async function* refuseNonCsv(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  const start: Uint8Array[] = [];
  let length = 0;
  let checked = false;
  for await (const chunk of source) {
    if (checked) {
      yield chunk;
      continue;
    }
    start.push(chunk);
    length += chunk.length;
    if (length < FILE_TYPE_BYTES) continue;
    checked = true;
    yield checkedStart(start);
  }
  if (!checked && length > 0) yield checkedStart(start);
}

function checkedStart(chunks: Uint8Array[]): Uint8Array {
  const start = chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks);
  const error = notCsvError(start);
  if (error) throw error;
  return start;
}

/** An InputError naming what the file is, or undefined when it may be text. */
export function notCsvError(start: Uint8Array): InputError | undefined {
  const bytes = Buffer.from(start.buffer, start.byteOffset, start.byteLength);
  const kind = fileType(bytes);
  return kind === undefined ? undefined : inputErrors.notCsv(kind);
}

function fileType(bytes: Buffer): NotCsvKind | undefined {
  // RFC 1952 §2.3.1: ID1 ID2
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'gzip';
  // PKWARE APPNOTE 4.3.7: a local file header; an .xlsx (ECMA-376 Part 2) keeps its parts under xl/
  if (bytes.length >= 4 && bytes.readUInt32LE(0) === 0x04034b50)
    return bytes.includes('xl/') ? 'xlsx' : 'zip';
  // [MS-CFB] 2.2: the compound file signature of .xls (and other Office 97-2003 documents)
  if (bytes.subarray(0, 8).equals(CFB_SIGNATURE)) return 'xls';
  if (JSON_START.test(bytes.subarray(0, 64).toString('latin1'))) return 'json';
  return undefined;
}

const CFB_SIGNATURE = Buffer.from('d0cf11e0a1b11ae1', 'hex');
/**
 * An object or array opening as JSON does (RFC 8259 §2-§5), after an optional UTF-8 BOM: `[id],name`
 * stays a CSV header.
 */
const JSON_START = /^(?:\xef\xbb\xbf)?[ \t\r\n]*(?:\{[ \t\r\n]*["}]|\[[ \t\r\n]*[[{"\]\d-])/;
