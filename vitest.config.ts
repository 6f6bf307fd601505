import { defineConfig } from 'vitest/config';

export default defineConfig({
  esbuild: { jsx: 'automatic' },
  test: {
    include: ['**/*.test.ts', '**/*.test.tsx'],
    exclude: ['**/node_modules/**', '**/dist/**', '.sigyl/**'],
    globalSetup: ['scripts/test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Files share two cores and the emulators; too many at once only queue.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
