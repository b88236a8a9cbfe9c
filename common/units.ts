// Branded unit types: a number that carries its unit in the type, so bits are never
// added to bytes nor dB to a plain ratio by accident. Runtime values are plain numbers.
declare const unit: unique symbol;
type Unit<U extends string> = number & { readonly [unit]: U };

export type Bits = Unit<'bits'>;
export type Bytes = Unit<'bytes'>;
/** bits per pixel */
export type Bpp = Unit<'bpp'>;
/** decibels */
export type Db = Unit<'dB'>;
export type Ms = Unit<'ms'>;
export type Mb = Unit<'MB'>;

export const bits = (n: number) => n as Bits;
export const bytes = (n: number) => n as Bytes;
export const bpp = (n: number) => n as Bpp;
export const db = (n: number) => n as Db;
export const ms = (n: number) => n as Ms;

export const bytesToBits = (b: Bytes): Bits => (b * 8) as Bits;
export const bitsToBytes = (b: Bits): Bytes => (b / 8) as Bytes;
export const bitsPerPixel = (b: Bits, pixels: number): Bpp => (b / pixels) as Bpp;
/** PSNR for signals in [0, peak]. */
export const psnrFromMse = (mse: number, peak = 1): Db => (10 * Math.log10((peak * peak) / mse)) as Db;
