import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { AuthenticationError, signRequest, UNSIGNED_PAYLOAD, verifyRequest } from './request-signature.js'

const account = privateKeyToAccount(generatePrivateKey())
const url = 'http://127.0.0.1:8480/api/v1/records?patient=0xabc'

describe('request signatures', () => {
  it('verifies the signer', async () => {
    const timestamp = Date.now()
    const authorization = await signRequest({
      account,
      method: 'GET',
      url,
      bodyDigest: UNSIGNED_PAYLOAD,
      timestamp,
    })
    const signer = await verifyRequest({ authorization, method: 'GET', url, bodyDigest: (c) => c })
    expect(signer).toBe(account.address)
  })

  it('refuses a changed path, method, body, origin, stale time or forged address', async () => {
    const timestamp = Date.now()
    const authorization = await signRequest({ account, method: 'GET', url, bodyDigest: 'abc', timestamp })
    const cases: Array<[string, Parameters<typeof verifyRequest>[0]]> = [
      ['path', { authorization, method: 'GET', url: `${url}x`, bodyDigest: (c) => c }],
      ['method', { authorization, method: 'POST', url, bodyDigest: (c) => c }],
      ['body', { authorization, method: 'GET', url, bodyDigest: () => 'def' }],
      ['origin', { authorization, method: 'GET', url: url.replace('8480', '8481'), bodyDigest: (c) => c }],
      ['time', { authorization, method: 'GET', url, bodyDigest: (c) => c, now: timestamp + 10 * 60_000 }],
      [
        'address',
        {
          authorization: authorization.replace(account.address, '0x0000000000000000000000000000000000000001'),
          method: 'GET',
          url,
          bodyDigest: (c) => c,
        },
      ],
      ['missing', { authorization: undefined, method: 'GET', url, bodyDigest: (c) => c }],
      ['garbage', { authorization: 'PCMIMS-Signature x', method: 'GET', url, bodyDigest: (c) => c }],
    ]
    for (const [name, params] of cases) {
      await expect(verifyRequest(params), name).rejects.toBeInstanceOf(AuthenticationError)
    }
  })
})
