// One JSON encoding for every boundary: non-finite numbers survive as the numbers they were
// (JSON.stringify alone turns them into null), and the UI shows them as what they mean.
import { describe, expect, it } from 'vitest';
import { parseJson, stringifyJson } from '../common/json';
import { formatMetric, humanizeMetric, metricLabel, unitFromName } from '../common/metrics';

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
  it('a PSNR of an identical image reads "∞ (identical)"; each unit reads as itself', () => {
    expect(formatMetric(Infinity, 'dB')).toBe('∞ (identical)');
    expect(formatMetric(31.4159, 'dB')).toBe('31.42 dB');
    expect(formatMetric(NaN, 'dB')).toBe('NaN');
    expect(formatMetric(undefined, 'dB')).toBe('—');
    expect(formatMetric(0.9412, 'fraction')).toBe('94.1 %');
    expect(formatMetric(3148, 'bytes')).toBe('3,148 B');
    expect(formatMetric(2.785, 'ratio')).toBe('2.79×');
    expect(formatMetric(64, 'count')).toBe('64');
    expect(formatMetric(-Infinity, 'number')).toBe('−∞');
  });
  it('units follow the naming convention; names read as words', () => {
    expect(['testAccuracy', 'acc_ef21_alie_cwtm', 'cotAcc_mixSft', 'psnrDropDb', 'tcDroppedTokenPct', 'codecBpp', 'stepsPerSec', 'encodeMBps', 'bytesPerRound_topk', 'fd_ec'].map(unitFromName))
      .toEqual(['fraction', 'fraction', 'fraction', 'dB', 'percent', 'bpp', 'perSecond', 'MBps', 'bytes', 'number']);
    expect(humanizeMetric('testAccuracy')).toBe('test accuracy');
    expect(humanizeMetric('cotAcc_mixSft')).toBe('cot acc · mixSft');
    expect(metricLabel('fd_ec', { fd_ec: { label: 'Fréchet distance · ec' } })).toBe('Fréchet distance · ec');
  });
});
