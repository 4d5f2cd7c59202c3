import { isAscii, isUtf8 } from 'node:buffer';
import { inputErrors, type InputError } from './errors.js';

/**
 * Bytes → text, one chunk at a time, in the encodings customers' spreadsheets save: UTF-8 (BOM optional),
 * UTF-16 with a BOM (Excel's "Unicode Text"), and Windows-1252 (Excel's "CSV" on Western Windows, a
 * superset of Latin-1). A file without a UTF-16 BOM is UTF-8 until a byte proves otherwise; it falls back
 * to Windows-1252 only if everything before that byte was ASCII, because then both read the same text
 * so far and the switch is lossless. Binary data (control bytes, bytes Windows-1252 leaves undefined) is
 * refused.
 */

export type InputEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

export interface TextDecoding {
  /** the encoding the file is read in (UTF-8 until proven otherwise) */
  readonly encoding: InputEncoding;
  /** the text of the next chunk; a character split between chunks comes with the next one */
  decode(chunk: Uint8Array): string;
  /** the rest of the text at the end of the input; throws if a character was cut off */
  end(): string;
}

const EMPTY = new Uint8Array(0);

export function textDecoding(): TextDecoding {
  let head: Uint8Array = EMPTY;
  let decoder: TextDecoding | undefined;
  return {
    get encoding() {
      return decoder?.encoding ?? 'utf-8';
    },
    decode(chunk) {
      if (decoder) return decoder.decode(chunk);
      // the two bytes of a UTF-16 BOM may arrive in separate chunks
      head = head.length > 0 ? Buffer.concat([head, chunk]) : chunk;
      if (head.length < 2) return '';
      decoder = decoderFor(head);
      return decoder.decode(head);
    },
    end() {
      if (decoder) return decoder.end();
      decoder = decoderFor(head);
      return decoder.decode(head) + decoder.end();
    },
  };
}

function decoderFor(start: Uint8Array): TextDecoding {
  if (start[0] === 0xff && start[1] === 0xfe) return utf16('utf-16le');
  if (start[0] === 0xfe && start[1] === 0xff) return utf16('utf-16be');
  return utf8OrWindows1252();
}

/** TextDecoder with `fatal` refuses unpaired surrogates and a cut-off last code unit; it drops the BOM. */
function utf16(encoding: 'utf-16le' | 'utf-16be'): TextDecoding {
  const decoder = new TextDecoder(encoding, { fatal: true });
  const run = (decode: () => string): string => {
    try {
      return decode();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ERR_ENCODING_INVALID_ENCODED_DATA') throw error;
      throw inputErrors.encoding();
    }
  };
  return {
    encoding,
    decode: (chunk) => run(() => decoder.decode(chunk, { stream: true })),
    end: () => run(() => decoder.decode()),
  };
}

function utf8OrWindows1252(): TextDecoding {
  let encoding: InputEncoding = 'utf-8';
  let carry: Uint8Array = EMPTY;
  let offset = 0;
  let lines = 1;
  let ascii = true;
  let first = true;
  const windows1252 = (bytes: Uint8Array): string => {
    const text = decodeWindows1252(bytes);
    if (text === undefined) {
      const bad = firstBinaryByte(bytes);
      throw encodingError(lines + countByteLineBreaks(bytes.subarray(0, bad)), offset + bad);
    }
    offset += bytes.length;
    lines += countByteLineBreaks(bytes);
    return text;
  };
  const fallBack = (bytes: Uint8Array, utf8Error: InputError): string => {
    if (decodeWindows1252(bytes) === undefined) throw utf8Error;
    encoding = 'windows-1252';
    carry = EMPTY;
    return windows1252(bytes);
  };
  return {
    get encoding() {
      return encoding;
    },
    decode(chunk) {
      if (encoding === 'windows-1252') return windows1252(chunk);
      const bytes = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      const complete = completeLength(bytes);
      const body = bytes.subarray(0, complete);
      if (!isUtf8(body)) {
        const bad = firstInvalidUtf8(body);
        const error = encodingError(lines + countByteLineBreaks(body.subarray(0, bad)), offset + bad);
        if (ascii && isAscii(body.subarray(0, bad))) return fallBack(bytes, error);
        throw error;
      }
      ascii &&= isAscii(body);
      carry = bytes.subarray(complete);
      offset += complete;
      lines += countByteLineBreaks(body);
      const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
      if (!first || text.length === 0) return text;
      first = false;
      return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    },
    end() {
      if (carry.length === 0) return '';
      // a file that ends in the lead byte of a multi-byte sequence
      const error = encodingError(lines, offset);
      if (ascii) return fallBack(carry, error);
      throw error;
    },
  };
}

