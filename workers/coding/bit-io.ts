// Bit-level writer and reader, most significant bit first within each byte.

export class BitWriter {
  private buf: Uint8Array;
  private byte = 0;
  private nbits = 0; // bits used in the current byte
  private pos = 0;   // whole bytes written
  constructor(capacityBytes = 1024) { this.buf = new Uint8Array(Math.max(16, capacityBytes)); }

  get bitLength(): number { return this.pos * 8 + this.nbits; }

  private push(b: number) {
    if (this.pos === this.buf.length) { const n = new Uint8Array(this.buf.length * 2); n.set(this.buf); this.buf = n; }
    this.buf[this.pos++] = b;
  }

  writeBit(bit: number): void {
    this.byte = (this.byte << 1) | (bit & 1);
    if (++this.nbits === 8) { this.push(this.byte); this.byte = 0; this.nbits = 0; }
  }

  /** Writes the low `n` bits of `value` (0 <= n <= 32), high bit first. */
  writeBits(value: number, n: number): void {
    if (n < 0 || n > 32) throw new RangeError(`writeBits: n=${n} outside 0..32`);
    for (let i = n - 1; i >= 0; i--) this.writeBit(Math.floor(value / 2 ** i) & 1);
  }

  /** Zero zeros: the last byte is padded with zero bits. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.pos + (this.nbits ? 1 : 0));
    out.set(this.buf.subarray(0, this.pos));
    if (this.nbits) out[this.pos] = this.byte << (8 - this.nbits);
    return out;
  }
}

export class BitReader {
  private pos = 0; // bit position
  constructor(private readonly bytes: Uint8Array, private readonly bitLimit = bytes.length * 8) {}

  get bitsRead(): number { return this.pos; }
  get bitsLeft(): number { return this.bitLimit - this.pos; }

  readBit(): number {
    if (this.pos >= this.bitLimit) throw new RangeError('BitReader: read past the end of the stream');
    const b = (this.bytes[this.pos >> 3] >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return b;
  }

  readBits(n: number): number {
    if (n < 0 || n > 32) throw new RangeError(`readBits: n=${n} outside 0..32`);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.readBit();
    return v;
  }
}
