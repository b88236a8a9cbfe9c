// The standard codecs a codec comparison draws beside the learned ones (workers/coding/anchors.ts).
export const ANCHOR_FORMATS = ['jpeg', 'webp', 'avif'] as const;
export type AnchorFormat = (typeof ANCHOR_FORMATS)[number];
export const ANCHOR_LABELS: Record<AnchorFormat, string> = { jpeg: 'JPEG (mozjpeg)', webp: 'WebP', avif: 'AVIF' };
