import { defineConfig } from 'vitest/config'

// One runner for the whole repository: unit tests sit beside the code (src/**/*.test.ts),
// integration tests that start anvil, Helia and the node live in each package's test/ folder.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'bench/src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The JSON report lets .ci/run print the plain 'N passed, N failed' closing line.
    reporters: ['default', ['json', { outputFile: '.vitest/results.json' }]],
  },
})
