// Compiles contracts/**/*.sol and writes src/generated/*.ts (committed; test/reproducible.test.ts checks them).
// Skips the (slow) compile when the generated files already record the digest of the current inputs;
// `--force` compiles anyway.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { compileContracts, inputDigest, packageRoot, targets } from './solc-build.mjs'

const started = performance.now()
const digest = inputDigest()
const upToDate = targets.every((t) => {
  const path = join(packageRoot, t.file)
  return existsSync(path) && readFileSync(path, 'utf8').includes(`// inputs sha256 ${digest}\n`)
})
if (upToDate && !process.argv.includes('--force')) {
  console.log(`contracts unchanged (inputs ${digest.slice(0, 12)}): generated files kept`)
} else {
  const { files, warnings, version } = compileContracts()
  for (const warning of warnings) console.warn(warning.formattedMessage ?? warning.message)
  for (const [path, text] of Object.entries(files)) {
    const target = join(packageRoot, path)
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, text)
  }
  console.log(
    `compiled with solc ${version} in ${Math.round(performance.now() - started)} ms: ${Object.keys(files).join(', ')}`,
  )
}
