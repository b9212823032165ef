/**
 * Import cycles between the server's domains (its folders: lobby, calls, metering, ...), type-only
 * imports included, and between single files anywhere in the workspace. A domain cycle is a design
 * smell even when it is only `import type`: the two domains cannot be understood, tested or moved
 * apart. dpdm reads the imports (without stripping types); this script only groups them by domain.
 *
 *   npm run check:cycles          exits 1 and names the cycles if there are any
 */
import path from 'node:path';
import { parseCircular, parseDependencyTree, prettyCircular, type DependencyTree } from 'dpdm';

const SERVER = 'packages/server/src/';

/** The domain a server file belongs to: its folder, or the file itself for the few at the top. */
function domainOf(file: string): string | null {
  if (!file.startsWith(SERVER) || file.endsWith('.test.ts')) return null;
  const rest = file.slice(SERVER.length);
  const slash = rest.indexOf('/');
  // Test helpers are not a domain the server depends on.
  if (rest.startsWith('testing/')) return null;
  return slash === -1 ? path.basename(rest, '.ts') : rest.slice(0, slash);
}

function byDomain(tree: DependencyTree): Record<string, Set<string>> {
  const edges: Record<string, Set<string>> = {};
  for (const [file, deps] of Object.entries(tree)) {
    const from = domainOf(file);
    if (from === null || deps === null) continue;
    edges[from] ??= new Set();
    for (const d of deps) {
      const to = d.id === null ? null : domainOf(d.id);
      if (to !== null && to !== from) edges[from].add(to);
    }
  }
  return edges;
}

const options = {
  context: process.cwd(),
  transform: false,
  skipDynamicImports: false,
  include: /\.tsx?$/,
  exclude: /node_modules|\/dist\//,
};
const files = await parseDependencyTree(
  ['packages/*/src/**/*.ts', 'packages/*/src/**/*.tsx', 'apps/web/src/**/*.ts', 'apps/web/src/**/*.tsx'],
  options,
);
const fileCycles = parseCircular(files);

const edges = byDomain(files);
const domainTree: DependencyTree = Object.fromEntries(
  Object.entries(edges).map(([from, to]) => [from, [...to].map((id) => ({ issuer: from, request: id, kind: 0, id }))]),
);
const domainCycles = parseCircular(domainTree);

/** The composition root may import every domain; no domain imports it. */
const ROOT = new Set(['app', 'server', 'index', 'main']);
const count = (keep: (from: string) => boolean) =>
  Object.entries(edges)
    .filter(([from]) => keep(from))
    .reduce((n, [, to]) => n + [...to].filter((d) => !ROOT.has(d)).length, 0);
console.log(
  `server domains: ${Object.keys(edges).length}, domain → domain dependencies: ${count(() => true)} (${count((from) => !ROOT.has(from))} outside the composition root)`,
);
if (process.argv.includes('--graph')) {
  for (const [from, to] of Object.entries(edges).sort()) console.log(`  ${from} → ${[...to].sort().join(', ')}`);
}
if (fileCycles.length > 0) console.log(`file import cycles (${fileCycles.length}):\n${prettyCircular(fileCycles, '  ')}`);
if (domainCycles.length > 0) console.log(`server domain cycles (${domainCycles.length}):\n${prettyCircular(domainCycles, '  ')}`);
if (fileCycles.length + domainCycles.length > 0) process.exit(1);
console.log('no import cycles');
