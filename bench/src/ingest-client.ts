import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import {
  closeRecord,
  createPcmimsClient,
  createSha256,
  decryptKeystore,
  openRecord,
  readRecordFile,
  uploadRecord,
} from '@pcmims/core'
import type { Address } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'

/**
 * One measured client run in its own process, so its peak RSS is its own: upload a file as a record
 * (encrypt, store, anchor), then retrieve it (fetch, decrypt, verify) as the patient.
 * argv: nodeUrl uploaderKeystore uploaderPassphrase patientKeystore patientPassphrase file
 */
async function main(): Promise<void> {
  const [nodeUrl, upKeystore, upPass, patKeystore, patPass, file] = process.argv.slice(2) as string[]
  const open = async (keystore: string, passphrase: string) => {
    const opened = await decryptKeystore({ keystore: await readFile(keystore, 'utf8'), passphrase })
    return createPcmimsClient({
      nodeUrl: nodeUrl as string,
      account: privateKeyToAccount(opened.privateKey),
      encryptionKeyPair: opened.encryptionKeyPair,
    })
  }
  const uploader = await open(upKeystore as string, upPass as string)
  const patient = await open(patKeystore as string, patPass as string)
  const { size } = await import('node:fs/promises').then((fs) => fs.stat(file as string))
  const t0 = performance.now()
  const result = await uploadRecord(uploader, {
    patient: patient.account.address as Address,
    kind: 'CT',
    files: [
      {
        path: 'bench.bin',
        mediaType: 'application/octet-stream',
        size,
        open: () => createReadStream(file as string, { highWaterMark: 1024 * 1024 }),
      },
    ],
  })
  const uploadSeconds = (performance.now() - t0) / 1000
  const t1 = performance.now()
  const record = await openRecord(patient, { recordId: result.recordId })
  const hasher = createSha256()
  let bytes = 0
  for await (const chunk of readRecordFile(patient, { record, file: record.manifest.files[0]! })) {
    hasher.update(chunk)
    bytes += chunk.length
  }
  closeRecord(record)
  const retrieveSeconds = (performance.now() - t1) / 1000
  if (bytes !== size) throw new Error(`retrieved ${bytes} of ${size} bytes`)
  process.stdout.write(
    `${JSON.stringify({
      size,
      uploadSeconds,
      retrieveSeconds,
      status: result.status,
      gasUsed: result.gasUsed,
      clientPeakRssBytes: process.resourceUsage().maxRSS * 1024,
    })}\n`,
  )
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`)
  process.exit(1)
})
