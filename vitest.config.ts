import { defineConfig } from 'vitest/config'

// One runner for the whole repository: unit tests sit beside the code (src/**/*.test.ts),
// integration tests that start anvil, Helia and the node live in each package's test/ folder.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'bench/src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
})
