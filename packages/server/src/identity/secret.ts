import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The token signing secret: DUET_SECRET when set (needed when several nodes share users),
 * otherwise one generated on first start and kept in the data folder, readable only by its owner.
 */
export function resolveSecret(configured: string | undefined, dataDir: string): { secret: string; source: 'env' | 'file' | 'generated' } {
  if (configured) return { secret: configured, source: 'env' };
  const file = path.join(dataDir, 'secret.key');
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return { secret: existing, source: 'file' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  fs.writeFileSync(file, secret + '\n', { mode: 0o600 });
  return { secret, source: 'generated' };
}
