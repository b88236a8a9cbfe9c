// A confusion matrix drawn on a canvas: rows are true classes, columns predictions, each axis
// titled. Drawn on white like the other figures, so it reads the same in either theme.
import { useEffect, useRef } from 'react';

export function ConfusionMatrix({ classes, matrix, size = 360 }: { classes: readonly string[]; matrix: number[][]; size?: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current; if (!c) return;
    const g = c.getContext('2d')!;
    const n = classes.length, pad = 84, cell = (size - pad) / n;
    const dpr = window.devicePixelRatio || 1;
    c.width = size * dpr; c.height = size * dpr; g.scale(dpr, dpr);
    g.fillStyle = '#fff'; g.fillRect(0, 0, size, size);
    g.font = '600 11px system-ui, sans-serif'; g.fillStyle = '#111827';
    g.textAlign = 'center'; g.textBaseline = 'top';
    g.fillText('predicted class →', pad + (size - pad) / 2, 2);
    g.save(); g.translate(2, pad + (size - pad) / 2); g.rotate(-Math.PI / 2); g.fillText('← true class', 0, 0); g.restore();
    g.font = '11px system-ui, sans-serif';
    for (let i = 0; i < n; i++) {
      const rowTotal = matrix[i].reduce((a, b) => a + b, 0) || 1;
      for (let j = 0; j < n; j++) {
        const f = matrix[i][j] / rowTotal;
        // Diagonal in blue, errors in red, intensity = row share.
        g.fillStyle = i === j ? `rgba(37,99,235,${0.08 + 0.92 * f})` : `rgba(220,38,38,${f > 0 ? 0.1 + 0.9 * Math.min(1, f * 5) : 0.03})`;
        g.fillRect(pad + j * cell, pad + i * cell, cell - 1, cell - 1);
        if (matrix[i][j] > 0) {
          g.fillStyle = i === j && f > 0.5 ? '#fff' : '#111';
          g.textAlign = 'center'; g.textBaseline = 'middle';
          g.fillText(String(matrix[i][j]), pad + (j + 0.5) * cell, pad + (i + 0.5) * cell);
        }
      }
      g.fillStyle = '#374151'; g.textAlign = 'right'; g.textBaseline = 'middle';
      g.fillText(classes[i].slice(0, 10), pad - 4, pad + (i + 0.5) * cell);
      g.save(); g.translate(pad + (i + 0.5) * cell, pad - 4); g.rotate(-Math.PI / 3); g.textAlign = 'left';
      g.fillText(classes[i].slice(0, 10), 0, 0); g.restore();
    }
  }, [classes, matrix, size]);
  return <canvas ref={ref} style={{ width: size, height: size }} data-testid="confusion-matrix" aria-label="confusion matrix: rows true class, columns predicted" />;
}
