import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** A decoded picture: 8-bit RGBA, row-major. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface DecodeLimits {
  /** Largest accepted width or height in pixels. */
  maxSide: number;
  /**
   * Largest accepted width × height. Decoding costs ~0.1 ms per 1,000 pixels in pure JS: the browser
   * sends at most 480 px wide (480 × 854 upright on a phone), so 1280 × 720 is refused from the header.
   */
  maxPixels: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = Object.freeze({ maxSide: 1280, maxPixels: 480 * 864 });

export type ImageErrorReason = 'unsupported_format' | 'too_large' | 'corrupt';

export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
  constructor(readonly reason: ImageErrorReason) {
    super(`image ${reason}`);
  }
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function imageFormat(bytes: Uint8Array): 'jpeg' | 'png' | undefined {
  if (bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length > 24 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  return undefined;
}

/**
 * Decodes an uploaded JPEG or PNG. The dimensions are read from the header and checked against
 * `limits` before any pixel is decompressed, so a small file cannot expand into a huge bitmap.
 */
export function decodeImage(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): RgbaImage {
  const { format } = checkHeader(bytes, limits);
  try {
    if (format === 'png') {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    }
    const maxMp = (limits.maxSide * limits.maxSide) / 1e6;
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: maxMp, maxMemoryUsageInMB: 64 });
    return { width: img.width, height: img.height, data: img.data };
  } catch {
    throw new ImageDecodeError('corrupt');
  }
}

/**
 * Format and dimensions from the header alone, checked against `limits`: no pixel is decoded.
 * Throws `ImageDecodeError` like `decodeImage`.
 */
export function checkHeader(
  bytes: Uint8Array,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): { format: 'jpeg' | 'png'; width: number; height: number } {
  const format = imageFormat(bytes);
  if (!format) throw new ImageDecodeError('unsupported_format');
  const size = format === 'png' ? pngSize(bytes) : jpegSize(bytes);
  if (!size || size.width === 0 || size.height === 0) throw new ImageDecodeError('corrupt');
  if (size.width > limits.maxSide || size.height > limits.maxSide || size.width * size.height > limits.maxPixels)
    throw new ImageDecodeError('too_large');
  return { format, ...size };
}

/**
 * Whether a picture is (nearly) one flat colour: the spread of luma over a grid of at most ~4,000
 * samples. A camera frame of a face has a spread of tens of levels even in poor light; a blank,
 * black or single-colour frame under `maxSpread`.
 */
export function isUniform(image: RgbaImage, maxSpread = 4): boolean {
  const { width, height, data } = image;
  const step = Math.max(1, Math.floor(Math.sqrt((width * height) / 4000)));
  let n = 0;
  let sum = 0;
  let sumSq = 0;
  for (let y = 0; y < height; y += step) {
    for (let x = 0; x < width; x += step) {
      const i = (y * width + x) * 4;
      const luma = 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
      n += 1;
      sum += luma;
      sumSq += luma * luma;
    }
  }
  const mean = sum / n;
  return Math.sqrt(Math.max(0, sumSq / n - mean * mean)) < maxSpread;
}

/** Nearest-neighbour shrink so that the longer side is at most `maxSide` (the face pre-check's input). */
export function downscale(image: RgbaImage, maxSide: number): RgbaImage {
  const scale = Math.min(1, maxSide / Math.max(image.width, image.height));
  if (scale === 1) return image;
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(image.height - 1, Math.floor(y / scale));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(image.width - 1, Math.floor(x / scale));
      data.set(image.data.subarray((sy * image.width + sx) * 4, (sy * image.width + sx) * 4 + 4), (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

function pngSize(b: Uint8Array): { width: number; height: number } | undefined {
  // The IHDR chunk comes first: length (4) "IHDR" (4) width (4) height (4).
  if (b[12] !== 0x49 || b[13] !== 0x48 || b[14] !== 0x44 || b[15] !== 0x52) return undefined;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

function jpegSize(b: Uint8Array): { width: number; height: number } | undefined {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i += 1;
      continue;
    }
    const len = (b[i + 2]! << 8) | b[i + 3]!;
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: (b[i + 5]! << 8) | b[i + 6]!, width: (b[i + 7]! << 8) | b[i + 8]! };
    }
    i += 2 + len;
  }
  return undefined;
}
