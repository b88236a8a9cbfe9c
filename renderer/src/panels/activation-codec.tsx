import { useMemo, useState } from 'react';
import { Bar, BarChart, CartesianGrid, ComposedChart, Legend, Line, LineChart, ResponsiveContainer, Scatter, Tooltip, XAxis, YAxis } from 'recharts';
import type { z } from 'zod';
import type { RunDetail } from '../../../common/api';
import { lastSampleOf } from '../../../common/lab-contract';
import { activationCodecQueries, activationCodecSamples } from '../../../common/labs/activation-codec';
import { api } from '../bridge';
import { STATIC_NOTE, useInteractive } from './interactive';
import { ImageStrip } from './ImageStrip';
import { fileToModelInput } from './imageFile';
import { formatMetric } from '../../../common/metrics';

type Compressed = z.output<typeof activationCodecQueries.compress.result>;

const COLORS = { raw: '#9ca3af', eg4: '#f59e0b', seg: '#10b981', gaussian: '#2563eb' };
const sample = <N extends keyof typeof activationCodecSamples>(d: RunDetail, kind: N) => lastSampleOf(activationCodecSamples, d.samples, kind);
const toBytes = (xs: number[]) => xs.map((v) => Math.round(v * 255));

export function ActivationCodecPanel({ detail }: { detail: RunDetail }) {
  const layers = sample(detail, 'layer-bits');
  const hists = sample(detail, 'histograms');
  const images = sample(detail, 'images');
  const rd = sample(detail, 'rd');
  const energy = sample(detail, 'energy');
  const m = detail.run.summary?.metrics;
  const p = detail.run.params as { batchSize: number; bitDepth: number; fineTuneCoder: string; transform: string; trainCodec: boolean; lambda: number };
  const [layer, setLayer] = useState(0);
  const interactive = useInteractive();
  const [mine, setMine] = useState<{ input: number[]; out: Compressed; note: string }>();
  const [err, setErr] = useState<string>();
  const hist = hists?.[layer];
  const histData = useMemo(() => hist?.after.map((v, i) => ({ level: i, before: hist.before[i] || null, after: v || null, gaussian: hist.gaussian[i] > 0.01 ? hist.gaussian[i] : null })), [hist]);

  const onFile = async (file: File | undefined) => {
    if (!file) return;
    setErr(undefined);
    try {
      const { pixels, inverted } = await fileToModelInput(file);
      const out = await api.query(detail.run.id, 'compress', { pixels }) as Compressed;
      setMine({ input: pixels, out, note: `grey-scaled and resized to 28x28${inverted ? ', inverted (light background)' : ''}` });
    } catch (e) { setErr((e as Error).message); }
  };

  return (
    <div className="panel panel-actcodec">
      <div className="headline" data-testid="bandwidth-reduction">
        <div className="big">{m ? `${m.bandwidthReduction.toFixed(1)}×` : '…'}</div>
        <div>activation bandwidth reduction<br /><span className="muted">Gaussian coder vs 8-bit raw{m ? `; ${m.bandwidthReductionVsFloat32?.toFixed(1)}× vs float32` : ''}</span></div>
        {m && <div className="kv"><span>PSNR with / without coded activations</span><b>{formatMetric(m.psnrDb, 'dB')} / {formatMetric(m.psnrWithoutActivationCodingDb, 'dB')}</b></div>}
      </div>
      <p className="muted small">
        Accounting: a coded tensor is one hidden layer's activations for a batch of B = {p.batchSize} images, quantized per tensor to {p.bitDepth} bits.
        Its side information (min and max as float32; symmetric EG: one {p.bitDepth}-bit median per channel; Gaussian: float32 μ and σ per channel) is
        counted once per tensor and included in every bits-per-activation figure. Every stream is decoded and checked symbol by symbol.
        Fine-tune driven by the {p.fineTuneCoder} estimate; transform {p.transform}; codec weights {p.trainCodec ? 'fine-tuned too' : 'frozen'}.
        All coders code the same quantized values, so the images below are the same for every coder.
      </p>
      {layers && (
        <div className="chart-box">
          <h3>Bits per activation by layer and coder</h3>
          <ResponsiveContainer width="100%" height={240}>
            <BarChart margin={{ bottom: 14, left: 10 }} data={layers.map((l) => ({ ...l, layer: `${l.layer} (${(l.activations / l.tensors / 1000).toFixed(1)}k/tensor)` }))}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="layer" tick={{ fontSize: 11 }} label={{ value: 'layer (activations per tensor)', position: 'insideBottom', offset: -10, fontSize: 11 }} />
              <YAxis tick={{ fontSize: 11 }} domain={[0, 'auto']} label={{ value: 'bits per activation', angle: -90, position: 'insideLeft', fontSize: 11, style: { textAnchor: 'middle' } }} />
              <Tooltip formatter={(v) => Number(v).toFixed(3)} /><Legend wrapperStyle={{ fontSize: 11 }} />
              {(['raw', 'eg4', 'seg', 'gaussian'] as const).map((k) => <Bar key={k} dataKey={k} name={k === 'seg' ? 'symmetric EG' : k === 'eg4' ? 'EG-4' : k} fill={COLORS[k]} isAnimationActive={false} />)}
            </BarChart>
          </ResponsiveContainer>
        </div>
      )}
      {hists && histData && (
        <div className="chart-box">
          <h3>Activation histogram, {hist!.layer}: before and after the transform, with the fitted Gaussians
            <select value={layer} onChange={(e) => setLayer(Number(e.target.value))} style={{ marginLeft: 8 }}>{hists.map((h, i) => <option key={h.layer} value={i}>{h.layer}</option>)}</select></h3>
          <ResponsiveContainer width="100%" height={240}>
            <ComposedChart data={histData} margin={{ bottom: 14, left: 10 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="level" type="number" domain={[0, 'dataMax']} tick={{ fontSize: 11 }} allowDecimals={false} label={{ value: 'quantized level', position: 'insideBottom', offset: -10, fontSize: 11 }} />
              <YAxis scale="log" domain={[1, 'auto']} allowDataOverflow tick={{ fontSize: 11 }} label={{ value: 'count (log)', angle: -90, position: 'insideLeft', fontSize: 11, style: { textAnchor: 'middle' } }} />
              <Tooltip /><Legend wrapperStyle={{ fontSize: 11 }} />
              <Bar dataKey="after" name="after transform (coded)" fill="#93c5fd" isAnimationActive={false} />
              <Line dataKey="before" name="before transform" stroke="#6b7280" strokeDasharray="4 3" dot={false} isAnimationActive={false} connectNulls />
              <Line dataKey="gaussian" name="per-channel Gaussians (sum)" stroke="#1d4ed8" dot={false} isAnimationActive={false} connectNulls />
            </ComposedChart>
          </ResponsiveContainer>
        </div>
      )}
      {images && (
        <div className="chart-box">
          <h3>Test images: original, decoded with float activations, decoded with coded activations</h3>
          <ImageStrip rows={[images.map((i) => i.original), images.map((i) => i.without), images.map((i) => i.with)]} labels={['original', 'float activations', 'coded activations']} />
        </div>
      )}
      {rd && (
        <div className="chart-box">
          <h3>Rate–distortion of the MSE codec (bits counted from the bytes)</h3>
          <ResponsiveContainer width="100%" height={240}>
            <LineChart data={rd.points} margin={{ right: 16, bottom: 14, left: 10 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="bpp" type="number" domain={['auto', 'auto']} tick={{ fontSize: 11 }} label={{ value: 'rate (bpp)', position: 'insideBottom', offset: -10, fontSize: 11 }} />
              <YAxis dataKey="psnrDb" domain={['auto', 'auto']} tick={{ fontSize: 11 }} label={{ value: 'PSNR (dB)', angle: -90, position: 'insideLeft', fontSize: 11, style: { textAnchor: 'middle' } }} />
              <Tooltip formatter={(v) => Number(v).toFixed(3)} /><Legend wrapperStyle={{ fontSize: 11 }} />
              <Line dataKey="psnrDb" name="codec (float activations)" stroke="#111827" isAnimationActive={false} />
              <Scatter data={[rd.withActivations]} dataKey="psnrDb" name={`λ=${rd.withActivations.lambda}, coded activations`} fill="#dc2626" isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
      {energy && m && <p className="small">DRAM traffic energy at {energy.pjPerBit} pJ/bit ({energy.source}): {energy.rawNjPerImage.toFixed(1)} nJ per image raw → {energy.gaussianNjPerImage.toFixed(1)} nJ coded.</p>}
      {detail.run.status === 'succeeded' && (
        <div className="chart-box">
          <h3>Your image</h3>
          <label className="dropzone" onDragOver={(e) => e.preventDefault()} onDrop={(e) => { e.preventDefault(); if (interactive) void onFile(e.dataTransfer.files[0]); }}>
            Drop a PNG or JPEG here, or <input type="file" accept="image/png,image/jpeg" data-testid="image-input" disabled={!interactive} onChange={(e) => void onFile(e.target.files?.[0])} />
          </label>
          {!interactive && <p className="muted static-note" data-testid="static-note">Compressing your own image is disabled in {STATIC_NOTE}.</p>}
          {err && <p className="error" role="alert">{err}</p>}
          {mine && (
            <div data-testid="my-image">
              <p className="muted small">Your image was {mine.note}. Codec bitstream: {mine.out.bytes} bytes ({mine.out.bpp.toFixed(3)} bpp).
                PSNR {formatMetric(mine.out.psnrWithout, 'dB')} with float activations, {formatMetric(mine.out.psnrWith, 'dB')} with coded activations.</p>
              <ImageStrip rows={[[toBytes(mine.input)], [toBytes(mine.out.without)], [toBytes(mine.out.with)]]} labels={['input', 'float activations', 'coded activations']} scale={4} />
            </div>
          )}
        </div>
      )}
    </div>
  );
}
