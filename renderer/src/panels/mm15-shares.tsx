// mm15-mixture's shared pieces: a colour per category, its legend, and a stacked bar of shares.
import { MM15_CATEGORY_IDS, MM15_CATEGORY_LABEL, type Mm15CategoryId } from '../../../common/labs/mm15-mixture';

export const CATEGORY_COLOURS: Record<Mm15CategoryId, string> = { general: '#60a5fa', textRich: '#f59e0b', knowledge: '#a78bfa', grounding: '#34d399', multiImage: '#f472b6', textOnly: '#94a3b8' };
export const pct = (v: number) => `${(100 * v).toFixed(1)}`;

export function Legend() {
  return (
    <p className="small mm15-legend">{MM15_CATEGORY_IDS.map((c) => <span key={c}><i style={{ background: CATEGORY_COLOURS[c] }} /> {MM15_CATEGORY_LABEL[c]}</span>)}</p>
  );
}

export function SharesBar({ shares, label }: { shares: Record<string, number>; label: string }) {
  const total = Object.values(shares).reduce((a, b) => a + b, 0) || 1;
  const share = (c: Mm15CategoryId) => (shares[c] ?? 0) / total;
  return (
    <div className="mm15-shares" role="img" aria-label={`${label}: ${MM15_CATEGORY_IDS.map((c) => `${MM15_CATEGORY_LABEL[c]} ${pct(share(c))} %`).join(', ')}`}>
      {MM15_CATEGORY_IDS.map((c) => share(c) > 0 && <span key={c} style={{ width: `${100 * share(c)}%`, background: CATEGORY_COLOURS[c] }} title={`${MM15_CATEGORY_LABEL[c]} ${pct(share(c))} %`} />)}
    </div>
  );
}
