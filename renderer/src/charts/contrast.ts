// Text drawn on a coloured cell (heatmaps, legends) takes its colour from the cell, not from
// the theme: black or white, whichever contrasts more (WCAG relative luminance).

const linear = (c: number) => { const s = c / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };

/** Relative luminance of an sRGB colour, 0 (black) … 1 (white). */
export function luminance([r, g, b]: readonly [number, number, number]): number {
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

/** '#111827' on light cells, '#ffffff' on dark ones. */
export function readableTextOn(rgb: readonly [number, number, number]): string {
  const l = luminance(rgb);
  const onDarkText = (l + 0.05) / (luminance([17, 24, 39]) + 0.05);
  const onWhiteText = (1.05) / (l + 0.05);
  return onDarkText >= onWhiteText ? '#111827' : '#ffffff';
}
