import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatGasTable, runGasBench } from './gas.js'

// Prints the gas table and writes bench/results/gas.json.
const output = fileURLToPath(new URL('../results/gas.json', import.meta.url))
const controller = new AbortController()
process.once('SIGINT', () => controller.abort())

const result = await runGasBench({
  signal: controller.signal,
  onProgress: (message) => process.stderr.write(`gas bench: ${message}\n`),
})
console.log(formatGasTable(result))
await mkdir(dirname(output), { recursive: true })
await writeFile(output, `${JSON.stringify(result, null, 2)}\n`)
console.log(`\nwrote ${output}`)
