import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const RECORDS = 'calls/recorder.ts';

// Kysely's builders with the table in either quote (an alias too), and raw SQL in a template.
const WRITES = [
  /\b(insertInto|replaceInto|updateTable|deleteFrom|mergeInto)\(\s*(['"`])calls(\s+as\s+\w+)?\2/g,
  /\b(insert\s+(or\s+\w+\s+)?into|update|delete\s+from)\s+"?calls"?(\s|\(|$)/gi,
];

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'migrations' ? [] : sources(p);
    return /\.(ts|mts|js)$/.test(e.name) && !/\.test\.ts$/.test(e.name) && e.name !== 'migrations.ts' ? [p] : [];
  });
}

function writesIn(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return WRITES.flatMap((re) => [...text.matchAll(re)].map((m) => m[0].trim()));
}

describe('the calls table', () => {
  it('is written (inserted into, updated, deleted from) only by CallRecords', () => {
    const writers = new Map<string, string[]>();
    for (const file of sources(src)) {
      const found = writesIn(file);
      if (found.length > 0) writers.set(path.relative(src, file).split(path.sep).join('/'), found);
    }
    // The scan sees the records module's own writes, so a miss elsewhere is not a blind pattern.
    expect(writers.get(RECORDS)?.length ?? 0).toBeGreaterThanOrEqual(3);
    writers.delete(RECORDS);
    expect(Object.fromEntries(writers), 'write the calls table through CallRecords (calls/recorder.ts)').toEqual({});
  });

  it('recognises every form of a write', () => {
    const forms = [
      `db.insertInto('calls')`,
      `db.updateTable("calls")`,
      'db.deleteFrom(`calls`)',
      `.updateTable(\n  'calls as c')`,
      'sql`update calls set x = 1`',
      'sql`DELETE FROM "calls" where`',
    ];
    for (const f of forms)
      expect(
        WRITES.some((re) => [...f.matchAll(re)].length > 0),
        f,
      ).toBe(true);
    for (const f of [`selectFrom('calls')`, `updateTable('calls_archive')`, `insertInto('call_quality')`])
      expect(
        WRITES.some((re) => [...f.matchAll(re)].length > 0),
        f,
      ).toBe(false);
  });
});
