/**
 * An append-only byte buffer for one batch of the results file. A results row is ~2 KB assembled from ~40
 * pieces, most of them texts that repeat from row to row; built as a JavaScript string, the pieces form a
 * rope that V8 must walk and flatten before it can be encoded, which cost more than everything else in the
 * job put together. Here each repeating piece is encoded once (see `encode`) and copied, and the one
 * user-supplied text per row (the customer id) is encoded in place.
 */
export class ByteWriter {
  #buffer: Buffer;
  #length = 0;

  /**
   * `spare`: memory no one reads any more (a batch's results the sink is done with), written over if it holds
   * `capacity` bytes. The writer's own memory is never a slice of Node's shared pool, so it can become a spare.
   */
  constructor(capacity: number, spare?: ArrayBuffer) {
    this.#buffer =
      spare !== undefined && spare.byteLength >= capacity
        ? Buffer.from(spare)
        : Buffer.allocUnsafeSlow(Math.max(capacity, 64));
  }

  /** bytes written so far */
  get length(): number {
    return this.#length;
  }

  /** Appends bytes encoded ahead of time. */
  bytes(chunk: Uint8Array): void {
    const end = this.#length + chunk.length;
    if (end > this.#buffer.length) this.#grow(end);
    const buffer = this.#buffer;
    // most pieces are a few bytes (`,`, `0.715,`), where a loop is cheaper than the call into `set`
    if (chunk.length <= 16)
      for (let i = this.#length, j = 0; i < end; i++, j++) buffer[i] = chunk[j] as number;
    else buffer.set(chunk, this.#length);
    this.#length = end;
  }

  /** Appends text as UTF-8. */
  text(text: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit
    const worst = this.#length + text.length * 3;
    if (worst > this.#buffer.length) this.#grow(worst);
    this.#length += this.#buffer.write(text, this.#length, 'utf8');
  }

  /** Appends text whose every code unit is below 0x80, one byte each, without the call into the encoder. */
  ascii(text: string): void {
    const end = this.#length + text.length;
    if (end > this.#buffer.length) this.#grow(end);
    const buffer = this.#buffer;
    for (let i = this.#length, j = 0; i < end; i++, j++) buffer[i] = text.charCodeAt(j);
    this.#length = end;
  }

  /**
   * Appends `scaled / 10 ** digits` in shortest form with at least one decimal (`0.5346`, `-0.25`, `1.0`), as
   * `String()` prints the double nearest that decimal whenever it has at most 15 significant digits; `scaled` an
   * integer of at most 15 digits, `digits` at most 9.
   */
  decimal(scaled: number, digits: number): void {
    const end = this.#length + 18 + digits;
    if (end > this.#buffer.length) this.#grow(end);
    const buffer = this.#buffer;
    let at = this.#length;
    let rest = scaled;
    if (rest < 0) {
      buffer[at++] = 45; // -
      rest = -rest;
    }
    const scale = POWERS_OF_TEN[digits] as number;
    let whole = Math.floor(rest / scale);
    let fraction = rest - whole * scale;
    // the quotient is rounded: the remainder, exact in integers, corrects it
    if (fraction < 0) {
      whole--;
      fraction += scale;
    } else if (fraction >= scale) {
      whole++;
      fraction -= scale;
    }
    let width = 1;
    for (let w = whole; w >= 10; w = Math.floor(w / 10)) width++;
    for (let i = at + width - 1, w = whole; i >= at; i--, w = Math.floor(w / 10)) buffer[i] = 48 + (w % 10);
    at += width;
    buffer[at++] = 46; // .
    // below 10 ** digits, so an int32: integer division and remainder instead of floating-point ones (fmod)
    let digitsLeft = fraction | 0;
    let decimals = digits;
    if (digitsLeft === 0) decimals = 1;
    else {
      while (digitsLeft % 10 === 0) {
        digitsLeft = (digitsLeft / 10) | 0;
        decimals--;
      }
    }
    for (let i = at + decimals - 1; i >= at; i--) {
      const next = (digitsLeft / 10) | 0;
      buffer[i] = 48 + digitsLeft - next * 10;
      digitsLeft = next;
    }
    this.#length = at + decimals;
  }

  /** Appends a copy of bytes already written, `[start, end)`, e.g. a cell the row repeats. */
  repeat(start: number, end: number): void {
    const at = this.#length;
    if (at + end - start > this.#buffer.length) this.#grow(at + end - start);
    this.#buffer.copyWithin(at, start, end);
    this.#length = at + end - start;
  }

  /** The bytes written. The writer must not be used afterwards: they are not copied. */
  finish(): Buffer {
    return this.#buffer.subarray(0, this.#length);
  }

  #grow(needed: number): void {
    const larger = Buffer.allocUnsafeSlow(Math.max(needed, this.#buffer.length * 2));
    this.#buffer.copy(larger, 0, 0, this.#length);
    this.#buffer = larger;
  }
}

// a table, not `10 ** digits`: the exponentiation was the most expensive line of `decimal`
const POWERS_OF_TEN = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/** A text encoded once for `ByteWriter.bytes`. */
export const encode = (text: string): Uint8Array => Buffer.from(text, 'utf8');
