// One JSON encoding for every boundary: non-finite numbers survive as the numbers they were
// (JSON.stringify alone turns them into null), and the UI shows them as what they mean.
import { describe, expect, it } from 'vitest';
import { parseJson, stringifyJson } from '../common/json';
import { formatDb, formatNumber } from '../renderer/src/format';

describe('JSON codec', () => {
  const value = { psnrDb: Infinity, low: -Infinity, nan: NaN, list: [1, Infinity, NaN], nested: { x: -0.5, s: 'text' }, none: null };
  it('round-trips ±Infinity and NaN, where plain JSON writes null', () => {
    expect(JSON.parse(JSON.stringify(value)).psnrDb).toBeNull();
    const text = stringifyJson(value);
    expect(text).toBe('{"psnrDb":"Infinity","low":"-Infinity","nan":"NaN","list":[1,"Infinity","NaN"],"nested":{"x":-0.5,"s":"text"},"none":null}');
    expect(parseJson(text)).toEqual(value);
    expect(stringifyJson({ a: 1 }, 2)).toBe('{\n  "a": 1\n}');
  });
  it('leaves other strings alone', () => {
    expect(parseJson('["Infinity!","infinity","nan","-inf"]')).toEqual(['Infinity!', 'infinity', 'nan', '-inf']);
  });
});

describe('UI number formats', () => {
  it('a PSNR of an identical image reads "∞ (identical)"; missing values a dash', () => {
    expect(formatDb(Infinity)).toBe('∞ (identical)');
    expect(formatDb(31.4159)).toBe('31.42 dB');
    expect(formatDb(NaN)).toBe('—');
    expect(formatDb(undefined)).toBe('—');
    expect(formatNumber(Infinity)).toBe('∞');
    expect(formatNumber(0.123456)).toBe('0.1235');
    expect(formatNumber(null)).toBe('—');
  });
});
