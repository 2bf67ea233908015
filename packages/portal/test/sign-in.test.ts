import {
  deriveWalletEncryptionKeyPair,
  encryptKeystore,
  getEncryptionKey,
  getParticipant,
  walletEncryptionKeyMessage,
} from '@pcmims/core'
import type { TestNode } from '@pcmims/test-utils'
import type { Browser, Page } from 'playwright-core'
import { createPublicClient, createWalletClient, type Hex, http, toHex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchBrowser, newContext, screenshot, signInAsDev, startPortalNode } from './browser.js'

let testNode: TestNode
let browser: Browser
let base: string

beforeAll(async () => {
  testNode = await startPortalNode()
  base = testNode.node.url
  browser = await launchBrowser()
})

afterAll(async () => {
  await browser?.close()
  await testNode?.stop()
})

async function keystoreFile(
  privateKey: Hex,
  passphrase: string,
): Promise<{ name: string; mimeType: string; buffer: Buffer }> {
  // A lower scrypt cost than a real account's, so the browser's KDF takes a moment, not seconds.
  const keystore = await encryptKeystore({ privateKey, passphrase, kdfParams: { n: 2 ** 14 } })
  return {
    name: 'my-keystore.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify(keystore)),
  }
}

describe('keystore sign-in', () => {
  it('opens a keystore file in the browser; a wrong passphrase is refused with a clear message', async () => {
    const context = await newContext(browser)
    const page = await context.newPage()
    const requests: string[] = []
    page.on('request', (request) =>
      requests.push(`${request.method()} ${request.url()} ${request.postData() ?? ''}`),
    )
    await page.goto(base)
    const privateKey = testNode.dev.patient!.privateKey
    await page
      .getByLabel('Keystore file')
      .setInputFiles(await keystoreFile(privateKey, 'correct horse battery'))
    await page.getByLabel('Passphrase', { exact: true }).first().fill('wrong passphrase')
    await page.getByRole('button', { name: 'Unlock and sign in' }).click()
    await page
      .getByRole('alert')
      .getByText(/passphrase/i)
      .waitFor()
    await screenshot(page, 'sign-in-wrong-passphrase')
    await page.getByLabel('Passphrase', { exact: true }).first().fill('correct horse battery')
    await page.getByRole('button', { name: 'Unlock and sign in' }).click()
    await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 60_000 })
    await expect(page.getByText('my-keystore.json').isVisible()).resolves.toBe(true)
    // Neither the keystore, the passphrase nor the key went anywhere.
    const sent = requests.join('\n')
    expect(sent).not.toContain('correct horse battery')
    expect(sent).not.toContain(privateKey.slice(2))
    expect(sent).not.toContain('"ciphertext"')
    await context.close()
  })
})

describe('reloading', () => {
  it('ends the session (keys live only in the tab) and says so', async () => {
    const context = await newContext(browser)
    const page = await context.newPage()
    await signInAsDev(page, base, /Demo Patient/)
    await page.reload()
    await page.getByText('Reloading the page signed you out').waitFor()
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0)
    // Said once: the next visit is a plain sign-in page.
    await page.reload()
    await page.getByRole('heading', { name: /Development accounts/ }).waitFor()
    expect(await page.getByText('Reloading the page signed you out').count()).toBe(0)
    await context.close()
  })
})

describe('idle lock', () => {
  it('locks after the chosen idle time, wipes keys from the page and tells the user why', async () => {
    const context = await newContext(browser)
    const page = await context.newPage()
    await page.clock.install()
    await signInAsDev(page, base, /Demo Patient/)
    await page.getByLabel('Lock after').selectOption('1')
    await page.clock.fastForward('01:05')
    await page.getByText('Your session locked itself').waitFor({ timeout: 30_000 })
    const storage = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }))
    expect(storage).not.toMatch(/0x[0-9a-f]{64}/i)
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0)
    await context.close()
  })
})

/**
 * A real EIP-1193 provider in the page, backed by a key held on the test's side the way a wallet
 * extension holds it: it signs messages and sends transactions to the node's chain itself.
 */
