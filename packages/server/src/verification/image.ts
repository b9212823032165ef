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
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = Object.freeze({ maxSide: 1280 });

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
  const format = imageFormat(bytes);
  if (!format) throw new ImageDecodeError('unsupported_format');
  const size = format === 'png' ? pngSize(bytes) : jpegSize(bytes);
  if (!size) throw new ImageDecodeError('corrupt');
  if (size.width > limits.maxSide || size.height > limits.maxSide) throw new ImageDecodeError('too_large');
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
