// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs this polyfill loaded first.
import 'reflect-metadata'
import { webcrypto } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { join } from 'node:path'
import { startNode } from '@pcmims/node'
import { runCli, startTestNode, type TestNode } from '@pcmims/test-utils'
import * as x509 from '@peculiar/x509'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Test certificates are made here with @peculiar/x509 over Node's WebCrypto rather than with the
// openssl command, which some machines lack: a self-signed P-256 certificate for 127.0.0.1 and localhost.
async function selfSignedCertificate(): Promise<{ cert: string; key: string }> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: 'CN=pcmims test node',
      keys,
      signingAlgorithm: algorithm,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 24 * 3600_000),
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          { type: 'ip', value: '127.0.0.1' },
          { type: 'dns', value: 'localhost' },
        ]),
      ],
    },
    webcrypto as unknown as Crypto,
  )
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)
  const key = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')
  return { cert: certificate.toString('pem'), key }
}

type Answer = { status: number; body: string }

function get(url: string, ca?: string): Promise<Answer> {
  const target = new URL(url)
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = send(target, { method: 'GET', ...(ca ? { ca } : {}), timeout: 5_000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => {
        body += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error('timed out')))
    req.on('error', reject)
    req.end()
  })
}

describe('a node serving HTTPS (tls.certFile / tls.keyFile)', () => {
  let t: TestNode
  let cert: string
  let certFile: string
  let keyFile: string

  beforeAll(async () => {
    t = await startTestNode({ config: {} })
    // The certificate files live beside the first node's data; a second node serves them.
    const material = await selfSignedCertificate()
    cert = material.cert
    certFile = join(t.dataDir, 'tls-cert.pem')
    keyFile = join(t.dataDir, 'tls-key.pem')
    await writeFile(certFile, material.cert)
    await writeFile(keyFile, material.key, { mode: 0o600 })
    await t.stop({ keepData: true })
    t = await startTestNode({ dataDir: t.dataDir, config: { tls: { certFile, keyFile } } })
  })
  afterAll(async () => {
    await t?.stop()
  })

  it('answers over TLS to a client that trusts the certificate, and refuses plain HTTP and untrusting clients', async () => {
    expect(t.node.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    const answer = await get(`${t.node.url}/api/v1/health`, cert)
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body)).toMatchObject({ status: 'ok', ipfs: { mode: 'embedded', ok: true } })

    // Same port, no TLS: the server never speaks HTTP in clear.
    const port = new URL(t.node.url).port
    await expect(get(`http://127.0.0.1:${port}/api/v1/health`)).rejects.toThrow()
    // A client that does not trust the certificate stops at the handshake.
    await expect(get(`${t.node.url}/api/v1/health`)).rejects.toThrow(/self.signed|certificate/i)
  })

  it('serves the CLI over HTTPS when the certificate is trusted with NODE_EXTRA_CA_CERTS', async () => {
    const account = (role: string) => t.node.devAccounts.find((a) => a.role === role)!
    const uploader = account('uploader')
    const patient = account('patient')
    const fixture = new URL('../../../fixtures/dicom/valid/CT_small.dcm', import.meta.url).pathname
    const env = { NODE_EXTRA_CA_CERTS: certFile }

    const untrusted = await runCli(['status', '--json', '--node', t.node.url])
    expect(untrusted.code).toBe(1)
    expect(untrusted.json.error.code).toBe('NODE_UNREACHABLE')

    const status = await runCli(['status', '--json', '--node', t.node.url], env)
    expect(status.code, status.stderr).toBe(0)
    expect(status.json.status).toBe('ok')

    // Signed-in requests, a streamed ciphertext upload and a download, all over TLS.
    const upload = await runCli(
      [
        'upload',
        '--json',
        '--node',
        t.node.url,
        '--keystore',
        uploader.keystore,
        '--patient',
        patient.address,
        '--kind',
        'CT',
        fixture,
      ],
      { ...env, PCMIMS_PASSPHRASE: uploader.passphrase },
    )
    expect(upload.code, upload.stderr).toBe(0)
    const out = join(t.dataDir, 'retrieved')
    const retrieved = await runCli(
      [
        'get',
        upload.json.recordId,
        '--out',
        out,
        '--json',
        '--node',
        t.node.url,
        '--keystore',
        patient.keystore,
      ],
      { ...env, PCMIMS_PASSPHRASE: patient.passphrase },
    )
    expect(retrieved.code, retrieved.stderr).toBe(0)
    const original = await readFile(fixture)
    const copy = await readFile(join(out, 'CT_small.dcm'))
    expect(copy.equals(original)).toBe(true)
  })

  it('refuses to start with an unreadable or mismatched certificate', async () => {
    const base = t.node.config
    const other = await selfSignedCertificate()
    const otherKey = join(t.dataDir, 'other-key.pem')
    await writeFile(otherKey, other.key)
    const attempts = [
      {
        tls: { certFile: join(t.dataDir, 'missing.pem'), keyFile },
        message: /Cannot read the TLS certificate/,
      },
      { tls: { certFile: keyFile, keyFile }, message: /is not a PEM certificate/ },
      { tls: { certFile, keyFile: certFile }, message: /is not a PEM private key/ },
      { tls: { certFile, keyFile: otherKey }, message: /does not belong to the certificate/ },
    ]
    for (const { tls, message } of attempts) {
      const error = await startNode({ config: { ...base, port: 0, tls } }).then(
        async (node) => {
          await node.stop()
          return undefined
        },
        (e: unknown) => e as { code?: string; message: string },
      )
      expect(error?.code).toBe('INVALID_CONFIG')
      expect(error?.message).toMatch(message)
    }
  })
})