async function injectWallet(page: Page, privateKey: Hex): Promise<{ signed: string[] }> {
  const account = privateKeyToAccount(privateKey)
  const rpc = http(testNode.node.rpcUrl)
  const chainId = testNode.node.chainId
  const publicClient = createPublicClient({ transport: rpc })
  const wallet = createWalletClient({ account, transport: rpc })
  const signed: string[] = []
  await page.exposeFunction('__pcmimsTestWallet', async (method: string, params: unknown[]) => {
    switch (method) {
      case 'eth_requestAccounts':
      case 'eth_accounts':
        return [account.address]
      case 'eth_chainId':
        return toHex(chainId)
      case 'personal_sign': {
        const message = Buffer.from((params[0] as string).slice(2), 'hex').toString('utf8')
        signed.push(message)
        return account.signMessage({ message })
      }
      case 'eth_sendTransaction': {
        const tx = params[0] as { to: Hex; data: Hex; value?: Hex; gas?: Hex }
        return wallet.sendTransaction({
          chain: null,
          to: tx.to,
          data: tx.data,
          value: tx.value ? BigInt(tx.value) : 0n,
          ...(tx.gas ? { gas: BigInt(tx.gas) } : {}),
        })
      }
      default:
        return publicClient.request({ method, params } as never)
    }
  })
  await page.addInitScript(() => {
    const call = (window as unknown as { __pcmimsTestWallet: (m: string, p: unknown[]) => Promise<unknown> })
      .__pcmimsTestWallet
    ;(window as unknown as { ethereum: unknown }).ethereum = {
      request: ({ method, params }: { method: string; params?: unknown[] }) => call(method, params ?? []),
      on() {},
      removeListener() {},
    }
  })
  return { signed }
}

describe('browser wallet sign-in (EIP-1193)', () => {
  it('signs in, derives the encryption key from one signature, and registers with a wallet-sent transaction', async () => {
    const privateKey = generatePrivateKey()
    const address = privateKeyToAccount(privateKey).address
    await testNode.rpc('anvil_setBalance', [address, '0x3635C9ADC5DEA00000'])
    const context = await newContext(browser)
    const page = await context.newPage()
    const { signed } = await injectWallet(page, privateKey)
    await page.goto(base)
    await page.getByRole('button', { name: 'Connect wallet' }).click()
    await page.getByRole('heading', { name: 'Register with a health unit' }).waitFor({ timeout: 60_000 })
    // One signature for the encryption key, one for Sign-In with Ethereum.
    expect(signed[0]).toBe(walletEncryptionKeyMessage({ address, chainId: testNode.node.chainId }))
    expect(signed[1]).toContain('Sign in to this PCMIMS node.')
    await page.getByRole('button', { name: 'Request registration' }).click()
    await page.getByRole('heading', { name: /Registration: pending/ }).waitFor({ timeout: 60_000 })

    const client = await testNode.clientFor(testNode.dev.unit!)
    const read = { contract: client.config.contract }
    const participant = await getParticipant(client.publicClient, { ...read, account: address })
    expect(participant).toMatchObject({ role: 'Patient', status: 'Pending' })
    const expectedKey = await deriveWalletEncryptionKeyPair(
      await privateKeyToAccount(privateKey).signMessage({ message: signed[0]! }),
    )
    expect(await getEncryptionKey(client.publicClient, { ...read, account: address })).toBe(
      toHex(expectedKey.publicKey),
    )

    // Back again with the same wallet: the same key, so the registration is recognised.
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('button', { name: 'Connect wallet' }).click()
    await page.getByRole('heading', { name: /Registration: pending/ }).waitFor({ timeout: 60_000 })
    await context.close()
  })

  it('refuses a wallet whose account registered another encryption key', async () => {
    const context = await newContext(browser)
    const page = await context.newPage()
    // The dev patient registered its keystore-derived key; a wallet holding the same account derives another.
    await injectWallet(page, testNode.dev.patient!.privateKey)
    await page.goto(base)
    await page.getByRole('button', { name: 'Connect wallet' }).click()
    await page
      .getByRole('alert')
      .getByText(/different encryption key/)
      .waitFor({ timeout: 60_000 })
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0)
    await context.close()
  })
})
