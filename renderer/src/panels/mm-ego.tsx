// Egocentric video QA: a clip player with its narration timeline, each question with the
// glimpse scores drawn over the timeline (selected and key frames marked), the k frames
// large, every model's answer; the MDA table by length bin; a question of the user's own
// answered live; the data engine run on the user's own Ego4D narration file.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { z } from 'zod';
import type { RunDetail } from '../../../common/api';
import { lastSampleOf } from '../../../common/lab-contract';
import { EGO_ASK_KINDS, EGO_QA_KINDS, mmEgoQueries, mmEgoSamples } from '../../../common/labs/mm-ego';
import { EGO_CONTAINERS, EGO_OBJECTS, EGO_PLACES } from '../../../common/ego-vocabulary';
import { api } from '../bridge';
import { STATIC_NOTE, useInteractive } from './interactive';

type Clip = z.output<typeof mmEgoSamples.clips>[number];
type Answered = Clip['questions'][number];
type Frames = z.output<typeof mmEgoQueries.frames.result>;
type Asked = z.output<typeof mmEgoQueries.ask.result>;
type Written = z.output<typeof mmEgoQueries.writeQa.result>;

const LETTERS = ['A', 'B', 'C', 'D'];
const PLACES: readonly string[] = EGO_PLACES, CONTAINERS: readonly string[] = EGO_CONTAINERS, OBJECTS: readonly string[] = EGO_OBJECTS;
const MODELS: [string, string][] = [['pointer', 'pointer (top-k)'], ['uniform', 'uniform k'], ['allFrames', 'all frames'], ['blind', 'blind'], ['pointerAlpha0', 'pointer, α = 0']];
const pct = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '—' : `${(v * 100).toFixed(1)}`);

