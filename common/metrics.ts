// How a metric reads: its unit and display name. Units follow the naming convention of
// ../shared/LAB-CHECKLIST.md (accuracies and shares are fractions; *Pct, *Db, *Ms, *Bpp say
// theirs); a spec's `metricInfo` overrides either where a name cannot say it.

export type MetricUnit = 'fraction' | 'percent' | 'dB' | 'bpp' | 'bits' | 'bytes' | 'ratio' | 'perSecond' | 'MBps' | 'ms' | 'count' | 'number';

export interface MetricInfo { label?: string; unit?: MetricUnit }

/** The unit a metric's name implies. */
export function unitFromName(name: string): MetricUnit {
  if (/Pct(_|$)/.test(name)) return 'percent';
  if (/Db(_|$)/.test(name)) return 'dB';
  if (/Bpp(_|$)/.test(name)) return 'bpp';
  if (/Ms(_|$)/.test(name)) return 'ms';
  if (/MBps$/.test(name)) return 'MBps';
  if (/PerSec$/.test(name)) return 'perSecond';
  if (/^bytes/.test(name)) return 'bytes';
  if (/^bitsPer/.test(name)) return 'bits';
  if (/(^acc|Acc|Accuracy)(_|$)/.test(name)) return 'fraction';
  return 'number';
}

/** "cotAcc_mixSft" → "cot acc · mixSft"; "testAccuracy" → "test accuracy". */
export function humanizeMetric(name: string): string {
  const [head, ...rest] = name.split('_');
  const words = head.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2').toLowerCase();
  return rest.length ? `${words} · ${rest.join(' ')}` : words;
}

export function metricLabel(name: string, info?: Record<string, MetricInfo>): string {
  return info?.[name]?.label ?? humanizeMetric(name);
}

export function metricUnit(name: string, info?: Record<string, MetricInfo>): MetricUnit {
  return info?.[name]?.unit ?? unitFromName(name);
}

/** A value as the UI shows it in its unit; ±∞ and NaN read as such. */
export function formatMetric(value: number | null | undefined, unit: MetricUnit): string {
  if (value === null || value === undefined) return '—';
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return unit === 'dB' && value > 0 ? '∞ (identical)' : value > 0 ? '∞' : '−∞';
  switch (unit) {
    case 'fraction': return `${(value * 100).toFixed(1)} %`;
    case 'percent': return `${value.toFixed(Math.abs(value) < 10 ? 2 : 1)} %`;
    case 'dB': return `${value.toFixed(2)} dB`;
    case 'bpp': return `${value.toPrecision(3)} bpp`;
    case 'bits': return `${value.toPrecision(3)} bits`;
    case 'bytes': return `${Math.round(value).toLocaleString('en-US')} B`;
    case 'ratio': return `${value.toFixed(2)}×`;
    case 'perSecond': return `${value.toPrecision(3)} /s`;
    case 'MBps': return `${value.toPrecision(3)} MB/s`;
    case 'ms': return `${value.toFixed(value < 10 ? 1 : 0)} ms`;
    case 'count': return Math.round(value).toLocaleString('en-US');
    default: return Math.abs(value) >= 1e4 || (Math.abs(value) < 1e-3 && value !== 0) ? value.toExponential(3) : String(Number(value.toPrecision(4)));
  }
}

/** The unit as an axis title says it; none for a plain number. */
export function axisUnitLabel(unit: MetricUnit): string | undefined {
  const labels: Partial<Record<MetricUnit, string>> = {
    fraction: 'fraction', percent: '%', dB: 'dB', bpp: 'bpp', bits: 'bits', bytes: 'bytes', ratio: '×', perSecond: 'per s', MBps: 'MB/s', ms: 'ms', count: 'count',
  };
  return labels[unit];
}

/** Metrics grouped by the word before their first `_` ("acc_ef21_alie_cwtm" → "acc"); one-word names share the group "run". */
export function metricGroups(names: readonly string[]): [group: string, names: string[]][] {
  const groups = new Map<string, string[]>();
  for (const n of names) {
    const g = n.includes('_') ? n.slice(0, n.indexOf('_')) : 'run';
    groups.set(g, [...(groups.get(g) ?? []), n]);
  }
  return [...groups.entries()];
}
