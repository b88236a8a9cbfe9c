// The on-device LM playground: generate with any variant in onnxruntime or TensorFlow.js
// and watch tokens stream; NLL against bits per weight with the text's entropy floor; the
// mixed plan's bit allocation per layer beside a random one; one group's weights with its
// palette; export a variant's Hugging Face folder.
import { useEffect, useRef, useState } from 'react';
import type { z } from 'zod';
import { CartesianGrid, Legend, ReferenceLine, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { RunDetail } from '../../../common/api';
import { lastSampleOf } from '../../../common/lab-contract';
import { AFM_VARIANT_LABELS, AFM_VARIANTS, afmOndeviceQueries, afmOndeviceSamples, type AfmVariant } from '../../../common/labs/afm-ondevice';
import { api } from '../bridge';
import { STATIC_NOTE, useInteractive } from './interactive';

type Generated = z.output<typeof afmOndeviceQueries.generated.result>;
type Exported = z.output<typeof afmOndeviceQueries.exportVariant.result>;
type Group = z.output<typeof afmOndeviceSamples.groups>[number];
const last = <N extends keyof typeof afmOndeviceSamples & string>(d: RunDetail, kind: N) => lastSampleOf(afmOndeviceSamples, d.samples, kind);
const num = (x: number | null | undefined, digits = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits));

function Playground({ detail }: { detail: RunDetail }) {
  const interactive = useInteractive();
  const canQuery = interactive && detail.run.status === 'succeeded';
  const [variant, setVariant] = useState<AfmVariant>('mixedLora');
  const [engine, setEngine] = useState<'ort' | 'tfjs'>('ort');
  const [prompt, setPrompt] = useState('once upon a time there was a');
  const [maxNewTokens, setMaxNew] = useState(48);
  const [temperature, setTemperature] = useState(0);
  const [topK, setTopK] = useState(0);
  const [topP, setTopP] = useState(1);
  const [out, setOut] = useState<Generated & { prompt: string }>();
  const [err, setErr] = useState<string>();
  const polling = useRef<number | null>(null);
  useEffect(() => () => { if (polling.current !== null) window.clearTimeout(polling.current); }, []);
  const go = async () => {
    setErr(undefined);
    if (polling.current !== null) window.clearTimeout(polling.current);
    try {
      const { id } = await api.query(detail.run.id, 'generate', { variant, engine, prompt, maxNewTokens, temperature, topK, topP }) as { id: number };
      const poll = async () => {
        try {
          const g = await api.query(detail.run.id, 'generated', { id }) as Generated;
          setOut({ ...g, prompt });
          if (g.error) setErr(g.error);
          polling.current = g.done ? null : window.setTimeout(() => void poll(), 80);
        } catch (e) { setErr((e as Error).message); polling.current = null; }
      };
      await poll();
    } catch (e) { setErr((e as Error).message); }
  };
  const busy = !!out && !out.done && polling.current !== null;
  const numberField = (label: string, value: number, set: (v: number) => void, min: number, max: number, step: number, testId?: string) => (
    <label className="small">{label} <input type="number" value={value} min={min} max={max} step={step} onChange={(e) => set(Number(e.target.value))} style={{ width: 64 }} data-testid={testId} /></label>
  );
  return (
    <div className="chart-box afm-playground" data-testid="afm-playground">
      <h3>Playground</h3>
      {!canQuery ? <p className="muted small">{interactive ? 'Generation needs the trained variants: available when the run has succeeded.' : `Disabled in ${STATIC_NOTE}.`}</p> : (
        <>
          <div className="row">
            <label className="small">variant <select value={variant} onChange={(e) => setVariant(e.target.value as AfmVariant)} data-testid="afm-variant">
              {AFM_VARIANTS.map((v) => <option key={v} value={v}>{AFM_VARIANT_LABELS[v]}</option>)}
            </select></label>
            <label className="small">engine <select value={engine} onChange={(e) => setEngine(e.target.value as 'ort' | 'tfjs')} data-testid="afm-engine">
              <option value="ort">onnxruntime</option><option value="tfjs">TensorFlow.js</option>
            </select></label>
            {numberField('new tokens', maxNewTokens, setMaxNew, 1, 256, 1)}
            {numberField('temperature', temperature, setTemperature, 0, 2, 0.1, 'afm-temperature')}
            {numberField('top-k', topK, setTopK, 0, 1000, 1)}
            {numberField('top-p', topP, setTopP, 0.05, 1, 0.05)}
          </div>
          <textarea value={prompt} onChange={(e) => setPrompt(e.target.value)} rows={2} className="afm-prompt" data-testid="afm-prompt" aria-label="prompt" />
          <div><button onClick={() => void go()} disabled={busy} data-testid="afm-generate">{busy ? 'generating…' : 'Generate'}</button></div>
          {err && <p className="error" role="alert">{err}</p>}
          {out && (
            <div data-testid="afm-output">
              <p className="afm-text"><span className="muted">{out.prompt}</span><b>{out.text}</b>{!out.done && <span className="afm-cursor">▍</span>}</p>
              <p className="small muted" data-testid="afm-stats">
                {out.tokens} new tokens after a {out.promptTokens}-token prompt{out.done ? '' : ' (streaming)'}
                {out.ttftMs !== null && <> · time to first token {num(out.ttftMs, 1)} ms ({num(out.ttftMs / out.promptTokens, 2)} ms per prompt token) · {num(out.tokensPerSec, 0)} tokens/s</>}
              </p>
            </div>
          )}
        </>
      )}
    </div>
  );
}

