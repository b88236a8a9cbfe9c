// Bit-level writer and reader, most significant bit first within each byte. Both work a
// word at a time (a 32-bit accumulator; a 32-bit peek) rather than bit by bit.

export class BitWriter {
  private buf: Uint8Array;
  private acc = 0;   // pending bits, right-aligned
  private nacc = 0;  // how many (0..7 between calls)
  private pos = 0;   // whole bytes written
  constructor(capacityBytes = 1024) { this.buf = new Uint8Array(Math.max(16, capacityBytes)); }

  get bitLength(): number { return this.pos * 8 + this.nacc; }

  private grow() { const n = new Uint8Array(this.buf.length * 2); n.set(this.buf); this.buf = n; }

  writeBit(bit: number): void { this.writeBits(bit & 1, 1); }

  /** Writes the low `n` bits of `value` (0 <= n <= 32), high bit first. */
  writeBits(value: number, n: number): void {
    if (n > 24) { // keep the accumulator within 31 bits
      if (n > 32) throw new RangeError(`writeBits: n=${n} outside 0..32`);
      this.writeBits(Math.floor(value / 65536) & 0xffff, n - 16);
      this.writeBits(value & 0xffff, 16);
      return;
    }
    if (n < 0) throw new RangeError(`writeBits: n=${n} outside 0..32`);
    this.acc = (this.acc << n) | (value & ((1 << n) - 1));
    this.nacc += n;
    while (this.nacc >= 8) {
      this.nacc -= 8;
      if (this.pos === this.buf.length) this.grow();
      this.buf[this.pos++] = (this.acc >>> this.nacc) & 0xff;
    }
    this.acc &= (1 << this.nacc) - 1;
  }

  /** The bytes; the last one is padded with zero bits. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.pos + (this.nacc ? 1 : 0));
    out.set(this.buf.subarray(0, this.pos));
    if (this.nacc) out[this.pos] = (this.acc << (8 - this.nacc)) & 0xff;
    return out;
  }
}

export class BitReader {
  private pos = 0; // bit position
  private readonly bytes: Uint8Array; // the stream plus 8 zero bytes, so a peek never checks bounds
  private readonly bitLimit: number;
  constructor(stream: Uint8Array, bitLimit = stream.length * 8) {
    this.bytes = new Uint8Array(stream.length + 8);
    this.bytes.set(stream);
    this.bitLimit = bitLimit;
  }

  get bitsRead(): number { return this.pos; }
  get bitsLeft(): number { return this.bitLimit - this.pos; }

  /** The next 32 bits (zeros past the end), without consuming them. */
  peek32(): number {
    const byte = this.pos >> 3, shift = this.pos & 7, b = this.bytes;
    const w = ((b[byte] << 24) | (b[byte + 1] << 16) | (b[byte + 2] << 8) | b[byte + 3]) >>> 0;
    return shift === 0 ? w : ((w << shift) | (b[byte + 4] >>> (8 - shift))) >>> 0;
  }

  skip(n: number): void {
    if (this.pos + n > this.bitLimit) throw new RangeError('BitReader: read past the end of the stream');
    this.pos += n;
  }

  readBit(): number {
    if (this.pos >= this.bitLimit) throw new RangeError('BitReader: read past the end of the stream');
    const p = this.pos++;
    return (this.bytes[p >> 3] >> (7 - (p & 7))) & 1;
  }

  readBits(n: number): number {
    if (n < 0 || n > 32) throw new RangeError(`readBits: n=${n} outside 0..32`);
    if (n === 0) return 0;
    if (this.pos + n > this.bitLimit) throw new RangeError('BitReader: read past the end of the stream');
    const v = n === 32 ? this.peek32() : this.peek32() >>> (32 - n);
    this.pos += n;
    return v;
  }
}
