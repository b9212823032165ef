import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Tests run against the TypeScript sources of the workspace packages, not their build output.
const alias = {
  '@duet/protocol': src('./packages/protocol/src/index.ts'),
  '@duet/client': src('./packages/client/src/index.ts'),
  '@duet/server': src('./packages/server/src/index.ts'),
};

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'apps/web/src/**/*.test.ts', 'tests/integration/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          // Pages answer within a second on a quiet machine, not always on a loaded CI one.
          expect: { poll: { timeout: 10_000 } },
          // Browsers and the server share two cores: one e2e file at a time.
          fileParallelism: false,
        },
      },
      // The metering chaos test (tests/chaos) runs thousands of calls for minutes: `npm run test:chaos`.
      ...(process.env.DUET_CHAOS === '1'
        ? [
            {
              resolve: { alias },
              test: { name: 'chaos', include: ['tests/chaos/**/*.test.ts'], testTimeout: 20 * 60_000, hookTimeout: 60_000 },
            },
          ]
        : []),
      // The NAT lab (tests/netlab) needs root, iptables and coturn, so a plain `vitest run` leaves it
      // out; `npm run test:netlab` sets DUET_NETLAB=1 and runs only this project.
      ...(process.env.DUET_NETLAB === '1'
        ? [
            {
              resolve: { alias },
              test: {
                name: 'netlab',
                include: ['tests/netlab/**/*.test.ts'],
                testTimeout: 90_000,
                hookTimeout: 60_000,
                // One lab at a time: each scenario runs two Chromiums and a server on two cores.
                fileParallelism: false,
              },
            },
          ]
        : []),
      // The bad-network lab (tests/quality): root, iptables, coturn and two Chromiums per scenario, so
      // only with DUET_QUALITY=1 (`npm run lab:quality` for the whole table, a subset in CI).
      ...(process.env.DUET_QUALITY === '1'
        ? [
            {
              resolve: { alias },
              test: {
                name: 'quality',
                include: ['tests/quality/**/*.test.ts'],
                testTimeout: 180_000,
                hookTimeout: 60_000,
                fileParallelism: false,
              },
            },
          ]
        : []),
    ],
  },
});