/** NLL of every variant against its bits per weight (log scale), the random plans, and the entropy floor. */
function NllVsBits({ detail }: { detail: RunDetail }) {
  const variants = last(detail, 'variants');
  const ref = last(detail, 'reference');
  if (!variants || !ref) return null;
  const points = variants.map((v) => ({ bpw: v.bpw, nll: v.nll, name: AFM_VARIANT_LABELS[v.variant] }));
  const random = ref.randomPlans.map((r, i) => ({ bpw: r.bpw, nll: r.nll, name: `random placement ${i + 1}` }));
  const others = [{ bpw: 32, nll: ref.teacher.nll, name: 'teacher (full FFN)' }, { bpw: 32, nll: ref.scratch.nll, name: 'student trained alone' }];
  const all = [...points, ...random, ...others].map((p) => p.nll);
  const lo = Math.min(...all, ref.entropyFloor ?? Infinity), hi = Math.max(...all);
  return (
    <div className="chart-box" data-testid="afm-nll-bits">
      <h3>NLL against bits per weight (projections; tables and adapters counted)</h3>
      <ResponsiveContainer width="100%" height={260}>
        <ScatterChart margin={{ top: 8, right: 24, bottom: 18, left: 10 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="bpw" type="number" scale="log" domain={[2, 40]} ticks={[2, 3, 4, 8, 16, 32]} tick={{ fontSize: 11 }}
            label={{ value: 'bits per weight (log scale)', position: 'insideBottom', offset: -10, fontSize: 11 }} />
          <YAxis dataKey="nll" type="number" domain={[Math.floor((lo - 0.02) * 50) / 50, Math.ceil((hi + 0.02) * 50) / 50]} tick={{ fontSize: 11 }}
            label={{ value: 'validation NLL (nats / token)', angle: -90, position: 'insideLeft', fontSize: 11, style: { textAnchor: 'middle' } }} />
          <Tooltip content={({ payload }) => {
            const pt = payload?.[0]?.payload as { name: string; nll: number; bpw: number } | undefined;
            return pt ? <div className="tooltip small">{pt.name}: {num(pt.nll)} nats at {num(pt.bpw, 2)} bits</div> : null;
          }} />
          <Legend verticalAlign="top" height={24} wrapperStyle={{ fontSize: 11 }} />
          {ref.entropyFloor !== null && <ReferenceLine y={ref.entropyFloor} stroke="#16a34a" strokeDasharray="6 3" label={{ value: `entropy floor ${num(ref.entropyFloor)}`, position: 'insideBottomRight', fontSize: 11, fill: '#16a34a' }} />}
          <Scatter name="variants of the student" data={points} fill="#2563eb" isAnimationActive={false} />
          <Scatter name="2-bit groups placed at random" data={random} fill="#dc2626" shape="cross" isAnimationActive={false} />
          <Scatter name="teacher / student alone" data={others} fill="#6b7280" shape="triangle" isAnimationActive={false} />
        </ScatterChart>
      </ResponsiveContainer>
    </div>
  );
}

function VariantsTable({ detail }: { detail: RunDetail }) {
  const variants = last(detail, 'variants');
  const ref = last(detail, 'reference');
  if (!variants || !ref) return null;
  return (
    <div className="table-scroll">
      <table className="variants" data-testid="afm-variants">
        <thead><tr>
          <th>variant</th><th>bits / weight</th><th>NLL</th><th title="KL(fp32 student ‖ variant) per token: how far palettization moved the predictions">KL from fp32</th>
          <th>top-1 agreement</th><th>ONNX file</th><th>session memory</th><th>onnxruntime tok/s</th><th>TF.js tok/s</th><th>TTFT / prompt token (ORT · TF.js)</th>
        </tr></thead>
        <tbody>
          {variants.map((v) => (
            <tr key={v.variant}>
              <td>{AFM_VARIANT_LABELS[v.variant]}</td><td>{num(v.bpw, 2)}</td><td>{num(v.nll)}</td><td>{v.variant === 'fp32' ? '—' : v.kl.toExponential(1)}</td><td>{v.top1 === null ? '—' : `${(v.top1 * 100).toFixed(1)} %`}</td>
              <td>{(v.onnxBytes / 1024).toFixed(0)} KiB</td><td>{num(v.sessionMb, 1)} MB</td><td>{num(v.ort.tokensPerSec, 0)}</td><td>{num(v.tfjs.tokensPerSec, 0)}</td>
              <td>{num(v.ort.ttftMsPerPromptToken, 2)} · {num(v.tfjs.ttftMsPerPromptToken, 2)} ms</td>
            </tr>
          ))}
          {ref.randomPlans.length > 0 && (
            <tr className="muted"><td>2-bit groups placed at random (mean of {ref.randomPlans.length})</td><td>{num(ref.randomPlans.reduce((a, r) => a + r.bpw, 0) / ref.randomPlans.length, 2)}</td>
              <td>{num(ref.randomPlans.reduce((a, r) => a + r.nll, 0) / ref.randomPlans.length)}</td><td>{(ref.randomPlans.reduce((a, r) => a + r.kl, 0) / ref.randomPlans.length).toExponential(1)}</td><td colSpan={6} /></tr>
          )}
          <tr className="muted"><td>teacher</td><td>32</td><td>{num(ref.teacher.nll)}</td><td /><td>{ref.teacher.top1 === null ? '—' : `${(ref.teacher.top1 * 100).toFixed(1)} %`}</td><td colSpan={5} /></tr>
          <tr className="muted"><td>student trained alone</td><td>32</td><td>{num(ref.scratch.nll)}</td><td /><td>{ref.scratch.top1 === null ? '—' : `${(ref.scratch.top1 * 100).toFixed(1)} %`}</td><td colSpan={5} /></tr>
        </tbody>
      </table>
      <p className="muted small">
        Top-1 agreement: the model's most likely token against the grammar's (known exactly), where more than one token was possible.
        {ref.entropyFloor !== null ? ` The text's entropy floor is ${num(ref.entropyFloor)} nats per token: no model can go below it.` : ' A user\'s text has no known floor; top-1 is next-token accuracy there.'}
        {' '}KL: how far a variant's predictions moved from the fp32 student's (a confident student's NLL can even fall with quantization noise; KL cannot).
        {' '}Session memory: resident memory grown by opening the onnxruntime session (it may expand palettes at load).
      </p>
    </div>
  );
}

/** Share of each projection's weights at 2 bits, per layer: darker = more 2-bit groups. */
function Allocation({ detail }: { detail: RunDetail }) {
  const a = last(detail, 'allocation');
  if (!a) return null;
  const grid = (title: string, rows: number[][], testId: string) => (
    <div>
      <h4 className="small">{title}</h4>
      <table className="afm-alloc" data-testid={testId}>
        <thead><tr><th />{a.projections.map((p) => <th key={p}>{p}</th>)}</tr></thead>
        <tbody>{rows.map((r, l) => (
          <tr key={l}><th>layer {l}</th>{r.map((share, j) => (
            <td key={j} style={{ background: `rgba(220, 38, 38, ${0.08 + 0.8 * share})`, color: share > 0.55 ? '#fff' : undefined }}
              title={`${(share * 100).toFixed(0)} % of layer ${l} ${a.projections[j]} at 2 bits`}>{(share * 100).toFixed(0)}</td>
          ))}</tr>
        ))}</tbody>
      </table>
    </div>
  );
  return (
    <div className="chart-box" data-testid="afm-allocation">
      <h3>2-bit share per projection (%), the rest at 4 bits</h3>
      <div className="row">{grid('mixed plan (least Fisher-weighted damage per bit first)', a.plan, 'afm-alloc-plan')}{a.random.length > 0 && grid('random placement (first draw)', a.random, 'afm-alloc-random')}</div>
    </div>
  );
}

/** A histogram of one group's weights with its palette values as red lines. */
function GroupHistogram({ g }: { g: Group }) {
  const W = 340, H = 130, bins = 48;
  const lo = Math.min(...g.values, ...g.table), hi = Math.max(...g.values, ...g.table);
  const span = hi - lo || 1;
  const counts = new Array<number>(bins).fill(0);
  for (const v of g.values) counts[Math.min(bins - 1, Math.floor(((v - lo) / span) * bins))]++;
  const top = Math.max(...counts);
  const x = (v: number) => 4 + ((v - lo) / span) * (W - 8);
  return (
    <figure className="afm-group">
      <svg width={W} height={H} role="img" aria-label={`${g.matrix} group ${g.group}: ${g.values.length} weights, ${g.table.length} palette values`}>
        {counts.map((c, i) => <rect key={i} x={4 + (i * (W - 8)) / bins} y={H - 16 - (c / top) * (H - 24)} width={(W - 8) / bins - 1} height={(c / top) * (H - 24)} fill="#93c5fd" />)}
        {g.table.map((t, i) => <line key={i} x1={x(t)} x2={x(t)} y1={4} y2={H - 16} stroke="#dc2626" strokeWidth={1.5} />)}
        <text x={4} y={H - 3} fontSize={10}>{lo.toFixed(3)}</text>
        <text x={W - 4} y={H - 3} fontSize={10} textAnchor="end">{hi.toFixed(3)}</text>
      </svg>
      <figcaption className="small muted">{g.matrix}, columns {g.group * 16}–{g.group * 16 + 15}: {g.values.length} weights, {g.bits}-bit palette of {g.table.length} values</figcaption>
    </figure>
  );
}

function ExportVariant({ detail }: { detail: RunDetail }) {
  const interactive = useInteractive();
  const canQuery = interactive && detail.run.status === 'succeeded';
  const [variant, setVariant] = useState<AfmVariant>('mixedLora');
  const [folder, setFolder] = useState('');
  const [out, setOut] = useState<Exported>();
  const [err, setErr] = useState<string>();
  if (!canQuery) return null;
  const go = () => {
    setErr(undefined); setOut(undefined);
    api.query(detail.run.id, 'exportVariant', { variant, folder: folder.trim() }).then((r) => setOut(r as Exported), (e: Error) => setErr(e.message));
  };
  return (
    <div className="chart-box" data-testid="afm-export">
      <h3>Export a variant</h3>
      <p className="small muted">
        Writes a Hugging Face folder (onnx/model.onnx, config.json, generation_config.json, tokenizer.json, tokenizer_config.json;
        the recovery adapters as lora/adapter_model.safetensors) into an empty or new folder on this machine. transformers.js loads it offline.
      </p>
      <div className="row">
        <select value={variant} onChange={(e) => setVariant(e.target.value as AfmVariant)} aria-label="variant to export">{AFM_VARIANTS.map((v) => <option key={v} value={v}>{AFM_VARIANT_LABELS[v]}</option>)}</select>
        <input value={folder} onChange={(e) => setFolder(e.target.value)} placeholder="/absolute/path/to/a/new/folder" className="afm-folder" data-testid="afm-export-folder" aria-label="destination folder" />
        <button onClick={go} data-testid="afm-export-go">Export</button>
      </div>
      {err && <p className="error" role="alert">{err}</p>}
      {out && <p className="small" data-testid="afm-export-done">wrote {out.files.length} files ({(out.bytes / 1024).toFixed(0)} KiB) to <code>{out.path}</code>: {out.files.join(', ')}</p>}
    </div>
  );
}

export function AfmOndevicePanel({ detail }: { detail: RunDetail }) {
  const groups = last(detail, 'groups') ?? [];
  const generations = last(detail, 'generations') ?? [];
  if (!last(detail, 'variants')) {
    if (['failed', 'cancelled'].includes(detail.run.status)) return null;
    return <div className="panel"><p className="muted">The variants appear when they are trained, palettized, exported and timed (the teacher is trained once and cached).</p></div>;
  }
  return (
    <div className="panel panel-afm">
      <Playground detail={detail} />
      <div className="row">
        <div className="afm-half"><NllVsBits detail={detail} /></div>
        <div className="afm-half"><Allocation detail={detail} /></div>
      </div>
      <VariantsTable detail={detail} />
      {groups.length > 0 && <div className="chart-box" data-testid="afm-groups"><h3>One group&apos;s weights and its palette</h3><div className="row">{groups.map((g) => <GroupHistogram key={`${g.matrix}-${g.group}`} g={g} />)}</div></div>}
      {generations.length > 0 && (
        <div className="table-scroll">
          <table className="variants afm-generations" data-testid="afm-generations">
            <thead><tr><th>prompt</th>{AFM_VARIANTS.map((v) => <th key={v}>{AFM_VARIANT_LABELS[v]}</th>)}</tr></thead>
            <tbody>{generations.map((g, i) => <tr key={i}><td className="muted">{g.prompt}</td>{AFM_VARIANTS.map((v) => <td key={v}>{g.outputs[v]}</td>)}</tr>)}</tbody>
          </table>
        </div>
      )}
      <ExportVariant detail={detail} />
    </div>
  );
}
