// Numbers as the UI shows them. Non-finite values are real results here (the PSNR of an
// identical image is +∞), so they read as what they mean rather than throwing or "NaN".

export function formatDb(db: number | null | undefined, digits = 2): string {
  if (db === null || db === undefined || Number.isNaN(db)) return '—';
  if (db === Infinity) return '∞ (identical)';
  if (db === -Infinity) return '−∞';
  return `${db.toFixed(digits)} dB`;
}

export function formatNumber(v: unknown, precision = 4): string {
  if (typeof v !== 'number') return v === null || v === undefined ? '—' : String(v);
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  return v.toPrecision(precision);
}
