// A user's PNG/JPEG → 784 grey values in [0, 1], as the model's input: grey-scaled,
// resized to 28x28, and inverted when the background is light (MNIST digits are light
// on dark). Anything the browser cannot decode as an image is refused by name.
const MAX_IMAGE_BYTES = 20 * 2 ** 20;

export async function fileToModelInput(file: File): Promise<{ pixels: number[]; inverted: boolean }> {
  if (file.size > MAX_IMAGE_BYTES) throw new Error(`${file.name} is ${(file.size / 2 ** 20).toFixed(1)} MiB; images up to ${MAX_IMAGE_BYTES / 2 ** 20} MiB are taken (it becomes 28×28 pixels anyway)`);
  if (!/^image\/(png|jpeg)$/.test(file.type)) throw new Error(`${file.name} is not a PNG or JPEG image (type "${file.type || 'unknown'}")`);
  let bitmap: ImageBitmap;
  try { bitmap = await createImageBitmap(file); } catch { throw new Error(`${file.name} could not be decoded as an image`); }
  const c = document.createElement('canvas'); c.width = 28; c.height = 28;
  const g = c.getContext('2d')!;
  g.fillStyle = '#fff'; g.fillRect(0, 0, 28, 28);
  g.drawImage(bitmap, 0, 0, 28, 28);
  const d = g.getImageData(0, 0, 28, 28).data;
  const grey = Array.from({ length: 784 }, (_, i) => (0.299 * d[i * 4] + 0.587 * d[i * 4 + 1] + 0.114 * d[i * 4 + 2]) / 255);
  const border = [...Array(28).keys()].flatMap((i) => [grey[i], grey[27 * 28 + i], grey[i * 28], grey[i * 28 + 27]]);
  const inverted = border.reduce((a, b) => a + b, 0) / border.length > 0.5;
  return { pixels: inverted ? grey.map((v) => 1 - v) : grey, inverted };
}