function FrameCanvas({ frames, index, scale, label }: { frames: Frames; index: number; scale: number; label?: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const S = frames.size;
  useEffect(() => {
    const c = ref.current, px = frames.frames[index];
    if (!c || !px) return;
    const g = c.getContext('2d')!;
    const img = g.createImageData(S, S);
    for (let p = 0; p < S * S; p++) { const v = px[p]; img.data[p * 4] = v; img.data[p * 4 + 1] = v; img.data[p * 4 + 2] = v; img.data[p * 4 + 3] = 255; }
    const tmp = document.createElement('canvas'); tmp.width = S; tmp.height = S;
    tmp.getContext('2d')!.putImageData(img, 0, 0);
    g.imageSmoothingEnabled = false;
    g.drawImage(tmp, 0, 0, S * scale, S * scale);
  }, [frames, index, S, scale]);
  return <figure className="ego-frame"><canvas ref={ref} width={S * scale} height={S * scale} />{label && <figcaption className="small muted">{label}</figcaption>}</figure>;
}

/** Glimpse scores over the timeline, with the selected frames (bars), key frames (ticks) and the playhead. */
interface TimelineProps {
  length: number; scores?: number[]; selected?: number[]; keyFrames?: number[]; uniform?: number[];
  narrations: Clip['narrations']; at: number; onSeek: (f: number) => void;
}

function ScoreTimeline({ length, scores, selected, keyFrames, uniform, narrations, at, onSeek }: TimelineProps) {
  const W = 640, H = 90, pad = 6;
  const x = (f: number) => pad + ((f + 0.5) / length) * (W - 2 * pad);
  const max = Math.max(1e-6, ...(scores ?? [0]));
  const y = (s: number) => H - 18 - (s / max) * (H - 30);
  const seek = (e: React.MouseEvent<SVGSVGElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    onSeek(Math.max(0, Math.min(length - 1, Math.floor(((e.clientX - r.left) / r.width * W - pad) / (W - 2 * pad) * length))));
  };
  return (
    <svg className="ego-timeline" viewBox={`0 0 ${W} ${H}`} onClick={seek} data-testid="ego-scores" role="img" aria-label="glimpse scores over the clip">
      {narrations.map((n, i) => <circle key={`n${i}`} cx={x(n.frame)} cy={3} r={2.5} className="ego-narration-dot"><title>{`${n.timestampSec}s ${n.text}`}</title></circle>)}
      {selected?.map((f) => <rect key={`s${f}`} x={x(f) - 3} y={6} width={6} height={H - 24} className="ego-selected" />)}
      {uniform?.map((f) => <line key={`u${f}`} x1={x(f)} x2={x(f)} y1={H - 16} y2={H - 10} className="ego-uniform" />)}
      {scores && <polyline fill="none" className="ego-curve" points={scores.map((s, f) => `${x(f)},${y(s)}`).join(' ')} />}
      {keyFrames?.map((f) => <path key={`k${f}`} d={`M${x(f)} ${H - 10} l-4 8 h8 z`} className="ego-key" />)}
      <line x1={x(at)} x2={x(at)} y1={0} y2={H} className="ego-playhead" />
      <text x={pad} y={H - 1} className="ego-axis">frame 0</text>
      <text x={W - pad} y={H - 1} textAnchor="end" className="ego-axis">{length - 1}</text>
    </svg>
  );
}

function AnswerLine({ who, pick, right }: { who: string; pick: number; right: number }) {
  const ok = right >= 0 && pick === right;
  return <li className={right < 0 ? '' : ok ? 'ok' : 'bad'}>{who}: <b>{LETTERS[pick]}</b>{right >= 0 && (ok ? ' ✓' : ' ✗')}</li>;
}

function Options({ options, right }: { options: string[]; right: number }) {
  return <ol className="ego-options">{options.map((o, i) => <li key={i} className={i === right ? 'right' : ''}><b>{LETTERS[i]}</b> {o}{i === right && <span className="small muted"> (correct)</span>}</li>)}</ol>;
}

export function MmEgoPanel({ detail }: { detail: RunDetail }) {
  const bins = lastSampleOf(mmEgoSamples, detail.samples, 'bins');
  const dataset = lastSampleOf(mmEgoSamples, detail.samples, 'dataset');
  const clips = lastSampleOf(mmEgoSamples, detail.samples, 'clips');
  const interactive = useInteractive();
  const canQuery = interactive && detail.run.status === 'succeeded';
  const [clipAt, setClipAt] = useState(0);
  const clip: Clip | undefined = clips?.[clipAt];
  const [qAt, setQAt] = useState(0);
  const q: Answered | undefined = clip?.questions[qAt];
  const [frames, setFrames] = useState<Frames>();
  const [frame, setFrame] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [fps, setFps] = useState(4);
  const [err, setErr] = useState<string>();
  const [asked, setAsked] = useState<Asked>();
  const [askKind, setAskKind] = useState<(typeof EGO_QA_KINDS)[number]>('where-left');
  const [askSubject, setAskSubject] = useState('bag');
  const [busy, setBusy] = useState(false);
  const [written, setWritten] = useState<Written>();
  const [fileErr, setFileErr] = useState<string>();

  useEffect(() => {
    setFrames(undefined); setFrame(0); setPlaying(false); setAsked(undefined); setQAt(0);
    if (!clip || !canQuery) return;
    api.query(detail.run.id, 'frames', { clip: clip.index }).then((r) => setFrames(r as Frames), (e: Error) => setErr(e.message));
  }, [clip?.index, canQuery, detail.run.id]);
  useEffect(() => {
    if (!playing || !clip) return;
    const t = setInterval(() => setFrame((f) => (f + 1 >= clip.length ? (setPlaying(false), f) : f + 1)), 1000 / fps);
    return () => clearInterval(t);
  }, [playing, fps, clip]);

  const subjects = askKind === 'count-open' ? CONTAINERS : EGO_ASK_KINDS[askKind] === 'place' ? PLACES : OBJECTS;
  useEffect(() => { if (!subjects.includes(askSubject)) setAskSubject(subjects[0]); }, [askKind]);
  const narrationAt = useMemo(() => clip?.narrations.findLastIndex((n) => n.frame <= frame) ?? -1, [clip, frame]);

  const ask = () => {
    if (!clip) return;
    setErr(undefined); setBusy(true);
    api.query(detail.run.id, 'ask', { clip: clip.index, kind: askKind, subject: askSubject }).then((r) => setAsked(r as Asked), (e: Error) => setErr(e.message)).finally(() => setBusy(false));
  };
  const upload = async (file: File | undefined) => {
    setWritten(undefined); setFileErr(undefined);
    if (!file) return;
    if (file.size > 4 * 1024 * 1024) { setFileErr(`${file.name} is ${(file.size / 1048576).toFixed(1)} MB; narration files over 4 MB are not read`); return; }
    const text = await file.text();
    api.query(detail.run.id, 'writeQa', { text }).then((r) => setWritten(r as Written), (e: Error) => setFileErr(`${file.name}: ${e.message}`));
  };
  const keys = (e: React.KeyboardEvent) => {
    // Keys typed into a control (a select's arrows, space on a button) belong to that control.
    if (!clip || (e.target as HTMLElement).closest('input, select, button, textarea')) return;
    if (e.key === ' ') { e.preventDefault(); setPlaying((p) => !p); }
    else if (e.key === 'ArrowRight') { e.preventDefault(); setFrame((f) => Math.min(clip.length - 1, f + 1)); }
    else if (e.key === 'ArrowLeft') { e.preventDefault(); setFrame((f) => Math.max(0, f - 1)); }
  };
  const shown = asked ?? q;

  return (
    <div className="panel panel-ego">
      <section>
        <h3>De-biased accuracy by clip length (MDA, %)</h3>
        <div className="ego-table-scroll"><table className="variants" data-testid="mda-table">
          <thead><tr>
            <th>bin</th><th className="num">frames</th><th className="num">questions</th>{MODELS.map(([k, l]) => <th key={k} className="num">{l}</th>)}
            <th className="num" title="share of key frames within ±1 of a kept frame; uniform selection in brackets">recall@k</th>
          </tr></thead>
          <tbody>
            {bins?.map((r) => (
              <tr key={r.bin}>
                <td>{r.bin}</td><td className="num">{r.frames ?? '—'}</td><td className="num">{r.questions}</td>
                {MODELS.map(([k]) => <td key={k} className="num" title={`raw accuracy ${pct(r.rawAcc[k])} %`}>{pct(r.mda[k])}<span className="muted small"> / {pct(r.rawAcc[k])}</span></td>)}
                <td className="num">{pct(r.recallAtK)}<span className="muted small"> ({pct(r.recallUniform)})</span></td>
              </tr>
            ))}
            {!bins && <tr><td colSpan={9} className="muted">the table appears when the models are evaluated</td></tr>}
          </tbody>
        </table></div>
        <p className="small muted">Each cell: MDA / raw accuracy; recall@k: the pointer's (uniform selection's). MDA averages, over the four compared models, accuracy on the questions that model gets wrong without video. Chance is 25 %.</p>
        {dataset && <p className="small muted" data-testid="ego-dataset">Data engine: {dataset.trainQuestions} training and {dataset.testQuestions} test questions; correct letter A/B/C/D {dataset.letters.join(' / ')} times.</p>}
      </section>

      {clips && clip && (
        <section className="ego-player" tabIndex={0} onKeyDown={keys} data-testid="ego-player" aria-label="clip player (space plays, arrows step)">
          <h3>Clip <select value={clipAt} onChange={(e) => setClipAt(Number(e.target.value))} data-testid="ego-clip">
            {clips.map((c, i) => <option key={c.index} value={i}>{c.bin} · {c.length} frames · test clip {c.index}</option>)}
          </select></h3>
          <div className="row">
            <div>
              {frames ? <FrameCanvas frames={frames} index={frame} scale={Math.round(256 / frames.size)} label={`frame ${frame} of ${clip.length - 1}`} />
                : <div className="ego-noframes muted small">{!interactive ? `Frames are not stored in ${STATIC_NOTE}.` : canQuery ? 'loading frames…' : 'Frames are drawn by the trained run: available when it has succeeded.'}</div>}
              <div className="ego-controls">
                <button onClick={() => setFrame((f) => Math.max(0, f - 1))} aria-label="previous frame">◀</button>
                <button onClick={() => setPlaying((p) => !p)} data-testid="ego-play">{playing ? 'Pause' : 'Play'}</button>
                <button onClick={() => setFrame((f) => Math.min(clip.length - 1, f + 1))} aria-label="next frame">▶</button>
                <input type="range" min={0} max={clip.length - 1} value={frame} onChange={(e) => setFrame(Number(e.target.value))} aria-label="scrub" />
                <select value={fps} onChange={(e) => setFps(Number(e.target.value))} aria-label="speed">{[1, 2, 4, 8].map((v) => <option key={v} value={v}>{v} fps</option>)}</select>
              </div>
            </div>
            <ol className="ego-narrations small" data-testid="ego-narrations">
              {clip.narrations.map((n, i) => <li key={i} className={i === narrationAt ? 'now' : ''} onClick={() => setFrame(n.frame)}><span className="muted">{n.timestampSec}s</span> {n.text}</li>)}
            </ol>
          </div>
          <ScoreTimeline length={clip.length} scores={shown?.scores} selected={shown?.selected} keyFrames={shown?.keyFrames} uniform={q?.uniform} narrations={clip.narrations} at={frame} onSeek={setFrame} />
          <p className="small muted">Dots along the top: narrations (hover to read); curve: glimpse scores; shaded bars: the k frames kept; triangles: ground-truth key frames; short ticks: uniform selection.</p>

          <h3>Question <select value={qAt} onChange={(e) => { setQAt(Number(e.target.value)); setAsked(undefined); }} data-testid="ego-question">
            {clip.questions.map((x, i) => <option key={i} value={i}>{x.question}</option>)}
          </select></h3>
          {asked ? (
            <div data-testid="ego-asked">
              <p><b>{asked.question}</b> <span className="small muted">(your question; {asked.answerNote})</span></p>
              <Options options={asked.options} right={asked.answerIndex} />
              <ul className="ego-answers"><AnswerLine who="pointer" pick={asked.pointer} right={asked.answerIndex} /><AnswerLine who="blind" pick={asked.blind} right={asked.answerIndex} /></ul>
            </div>
          ) : q && (
            <div data-testid="ego-answered">
              <p><b>{q.question}</b> <span className="small muted">cites sentence{q.cited.length > 1 ? 's' : ''} {q.cited.map((c) => c + 1).join(', ')}</span></p>
              <Options options={q.options} right={q.answerIndex} />
              <ul className="ego-answers">
                <AnswerLine who="pointer" pick={q.pointer} right={q.answerIndex} /><AnswerLine who="uniform k" pick={q.uniformAnswer} right={q.answerIndex} />
                <AnswerLine who="all frames" pick={q.allFrames} right={q.answerIndex} /><AnswerLine who="blind" pick={q.blind} right={q.answerIndex} />
              </ul>
            </div>
          )}
          {frames && shown && (
            <div className="row ego-kept" data-testid="ego-kept">
              {shown.selected.map((f) => <FrameCanvas key={f} frames={frames} index={f} scale={4} label={`frame ${f}${shown.keyFrames.includes(f) ? ' (key)' : ''}`} />)}
            </div>
          )}

          <h3>Ask your own</h3>
          {!canQuery ? <p className="muted small">{interactive ? 'Asking needs the trained models: available when the run has succeeded.' : `Disabled in ${STATIC_NOTE}.`}</p> : (
            <div className="row">
              <select value={askKind} onChange={(e) => setAskKind(e.target.value as typeof askKind)} aria-label="question kind" data-testid="ego-ask-kind">{EGO_QA_KINDS.map((k) => <option key={k} value={k}>{k}</option>)}</select>
              <select value={askSubject} onChange={(e) => setAskSubject(e.target.value)} aria-label="about" data-testid="ego-ask-subject">{subjects.map((s) => <option key={s} value={s}>{s}</option>)}</select>
              <button className="primary" onClick={ask} disabled={busy} data-testid="ego-ask">Ask</button>
              {asked && <button onClick={() => setAsked(undefined)}>Back to the clip's questions</button>}
            </div>
          )}
          {err && <p className="error">{err}</p>}
        </section>
      )}

      <section>
        <h3>Questions from your narrations</h3>
        <p className="small muted">A narration file in Ego4D's layout ({'{video_uid: {narration_pass_1: {narrations: [{timestamp_sec, narration_text}]}}}'});
          sentences like “#C C puts the cup in the drawer” become questions citing them.</p>
        <label className="dropzone">{canQuery ? 'Choose a .json narration file' : 'Available when the run has succeeded'}
          <input type="file" accept=".json,application/json" disabled={!canQuery} onChange={(e) => void upload(e.target.files?.[0])} data-testid="ego-upload" hidden />
        </label>
        {fileErr && <p className="error" data-testid="ego-upload-error">{fileErr}</p>}
        {written && <div data-testid="ego-written">{written.videos.map((v) => (
          <details key={v.uid} open={written.videos.length === 1}>
            <summary>{v.uid}: {v.questions.length} questions from {v.understood} of {v.narrations} sentences</summary>
            <ul className="small">{v.questions.map((x, i) => (
              <li key={i}>
                {x.question} {x.options.map((o, j) => `${LETTERS[j]} ${o}`).join(' · ')} → <b>{LETTERS[x.answerIndex]}</b> <span className="muted">(key frames {x.keyFrames.join(', ')})</span>
              </li>
            ))}</ul>
            {!v.questions.length && <p className="small muted">No question could be written: too few sentences of the kinds the writer reads, or fewer than four different answers of a type for the distractors.</p>}
          </details>
        ))}</div>}
      </section>
    </div>
  );
}
