// The software Signer/Decrypter, the constant-time OAEP decoding against every Wycheproof RSA-OAEP case
// (labels included), JWS signing, and the async paths of OAuth1, JWE, legacy and field encryption with an
// external key: no token needed, so these also hold the coverage gate of src/oauth1 and src/encryption.
import { X509Certificate, constants, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt, publicEncrypt, verify } from 'node:crypto'
import fc from 'fast-check'
import * as jose from 'jose'
import { describe, expect, it } from 'vitest'
import { compactDecrypt, compactDecryptAsync, compactEncrypt, createEncryption, legacyDecrypt, legacyDecryptAsync, legacyEncrypt } from '../../src/encryption/index.js'
import { ApisignError, isApisignError } from '../../src/errors.js'
import { SIGNATURE_METHODS, createOAuth1Signer, signBaseString, signBaseStringAsync, signRequest, signRequestAsync } from '../../src/oauth1/index.js'
import { type Decrypter, type Signer, createKeyDecrypter, createKeySigner, isDecrypter, isKeyServiceError, isSigner, removeOaepPadding, signCompactJws } from '../../src/signers/index.js'
import { readShared, readSharedJson } from '../helpers/shared.js'

const rsa = createPrivateKey(readShared('keys/oauth1/private-key.pem'))
const encKey = createPrivateKey(readShared('keys/encryption/private-key-pkcs8.pem'))
const encCert = new X509Certificate(readShared('keys/encryption/certificate.pem'))
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey

describe('removeOaepPadding (RFC 8017 §7.1.2, constant time)', () => {
  for (const [file, hash] of [
    ['rsa_oaep_2048_sha256_mgf1sha256_test.json', 'sha256'],
    ['rsa_oaep_3072_sha256_mgf1sha256_test.json', 'sha256'],
  ] as const) {
    it(`agrees with every Wycheproof case of ${file} (labels included)`, () => {
      const data = readSharedJson<{ testGroups: Array<{ privateKeyPem: string; keySize: number; tests: Array<{ tcId: number; msg: string; ct: string; label: string; result: string }> }> }>('wycheproof', file)
      let valid = 0
      let invalid = 0
      for (const group of data.testGroups) {
        const key = createPrivateKey(group.privateKeyPem)
        const k = group.keySize / 8
        for (const t of group.tests) {
          let raw: Buffer | undefined
          try {
            raw = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, Buffer.from(t.ct, 'hex'))
          } catch {
            raw = undefined // a ciphertext >= n: the token refuses it too
          }
          let got: string | ApisignError
          try {
            got = raw === undefined ? new ApisignError('ERR_JWE_DECRYPTION_FAILED', 'x') : removeOaepPadding(hash, raw, k, Buffer.from(t.label, 'hex')).toString('hex')
          } catch (e) {
            got = e as ApisignError
          }
          if (t.result === 'valid') {
            expect(got, `tcId ${t.tcId}`).toBe(t.msg)
            valid++
          } else {
            expect(isApisignError(got, 'ERR_JWE_DECRYPTION_FAILED'), `tcId ${t.tcId}`).toBe(true)
            invalid++
          }
        }
      }
      expect(valid).toBeGreaterThan(5)
      expect(invalid).toBeGreaterThan(5)
    })
  }

  it('property: any message node encrypts decodes back; any single flipped byte of the block is refused', () => {
    fc.assert(
      fc.property(fc.constantFrom('sha1' as const, 'sha256' as const, 'sha512' as const), fc.uint8Array({ minLength: 0, maxLength: 62 }), fc.nat(), (hash, message, at) => {
        const c = publicEncrypt({ key: encCert.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, message)
        const raw = privateDecrypt({ key: encKey, padding: constants.RSA_NO_PADDING }, c)
        expect(removeOaepPadding(hash, raw, 256).equals(Buffer.from(message))).toBe(true)
        const tampered = Buffer.from(raw)
        const i = at % 256
        tampered[i] = (tampered[i] as number) ^ (1 << (at % 8))
        expect(() => removeOaepPadding(hash, tampered, 256)).toThrow(ApisignError)
      }),
      { numRuns: 60 },
    )
  })

  it('decodes SHA-1 and SHA-512 blocks node encrypted; refuses bad sizes; restores stripped leading zeros', () => {
    for (const hash of ['sha1', 'sha512'] as const) {
      const c = publicEncryptWith(hash)
      const raw = privateDecrypt({ key: encKey, padding: constants.RSA_NO_PADDING }, c)
      expect(removeOaepPadding(hash, raw, 256).toString()).toBe('content-key')
      // A token that strips the leading zero byte of the raw result.
      expect(removeOaepPadding(hash, raw.subarray(1), 256).toString()).toBe('content-key')
    }
    expect(() => removeOaepPadding('sha256', Buffer.alloc(257), 256)).toThrow(ApisignError)
    expect(() => removeOaepPadding('sha512', Buffer.alloc(100), 100)).toThrow(TypeError)
    expect(() => removeOaepPadding('md5' as never, Buffer.alloc(256), 256)).toThrow(TypeError)
    // All zeros: no 0x01 separator.
    expect(() => removeOaepPadding('sha256', Buffer.alloc(256), 256)).toThrow(/OAEP decoding failed/)
  })
})