/**
 * WHATWG Encoding's index-windows-1252 for 0x80-0x9F (the rest is Latin-1); written out because Node's
 * TextDecoder('windows-1252') decodes these bytes as Latin-1 since 20.18.3/22.13.0 (nodejs/node#56542,
 * #60888). The five bytes Windows-1252 leaves undefined (0x81 0x8D 0x8F 0x90 0x9D) count as binary.
 */
// prettier-ignore
const C1 = [
  0x20ac, -1, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, -1, 0x017d, -1,
  -1, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, -1, 0x017e, 0x0178,
];
const C1_TEXT = C1.map((code) => (code < 0 ? '' : String.fromCharCode(code)));
/** control bytes other than tab, LF and CR, and the undefined ones: no text file has them */
// eslint-disable-next-line no-control-regex -- control bytes are exactly what this looks for
const BINARY = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x81\x8d\x8f\x90\x9d]/;

/** The bytes as Windows-1252 text, or undefined if they contain binary data. */
function decodeWindows1252(bytes: Uint8Array): string | undefined {
  const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (BINARY.test(latin1)) return undefined;
  return latin1.replace(/[\x80-\x9f]/g, (c) => C1_TEXT[c.charCodeAt(0) - 0x80] as string);
}

function firstBinaryByte(bytes: Uint8Array): number {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1').search(BINARY);
}

const encodingError = (line: number, byte: number): InputError =>
  inputErrors.encoding({ line, byte: byte + 1 });

/** Physical lines, as an editor counts them, so the error points where the user will look. */
function countByteLineBreaks(bytes: Uint8Array): number {
  let n = 0;
  for (let at = bytes.indexOf(10); at >= 0; at = bytes.indexOf(10, at + 1)) n++;
  return n;
}

/** Length of the prefix of `bytes` that does not end inside a multi-byte UTF-8 sequence. */
function completeLength(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back] as number;
    if ((byte & 0xc0) === 0x80) continue;
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

/** Index of the first byte that is not part of a well-formed UTF-8 sequence (only called on failure). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] as number;
    if (lead < 0x80) {
      i++;
      continue;
    }
    // [continuation bytes, allowed range of the first continuation byte] per RFC 3629's table
    const shape: [number, number, number] | undefined =
      lead >= 0xc2 && lead <= 0xdf
        ? [1, 0x80, 0xbf]
        : lead === 0xe0
          ? [2, 0xa0, 0xbf]
          : lead === 0xed
            ? [2, 0x80, 0x9f]
            : lead >= 0xe1 && lead <= 0xef
              ? [2, 0x80, 0xbf]
              : lead === 0xf0
                ? [3, 0x90, 0xbf]
                : lead === 0xf4
                  ? [3, 0x80, 0x8f]
                  : lead >= 0xf1 && lead <= 0xf3
                    ? [3, 0x80, 0xbf]
                    : undefined;
    if (!shape) return i;
    const [count, low, high] = shape;
    const first = bytes[i + 1];
    if (first === undefined || first < low || first > high) return i;
    for (let k = 2; k <= count; k++) {
      const next = bytes[i + k];
      if (next === undefined || (next & 0xc0) !== 0x80) return i;
    }
    i += count + 1;
  }
  return bytes.length;
}
