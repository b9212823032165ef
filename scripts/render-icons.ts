/**
 * Renders the app's PNG icons from apps/web/public/icon.svg with headless Chromium (the one the
 * tests use), for the web app manifest and iOS's home screen:
 *
 *   npx tsx scripts/render-icons.ts
 *
 * "any" icons keep the SVG's rounded square; the maskable one is full bleed (the launcher cuts its
 * own shape) with the two circles inside the central 80 % safe zone. The PNGs are committed: the
 * build does not need a browser.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const PUBLIC = fileURLToPath(new URL('../apps/web/public/', import.meta.url));
const svg = fs.readFileSync(path.join(PUBLIC, 'icon.svg'), 'utf8');
// Full bleed: no rounded corners, and the drawing scaled to 80 % around the centre (the safe zone).
const maskable = svg
  .replace(/<rect([^>]*?)\s+rx="[^"]*"/, '<rect$1')
  .replace(/(<rect[^>]*\/>)([\s\S]*)<\/svg>/, '$1<g transform="translate(51.2 51.2) scale(0.8)">$2</g></svg>');

const ICONS: Array<{ file: string; size: number; source: string }> = [
  { file: 'icons/icon-192.png', size: 192, source: svg },
  { file: 'icons/icon-512.png', size: 512, source: svg },
  { file: 'icons/icon-maskable-512.png', size: 512, source: maskable },
  { file: 'icons/apple-touch-icon.png', size: 180, source: maskable },
];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  for (const icon of ICONS) {
    const page = await browser.newPage({ viewport: { width: icon.size, height: icon.size } });
    const data = Buffer.from(icon.source).toString('base64');
    await page.setContent(
      `<html><body style="margin:0;background:transparent"><img src="data:image/svg+xml;base64,${data}" width="${icon.size}" height="${icon.size}" style="display:block"></body></html>`,
    );
    await page.locator('img').evaluate((img: HTMLImageElement) => img.decode());
    fs.mkdirSync(path.dirname(path.join(PUBLIC, icon.file)), { recursive: true });
    await page.screenshot({
      path: path.join(PUBLIC, icon.file),
      omitBackground: true,
      clip: { x: 0, y: 0, width: icon.size, height: icon.size },
    });
    await page.close();
    console.log(`${icon.file} ${icon.size}×${icon.size}`);
  }
} finally {
  await browser.close();
}