const publicEncryptWith = (hash: 'sha1' | 'sha256' | 'sha512') => publicEncrypt({ key: encCert.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, Buffer.from('content-key'))

describe('software signer and decrypter', () => {
  it('signs RS256 like crypto.sign, PS256 and ES256 that verify; refuses a key of the wrong kind', async () => {
    const data = Buffer.from('data')
    const rs = createKeySigner(rsa)
    expect(rs.algorithm).toBe('RS256')
    expect(isSigner(rs)).toBe(true)
    expect(Buffer.from(await rs.sign(data)).equals(signRequestKeyless(data))).toBe(true)
    const ps = createKeySigner(rsa, { algorithm: 'PS256' })
    expect(verify('sha256', data, { key: createPublicKey(rsa), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, await ps.sign(data))).toBe(true)
    const es = createKeySigner(ec, { certificate: encCert })
    expect(es.algorithm).toBe('ES256')
    expect(es.certificate).toBe(encCert)
    expect(verify('sha256', data, { key: createPublicKey(ec), dsaEncoding: 'ieee-p1363' }, await es.sign(data))).toBe(true)
    expect(() => createKeySigner(ec, { algorithm: 'RS256' })).toThrow(/cannot sign RS256/)
    expect(() => createKeySigner(rsa, { algorithm: 'ES256' })).toThrow(/cannot sign ES256/)
    expect(() => createKeySigner(rsa, { algorithm: 'HS256' as never })).toThrow(TypeError)
    expect(() => createKeySigner(createPublicKey(rsa))).toThrow(/private key/)
    expect(() => createKeySigner('pem' as never)).toThrow(TypeError)
    expect(() => createKeySigner(rsa, { certificate: 'x' as never })).toThrow(TypeError)
    const ed = generateKeyPairSync('ed25519').privateKey
    expect(() => createKeySigner(ed)).toThrow(/cannot sign/)
    await expect(createKeySigner(rsa).sign('text' as never)).rejects.toThrow(TypeError)
  })

  it('decrypts OAEP with each digest; the decrypter is recognised; an EC key is refused', async () => {
    const d = createKeyDecrypter(encKey, { certificate: encCert })
    expect(isDecrypter(d)).toBe(true)
    expect(isDecrypter(createKeySigner(rsa))).toBe(false)
    expect(d.certificate).toBe(encCert)
    for (const hash of ['sha1', 'sha256', 'sha512'] as const) expect(Buffer.from(await d.decrypt(hash, publicEncryptWith(hash))).toString()).toBe('content-key')
    await expect(d.decrypt('sha256', Buffer.alloc(256, 1))).rejects.toThrow()
    await expect(d.decrypt('md5' as never, Buffer.alloc(256))).rejects.toThrow(TypeError)
    await expect(d.decrypt('sha256', 'text' as never)).rejects.toThrow(TypeError)
    expect(() => createKeyDecrypter(ec)).toThrow(/RSA/)
    expect(isKeyServiceError(new ApisignError('ERR_HSM_UNAVAILABLE', 'x'))).toBe(true)
    expect(isKeyServiceError(new ApisignError('ERR_JWE_DECRYPTION_FAILED', 'x'))).toBe(false)
    expect(isKeyServiceError(new Error('x'))).toBe(false)
  })
})

function signRequestKeyless(data: Buffer): Buffer {
  return Buffer.from(signBaseString(data.toString(), SIGNATURE_METHODS['RSA-SHA256'], { key: rsa }), 'base64')
}

describe('signCompactJws', () => {
  it('signs what jose verifies, alg from the signer, header and payload in the given order', async () => {
    const jws = await signCompactJws({ signer: createKeySigner(rsa, { algorithm: 'PS256' }), header: { typ: 'JWT', kid: 'k' }, payload: { b: 1, a: 2 } })
    expect(Buffer.from(jws.split('.')[0] as string, 'base64url').toString()).toBe('{"alg":"PS256","typ":"JWT","kid":"k"}')
    expect(Buffer.from(jws.split('.')[1] as string, 'base64url').toString()).toBe('{"b":1,"a":2}')
    await jose.compactVerify(jws, createPublicKey(rsa), { algorithms: ['PS256'] })
    const text = await signCompactJws({ signer: createKeySigner(ec), payload: 'hello', header: { alg: 'ES256' } })
    expect(Buffer.from((await jose.compactVerify(text, createPublicKey(ec))).payload).toString()).toBe('hello')
    const bytes = await signCompactJws({ signer: createKeySigner(rsa), payload: Buffer.from([1, 2]) })
    expect(Buffer.from(bytes.split('.')[1] as string, 'base64url')).toEqual(Buffer.from([1, 2]))
  })

  it('refuses misuse with TypeErrors', async () => {
    const signer = createKeySigner(rsa)
    await expect(signCompactJws(null as never)).rejects.toThrow(TypeError)
    await expect(signCompactJws({ signer: {} as never, payload: {} })).rejects.toThrow(/Signer/)
    await expect(signCompactJws({ signer, header: { alg: 'HS256' }, payload: {} })).rejects.toThrow(/does not match/)
    await expect(signCompactJws({ signer, header: [] as never, payload: {} })).rejects.toThrow(/header/)
    await expect(signCompactJws({ signer, payload: [1] as never })).rejects.toThrow(/payload/)
  })
})

describe('OAuth1 with an external signer', () => {
  const request = { method: 'POST', url: 'https://api.example.com/v1/payments?b=2&a=1', body: '{"amount":1}', consumerKey: 'ck!1', nonce: 'abc', timestamp: 1_700_000_000 }

  it('signs asynchronously exactly as the KeyObject does; the sync stages say to use the async ones', async () => {
    const signer = createKeySigner(rsa)
    expect((await signRequestAsync({ ...request, key: signer })).authorizationHeader).toBe(signRequest({ ...request, key: rsa }).authorizationHeader)
    expect(() => signBaseString('x', SIGNATURE_METHODS['RSA-SHA256'], { signer })).toThrow(/signBaseStringAsync/)
    await expect(signBaseStringAsync('x', SIGNATURE_METHODS['RSA-PSS'], { signer })).rejects.toThrow(/signs RS256/)
    const pss = createKeySigner(rsa, { algorithm: 'PS256' })
    const r = await signRequestAsync({ ...request, key: pss })
    expect(r.oauthParams.find(([n]) => n === 'oauth_signature_method')?.[1]).toBe('RSA-PSS')
    expect(await signBaseStringAsync('x', SIGNATURE_METHODS['HMAC-SHA256'], { consumerSecret: 's' })).toBe(signBaseString('x', SIGNATURE_METHODS['HMAC-SHA256'], { consumerSecret: 's' }))
  })

  it('a failing signer: ApisignErrors pass through, anything else is ERR_SIGN_FAILED', async () => {
    const failing = (error: unknown): Signer => ({ kind: 'signer', algorithm: 'RS256', sign: () => Promise.reject(error) })
    const outage = await signRequestAsync({ ...request, key: failing(new ApisignError('ERR_HSM_UNAVAILABLE', 'away')) }).catch((e: unknown) => e)
    expect(isApisignError(outage, 'ERR_HSM_UNAVAILABLE')).toBe(true)
    const other = await signRequestAsync({ ...request, key: failing(new Error('boom')) }).catch((e: unknown) => e)
    expect(isApisignError(other, 'ERR_SIGN_FAILED')).toBe(true)
    expect(() => createOAuth1Signer({ consumerKey: 'ck', key: failing(1), dialect: 'rfc5849', signatureMethod: 'HMAC-SHA1', consumerSecret: 's' }).sign({ method: 'GET', url: 'https://a.example/x' })).not.toThrow()
  })
})

describe('JWE, legacy and field decryption with a Decrypter', () => {
  const decrypter = createKeyDecrypter(encKey)
  const outage: Decrypter = { kind: 'decrypter', decrypt: () => Promise.reject(new ApisignError('ERR_HSM_UNAVAILABLE', 'away')) }
  const broken: Decrypter = { kind: 'decrypter', decrypt: () => Promise.reject(new Error('no')) }
  const shortKey: Decrypter = { kind: 'decrypter', decrypt: async () => Buffer.alloc(3) }

  it('compactDecryptAsync: a Decrypter or a KeyObject; an outage passes, any other failure is the one decryption error', async () => {
    const token = compactEncrypt('{"a":1}', encCert)
    expect((await compactDecryptAsync(token, decrypter)).plaintext.toString()).toBe('{"a":1}')
    expect((await compactDecryptAsync(token, encKey)).plaintext.toString()).toBe('{"a":1}')
    expect(isApisignError(await compactDecryptAsync(token, outage).catch((e: unknown) => e), 'ERR_HSM_UNAVAILABLE')).toBe(true)
    for (const d of [broken, shortKey]) expect(isApisignError(await compactDecryptAsync(token, d).catch((e: unknown) => e), 'ERR_JWE_DECRYPTION_FAILED')).toBe(true)
    expect(() => compactDecrypt(token, decrypter as never)).toThrow(/compactDecryptAsync/)
  })

  it('legacyDecryptAsync: a Decrypter or a KeyObject; outage passes; other failures are ERR_LEGACY_DECRYPTION_FAILED', async () => {
    const parts = legacyEncrypt(Buffer.from('secret'), encCert.publicKey, 'SHA-512', 'base64')
    expect((await legacyDecryptAsync(parts, decrypter, 'SHA-512', 'base64')).toString()).toBe('secret')
    expect((await legacyDecryptAsync(parts, encKey, 'SHA-512', 'base64')).toString()).toBe('secret')
    expect(isApisignError(await legacyDecryptAsync(parts, outage, 'SHA-512', 'base64').catch((e: unknown) => e), 'ERR_HSM_UNAVAILABLE')).toBe(true)
    expect(isApisignError(await legacyDecryptAsync(parts, broken, 'SHA-512', 'base64').catch((e: unknown) => e), 'ERR_LEGACY_DECRYPTION_FAILED')).toBe(true)
    expect(isApisignError(await legacyDecryptAsync(parts, shortKey, 'SHA-512', 'base64').catch((e: unknown) => e), 'ERR_LEGACY_DECRYPTION_FAILED')).toBe(true)
    expect(() => legacyDecrypt(parts, decrypter as never, 'SHA-512', 'base64')).toThrow(/legacyDecryptAsync/)
  })

  it('createEncryption: decryptAsync with a Decrypter as privateKey (JWE and legacy header mode); decrypt names decryptAsync', async () => {
    const paths = [{ path: '/tokens$', toEncrypt: [{ element: 'card', obj: 'encryptedCard' }], toDecrypt: [{ element: 'encryptedCard', obj: 'card' }] }]
    const partner = createEncryption({ mode: 'JWE', encryptedValueFieldName: 'encryptedData', paths, encryptionCertificate: encCert })
    const client = createEncryption({ mode: 'JWE', encryptedValueFieldName: 'encryptedData', paths, encryptionCertificate: encCert, privateKey: decrypter })
    const sent = partner.encrypt({ url: '/tokens', body: { card: { pan: '5123' }, n: 1 } })
    expect((await client.decryptAsync({ url: '/tokens', body: sent.body })).body).toEqual({ card: { pan: '5123' }, n: 1 })
    expect(() => client.decrypt({ url: '/tokens', body: sent.body })).toThrow(/decryptAsync/)
    // The typed config form takes the Decrypter as decryptionKey.
    const typed = createEncryption({ endpoints: [{ path: '/tokens$', decrypt: [{ from: 'encryptedCard', to: 'card' }] }], decryptionKey: decrypter })
    expect((await typed.decryptAsync({ url: '/tokens', body: sent.body })).body).toEqual({ card: { pan: '5123' }, n: 1 })
    // A KeyObject config gives the same through both drivers.
    const software = createEncryption({ mode: 'JWE', encryptedValueFieldName: 'encryptedData', paths, encryptionCertificate: encCert, privateKey: encKey })
    expect((await software.decryptAsync({ url: '/tokens', body: sent.body })).body).toEqual(software.decrypt({ url: '/tokens', body: sent.body }).body)

    const legacyConfig = {
      encryptedValueFieldName: 'encryptedValue', oaepPaddingDigestAlgorithm: 'SHA-256', dataEncoding: 'hex' as const,
      ivHeaderName: 'x-iv', encryptedKeyHeaderName: 'x-key', oaepHashingAlgorithmHeaderName: 'x-oaep',
      paths: [{ path: '/legacy', toEncrypt: [{ element: '$', obj: '$' }], toDecrypt: [{ element: '$', obj: '$' }] }],
    }
    const legacyPartner = createEncryption({ ...legacyConfig, encryptionCertificate: encCert })
    const legacyClient = createEncryption({ ...legacyConfig, paths: [{ path: '/legacy', toDecrypt: [{ element: '$', obj: '$' }] }], privateKey: decrypter })
    const out = legacyPartner.encrypt({ url: '/legacy', body: { pan: '5123' } })
    const back = await legacyClient.decryptAsync({ url: '/legacy', body: out.body, headers: out.headers })
    expect(back.body).toEqual({ pan: '5123' })
    expect(back.headers['x-iv']).toBeUndefined()
  })
})
