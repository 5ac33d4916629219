// loadSigningKey's `keyTypes` for OAuth 2.0: EC P-256 (ES256) next to RSA (PS256), from every source.
import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { loadSigningKey } from '../../src/keys/index.js'

const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
describe("loadSigningKey({ keyTypes: ['rsa', 'ec-p256'] })", () => {
  it('takes an EC P-256 key as a KeyObject, PEM and DER', () => {
    for (const source of [p256, p256.export({ type: 'pkcs8', format: 'pem' }) as string, p256.export({ type: 'pkcs8', format: 'der' }), p256.export({ type: 'sec1', format: 'pem' }) as string]) {
      expect(loadSigningKey(source, { keyTypes: ['rsa', 'ec-p256'] }).asymmetricKeyDetails?.namedCurve).toBe('prime256v1')
    }
  })
  it('still refuses EC by default (OAuth 1.0a and RSA-OAEP need RSA)', () => {
    expect(() => loadSigningKey(p256)).toThrow(expect.objectContaining({ code: 'ERR_KEY_WRONG_TYPE', message: expect.stringContaining('an RSA key is needed') }))
  })
  it('refuses another curve and another key type, naming what is needed', () => {
    expect(() => loadSigningKey(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, { keyTypes: ['ec-p256'] })).toThrow(expect.objectContaining({ code: 'ERR_KEY_WRONG_TYPE', message: expect.stringContaining('ES256 needs P-256') }))
    expect(() => loadSigningKey(generateKeyPairSync('ed25519').privateKey, { keyTypes: ['rsa', 'ec-p256'] })).toThrow(expect.objectContaining({ code: 'ERR_KEY_WRONG_TYPE', message: expect.stringContaining('an RSA or EC P-256 key is needed') }))
  })
})
