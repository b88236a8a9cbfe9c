// Rows of 28x28 grey images (0..255 bytes) drawn on one canvas, scaled up crisply.
import { useEffect, useRef } from 'react';

export function ImageStrip({ rows, labels, scale = 3 }: { rows: number[][][]; labels: string[]; scale?: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const cols = Math.max(0, ...rows.map((r) => r.length));
  const labelW = labels.some((l) => l) ? 110 : 0, gap = 4, size = 28 * scale;
  useEffect(() => {
    const c = ref.current; if (!c) return;
    const g = c.getContext('2d')!;
    g.fillStyle = '#fff'; g.fillRect(0, 0, c.width, c.height);
    g.font = '12px system-ui, sans-serif'; g.fillStyle = '#374151'; g.textBaseline = 'middle';
    const img = g.createImageData(28, 28);
    const tmp = document.createElement('canvas'); tmp.width = 28; tmp.height = 28;
    const tg = tmp.getContext('2d')!;
    g.imageSmoothingEnabled = false;
    rows.forEach((row, r) => {
      g.fillStyle = '#374151';
      g.fillText(labels[r] ?? '', 0, r * (size + gap) + size / 2);
      row.forEach((px, i) => {
        for (let p = 0; p < 784; p++) { const v = px[p]; img.data[p * 4] = v; img.data[p * 4 + 1] = v; img.data[p * 4 + 2] = v; img.data[p * 4 + 3] = 255; }
        tg.putImageData(img, 0, 0);
        g.drawImage(tmp, labelW + i * (size + gap), r * (size + gap), size, size);
      });
    });
  }, [rows, labels, size]);
  return <canvas ref={ref} width={labelW + cols * (size + gap)} height={rows.length * (size + gap)} data-testid="image-strip" />;
}
