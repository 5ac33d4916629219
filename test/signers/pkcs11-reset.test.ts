// A token that goes away mid-run (its SoftHSM token directory moved away, as a pulled HSM card or a network
// HSM outage looks to the application) gives a typed error, and the same signer and decrypter work again
// once it is back: the pool drops its sessions, the module is initialised again, the user logged in again.
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compactDecryptAsync, compactEncrypt } from '../../src/encryption/index.js'
import { isApisignError } from '../../src/errors.js'
import { signRequestAsync } from '../../src/oauth1/index.js'
import { createKeySigner, importPkcs11Key, openPkcs11Decrypter, openPkcs11Signer } from '../../src/signers/index.js'
import { readShared, sharedPath } from '../helpers/shared.js'
import { type SoftHsm, createSoftHsm } from '../helpers/softhsm.js'

const TOKEN = 'apisign-reset'
let hsm: SoftHsm
const outputs: string[] = []
const remember = (e: unknown) => {
  outputs.push(JSON.stringify(e), String(e), JSON.stringify((e as { details?: unknown }).details ?? null))
  return e
}

beforeAll(() => {
  hsm = createSoftHsm()
  hsm.initToken(TOKEN)
  hsm.importPem(TOKEN, sharedPath('keys/oauth1/private-key.pem'), 'signing', '01')
})
afterAll(() => {
  expect(outputs.join('\n')).not.toContain(hsm.pin)
  hsm.cleanup()
})

