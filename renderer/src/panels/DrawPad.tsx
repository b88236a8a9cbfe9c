// Draw a digit; it is centred and scaled as MNIST digits are (20x20 box by mass centre
// in a 28x28 field) before it is sent to a model.
import { useRef, useState } from 'react';

export function toMnist(src: HTMLCanvasElement): number[] {
  const w = src.width, h = src.height;
  const data = src.getContext('2d')!.getImageData(0, 0, w, h).data;
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (data[(y * w + x) * 4 + 3] > 20) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  const out = new Array<number>(784).fill(0);
  if (x1 < 0) return out;
  const box = Math.max(x1 - x0 + 1, y1 - y0 + 1);
  const tmp = document.createElement('canvas'); tmp.width = 28; tmp.height = 28;
  const g = tmp.getContext('2d')!;
  const scale = 20 / box;
  g.drawImage(src, x0, y0, x1 - x0 + 1, y1 - y0 + 1, 4 + (20 - (x1 - x0 + 1) * scale) / 2, 4 + (20 - (y1 - y0 + 1) * scale) / 2, (x1 - x0 + 1) * scale, (y1 - y0 + 1) * scale);
  const px = g.getImageData(0, 0, 28, 28).data;
  let mx = 0, my = 0, m = 0;
  for (let i = 0; i < 784; i++) { const v = px[i * 4 + 3] / 255; m += v; mx += (i % 28) * v; my += Math.floor(i / 28) * v; }
  const dx = Math.round(13.5 - mx / m), dy = Math.round(13.5 - my / m);
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
    const sx = x - dx, sy = y - dy;
    if (sx >= 0 && sx < 28 && sy >= 0 && sy < 28) out[y * 28 + x] = px[(sy * 28 + sx) * 4 + 3] / 255;
  }
  return out;
}

export function DrawPad({ onDigit, size = 168 }: { onDigit: (pixels: number[]) => void; size?: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [drawing, setDrawing] = useState(false);
  const pos = (e: React.PointerEvent) => { const r = ref.current!.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
  const stroke = (e: React.PointerEvent) => {
    if (!drawing) return;
    const g = ref.current!.getContext('2d')!;
    const [x, y] = pos(e);
    g.fillStyle = '#000'; g.beginPath(); g.arc(x, y, size / 18, 0, 2 * Math.PI); g.fill();
  };
  return (
    <div className="drawpad">
      <canvas ref={ref} width={size} height={size} data-testid="drawpad"
        onPointerDown={(e) => { setDrawing(true); stroke(e); }} onPointerMove={stroke}
        onPointerUp={() => { setDrawing(false); onDigit(toMnist(ref.current!)); }} onPointerLeave={() => setDrawing(false)} />
      <button onClick={() => { ref.current!.getContext('2d')!.clearRect(0, 0, size, size); }}>Clear</button>
    </div>
  );
}