describe('a token removed mid-run', () => {
  it('a wrong PIN is ERR_HSM_PIN, is not retried until it changes, and never shows the PIN', async () => {
    const env: Record<string, string> = { HSM_PIN: `${hsm.pin}x` }
    const first = await openPkcs11Signer({ module: hsm.module, token: TOKEN, label: 'signing', pinEnv: 'HSM_PIN', env }).catch(remember)
    expect(isApisignError(first, 'ERR_HSM_PIN')).toBe(true)
    expect((first as Error).message).toContain('CKR_PIN_INCORRECT')
    const second = await openPkcs11Signer({ module: hsm.module, token: TOKEN, label: 'signing', pinEnv: 'HSM_PIN', env }).catch(remember)
    expect(isApisignError(second, 'ERR_HSM_PIN')).toBe(true)
    expect((second as Error).message).toContain('not retrying it')
    // The right PIN afterwards works.
    const signer = await openPkcs11Signer({ module: hsm.module, token: TOKEN, label: 'signing', pinEnv: 'HSM_PIN', env: { HSM_PIN: hsm.pin } })
    await signer.close()
  })

  it('gives ERR_HSM_UNAVAILABLE while it is away and signs and decrypts again once it is back', async () => {
    await importPkcs11Key({ module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv, label: 'decryption', id: '02', privateKey: createPrivateKey(readShared('keys/encryption/private-key-pkcs8.pem')), usage: ['decrypt'] })
    const cert = new X509Certificate(readShared('keys/encryption/certificate.pem'))
    const signer = await openPkcs11Signer({ module: hsm.module, token: TOKEN, label: 'signing', pinEnv: hsm.pinEnv, maxSessions: 3 })
    const decrypter = await openPkcs11Decrypter({ module: hsm.module, token: TOKEN, label: 'decryption', pinEnv: hsm.pinEnv, rawOaepHashes: ['sha256'] })
    const software = createKeySigner(createPrivateKey(readShared('keys/oauth1/private-key.pem')))
    const data = Buffer.from('GET&https%3A%2F%2Fapi.example.com%2Fv1&oauth_nonce%3Dn')
    const expected = Buffer.from(await software.sign(data)).toString('base64')
    const request = { method: 'GET', url: 'https://api.example.com/v1/items', consumerKey: 'ck', nonce: 'n1', timestamp: 1_700_000_000, key: signer }
    const token = compactEncrypt('{"ok":true}', cert)
    try {
      // Warm: several sessions open and logged in.
      await Promise.all([1, 2, 3].map(() => signer.sign(data)))
      expect((await compactDecryptAsync(token, decrypter)).plaintext.toString()).toBe('{"ok":true}')

      hsm.remove()
      for (let i = 0; i < 2; i++) {
        const signing = await signer.sign(data).catch(remember)
        expect(isApisignError(signing, 'ERR_HSM_UNAVAILABLE')).toBe(true)
        const oauth = await signRequestAsync(request).catch(remember)
        expect(isApisignError(oauth, 'ERR_HSM_UNAVAILABLE')).toBe(true)
        // A decryption key that is away is an outage, not a decryption failure: it is not masked.
        const jwe = await compactDecryptAsync(token, decrypter).catch(remember)
        expect(isApisignError(jwe, 'ERR_HSM_UNAVAILABLE')).toBe(true)
      }
      // Many callers at once while it is away: each gets the typed error, none hangs.
      const burst = await Promise.all(Array.from({ length: 8 }, () => signer.sign(data).catch((e: unknown) => e)))
      expect(burst.every((e) => isApisignError(e, 'ERR_HSM_UNAVAILABLE'))).toBe(true)

      hsm.restore()
      expect(Buffer.from(await signer.sign(data)).toString('base64')).toBe(expected)
      // Removed while 32 signatures are in flight: each one is the right signature or the typed error
      // (the module is only re-initialised once the calls in flight have returned), then it recovers.
      const inFlight = Array.from({ length: 32 }, () => signer.sign(data).then((s) => Buffer.from(s).toString('base64'), (e: unknown) => e))
      await new Promise((r) => setTimeout(r, 2))
      hsm.remove()
      const settled = await Promise.all(inFlight)
      expect(settled.every((x) => x === expected || isApisignError(x, 'ERR_HSM_UNAVAILABLE'))).toBe(true)
      expect(settled.some((x) => x === expected)).toBe(true)
      hsm.restore()
      expect(Buffer.from(await signer.sign(data)).toString('base64')).toBe(expected)
      const again = await Promise.all(Array.from({ length: 6 }, () => signer.sign(data)))
      expect(again.every((s) => Buffer.from(s).toString('base64') === expected)).toBe(true)
      expect((await signRequestAsync(request)).signature).toBeDefined()
      expect((await compactDecryptAsync(token, decrypter)).plaintext.toString()).toBe('{"ok":true}')
    } finally {
      await signer.close()
      await decrypter.close()
    }
  })

  it('a key deleted from the token is ERR_HSM_KEY_NOT_FOUND until it is back; a different key under its label is refused', async () => {
    const key = createPrivateKey(readShared('keys/oauth1/private-key.pem'))
    const common = { module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv }
    await importPkcs11Key({ ...common, label: 'rotating', id: '0c', privateKey: key, usage: ['sign'] })
    const signer = await openPkcs11Signer({ ...common, label: 'rotating' })
    try {
      const data = Buffer.from('x')
      const expected = Buffer.from(await createKeySigner(key).sign(data)).toString('base64')
      expect(Buffer.from(await signer.sign(data)).toString('base64')).toBe(expected)
      // Replaced by another key under the same label and id (what a careless re-initialisation does).
      const other = createPrivateKey(readShared('keys/encryption/private-key-pkcs8.pem'))
      await importPkcs11Key({ ...common, label: 'rotating', id: '0c', privateKey: other, usage: ['sign'], replace: true })
      const replaced = await signer.sign(data).catch(remember)
      expect(isApisignError(replaced, 'ERR_HSM_KEY_NOT_FOUND')).toBe(true)
      expect((replaced as Error).message).toContain('not the key that was opened')
      // The right key back: the same signer signs again.
      await importPkcs11Key({ ...common, label: 'rotating', id: '0c', privateKey: key, usage: ['sign'], replace: true })
      expect(Buffer.from(await signer.sign(data)).toString('base64')).toBe(expected)
    } finally {
      await signer.close()
    }
  })
})
