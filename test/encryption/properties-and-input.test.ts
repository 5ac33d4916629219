import { createPrivateKey } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isApisignError } from '../../src/errors.js'
import { compactDecrypt, compactEncrypt, createEncryption } from '../../src/encryption/index.js'
import { loadCertificate } from '../../src/keys/index.js'
import { readShared } from '../helpers/shared.js'

const cert = loadCertificate(readShared('keys/encryption/certificate.pem'))
const privateKey = createPrivateKey(readShared('keys/encryption/private-key-pkcs8.pem'))
const otherKey = createPrivateKey(readShared('keys/encryption/other-private-key-pkcs8.pem'))
const keys = { encryptionCertificate: readShared('keys/encryption/certificate.pem'), privateKey: readShared('keys/encryption/private-key-pkcs8.pem') }
const jwe = (paths: unknown[]) => ({ mode: 'JWE', encryptedValueFieldName: 'encryptedData', paths, ...keys })
const legacy = (paths: unknown[], extra: Record<string, unknown> = {}) => ({
  encryptedValueFieldName: 'encryptedValue', ivFieldName: 'iv', encryptedKeyFieldName: 'encryptedKey',
  oaepHashingAlgorithmFieldName: 'oaepHashingAlgorithm', oaepPaddingDigestAlgorithm: 'SHA-256', dataEncoding: 'hex', paths, ...keys, ...extra,
})

// Every mapping form: root, a field, a nested field, MDES in place, first-level field, array index, [*].
const FORMS: Array<{ name: string; toEncrypt: Array<{ element: string; obj: string }>; body: (v: unknown) => unknown }> = [
  { name: 'root', toEncrypt: [{ element: '$', obj: '$' }], body: (v) => ({ data: v, other: 1 }) },
  { name: 'field', toEncrypt: [{ element: 'secret', obj: 'encryptedSecret' }], body: (v) => ({ secret: v, keep: 'x' }) },
  { name: 'nested', toEncrypt: [{ element: 'a.b.secret', obj: 'a.enc' }], body: (v) => ({ a: { b: { secret: v, sib: 2 } } }) },
  { name: 'first-level', toEncrypt: [{ element: 'secret', obj: 'encryptedData' }], body: (v) => ({ secret: v }) },
  { name: 'array index', toEncrypt: [{ element: 'items[1].pan', obj: 'items[1].encPan' }], body: (v) => ({ items: [{ pan: 1 }, { pan: v }] }) },
  { name: 'wildcard', toEncrypt: [{ element: 'items[*].pan', obj: 'items[*].encPan' }], body: (v) => ({ items: [{ pan: v }, { pan: v, id: 2 }] }) },
]
const inverse = (m: Array<{ element: string; obj: string }>) => m.map(({ element, obj }) => ({ element: obj, obj: element }))

describe('round trip of random JSON through every mapping form (fast-check)', () => {
  for (const scheme of ['jwe', 'legacy'] as const) {
    for (const form of FORMS) {
      it(`${scheme}: ${form.name}`, () => {
        const paths = [{ path: '/r$', toEncrypt: form.toEncrypt, toDecrypt: inverse(form.toEncrypt) }]
        const enc = createEncryption(scheme === 'jwe' ? jwe(paths) : legacy(paths), { keyFilePermissions: 'ignore' })
        fc.assert(
          fc.property(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom('5123456789012345678', '123', '0', '', '{"a":1}'), (value, tricky) => {
            for (const v of [value, tricky]) {
              const body = form.body(v)
              const frozen = JSON.stringify(body)
              const e = enc.encrypt({ url: '/r', body })
              expect(JSON.stringify(body)).toBe(frozen)
              expect(JSON.stringify(e.body)).not.toBe(frozen)
              expect(enc.decrypt({ url: '/r', body: e.body, headers: e.headers }).body).toEqual(JSON.parse(frozen))
            }
          }),
          { numRuns: 120 },
        )
      })
    }
  }
})

describe('any single bit flip in any token segment is rejected', () => {
  it('flips one bit of the decoded bytes of a random segment (1000 runs)', () => {
    const token = compactEncrypt('{"pan":"5123456789012345"}', cert, { kid: 'kid-1' })
    const segments = token.split('.').map((s) => Buffer.from(s, 'base64url'))
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (seg, byteIndex, bit) => {
        const parts = segments.map((b) => Buffer.from(b))
        const target = parts[seg] as Buffer
        if (target.length === 0) return
        const i = byteIndex % target.length
        target[i] = (target[i] as number) ^ (1 << bit)
        const tampered = parts.map((b) => b.toString('base64url')).join('.')
        let code: string | undefined
        try {
          compactDecrypt(tampered, privateKey)
        } catch (e) {
          code = isApisignError(e) ? e.code : 'unexpected'
        }
        expect(['ERR_JWE_INVALID', 'ERR_JWE_DECRYPTION_FAILED', 'ERR_ALG_NOT_ALLOWED', 'ERR_UNSUPPORTED_ALGORITHM']).toContain(code)
      }),
      { numRuns: 1000 },
    )
  })
})

const codeOf = (fn: () => unknown): string => {
  try {
    fn()
  } catch (e) {
    if (isApisignError(e)) {
      expect(e.message).not.toMatch(/PRIVATE KEY|5123456789012345/)
      return e.code
    }
    if (e instanceof TypeError) return 'TypeError'
    throw e
  }
  return 'no error'
}

describe('bad input', () => {
  const ok = [{ path: '/r', toEncrypt: [{ element: 'a', obj: 'b' }], toDecrypt: [{ element: 'b', obj: 'a' }] }]
  it.each([
    ['not an object', 'nope'],
    ['no paths', { mode: 'JWE', encryptedValueFieldName: 'e', ...keys }],
    ['empty paths', jwe([])],
    ['paths not an array', { ...jwe(ok), paths: {} }],
    ['bad regex', jwe([{ path: '(', toEncrypt: [] }])],
    ['mapping without obj', jwe([{ path: '/r', toEncrypt: [{ element: 'a' }] }])],
    ['root mixed with others', jwe([{ path: '/r', toEncrypt: [{ element: '$', obj: '$' }, { element: 'a', obj: 'b' }] }])],
    ['malformed [index]', jwe([{ path: '/r', toEncrypt: [{ element: 'a[x]', obj: 'b' }] }])],
    ['no encryptedValueFieldName', { ...jwe(ok), encryptedValueFieldName: undefined }],
    ['unknown mode', { ...jwe(ok), mode: 'FOO' }],
    ['no certificate but toEncrypt', { ...jwe(ok), encryptionCertificate: undefined }],
    ['certificate fingerprint without dataEncoding', { ...jwe(ok), publicKeyFingerprintType: 'certificate' }],
    ['bad fingerprint type', { ...jwe(ok), publicKeyFingerprintType: 'sha1' }],
    ['bad dataEncoding', { ...jwe(ok), dataEncoding: 'base32' }],
    ['legacy: bad digest', legacy(ok, { oaepPaddingDigestAlgorithm: 'MD5' })],
    ['legacy: no dataEncoding', legacy(ok, { dataEncoding: undefined })],
    ['legacy: no iv/key names', legacy(ok, { ivFieldName: undefined })],
    ['legacy: half a header pair', legacy(ok, { ivHeaderName: 'x-iv' })],
    ['legacy: header mode with two paths', legacy([{ path: '/r', toEncrypt: [{ element: 'a', obj: 'b' }, { element: 'c', obj: 'd' }] }], { ivHeaderName: 'x-iv', encryptedKeyHeaderName: 'x-key' })],
    ['a keyStorePassword that is not a string', { ...jwe(ok), privateKey: undefined, keyStore: readShared('keys/encryption/keystore.p12.b64'), keyStorePassword: 7 }],
  ])('%s is ERR_ENCRYPTION_CONFIG', (_name, config) => {
    expect(codeOf(() => createEncryption(config as Record<string, unknown>, { keyFilePermissions: 'ignore' }))).toBe('ERR_ENCRYPTION_CONFIG')
  })
  it('a certificate file that is a key, and a missing file, name the config field', () => {
    expect(codeOf(() => createEncryption({ ...jwe(ok), encryptionCertificate: readShared('keys/encryption/public-key.pem') }))).toBe('ERR_CERT_INVALID')
    try {
      createEncryption({ ...jwe(ok), encryptionCertificate: '/nonexistent/cert.pem' })
    } catch (e) {
      expect(isApisignError(e, 'ERR_FILE_NOT_FOUND')).toBe(true)
      expect((e as Error).message).toContain('encryptionCertificate')
    }
  })
  it('a wrong decryption key fails with the uniform code', () => {
    const token = compactEncrypt('{"a":1}', cert)
    expect(codeOf(() => compactDecrypt(token, otherKey))).toBe('ERR_JWE_DECRYPTION_FAILED')
  })
  it('truncated and malformed tokens', () => {
    const token = compactEncrypt('{"a":1}', cert)
    expect(codeOf(() => compactDecrypt(token.slice(0, token.length - 10), privateKey))).toBe('ERR_JWE_INVALID')
    expect(codeOf(() => compactDecrypt(token.split('.').slice(0, 4).join('.'), privateKey))).toBe('ERR_JWE_INVALID')
    expect(codeOf(() => compactDecrypt('a.b.c.d.e', privateKey))).toBe('ERR_JWE_INVALID')
    expect(codeOf(() => compactDecrypt(42 as unknown as string, privateKey))).toBe('ERR_JWE_INVALID')
  })
  it('a huge token is refused before any parsing', () => {
    const huge = `${'A'.repeat(64)}.${'B'.repeat(2_000_000)}`
    expect(codeOf(() => compactDecrypt(huge, privateKey, { maxTokenLength: 1_000_000 }))).toBe('ERR_INPUT_TOO_LARGE')
    expect(codeOf(() => compactDecrypt(`x${'.'.repeat(20_000_000)}`, privateKey))).toBe('ERR_INPUT_TOO_LARGE')
  })
  it('a non-object body is refused where a mapping applies, and passes through where none does', () => {
    const enc = createEncryption(jwe(ok), { keyFilePermissions: 'ignore' })
    expect(codeOf(() => enc.encrypt({ url: '/r', body: 'text' }))).toBe('ERR_INVALID_INPUT')
    expect(enc.encrypt({ url: '/other', body: 'text' }).body).toBe('text')
  })
  it('a response without the encrypted field passes through untouched (same object)', () => {
    const enc = createEncryption(jwe(ok), { keyFilePermissions: 'ignore' })
    const body = { errors: [{ reasonCode: 'DECLINED' }] }
    expect(enc.decrypt({ url: '/r', body }).body).toBe(body)
  })
  it('refuses zip and crit headers, RSA1_5 and unknown enc', () => {
    const forge = (header: object) => `${Buffer.from(JSON.stringify(header)).toString('base64url')}.AA.AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA`
    expect(codeOf(() => compactDecrypt(forge({ alg: 'RSA-OAEP-256', enc: 'A256GCM', zip: 'DEF' }), privateKey))).toBe('ERR_JWE_INVALID')
    expect(codeOf(() => compactDecrypt(forge({ alg: 'RSA-OAEP-256', enc: 'A256GCM', crit: ['x'] }), privateKey))).toBe('ERR_JWE_INVALID')
    expect(codeOf(() => compactDecrypt(forge({ alg: 'RSA1_5', enc: 'A256GCM' }), privateKey))).toBe('ERR_ALG_NOT_ALLOWED')
    expect(codeOf(() => compactDecrypt(forge({ alg: 'RSA-OAEP-256', enc: 'XYZ' }), privateKey))).toBe('ERR_UNSUPPORTED_ALGORITHM')
  })
})

describe('apisign typed config', () => {
  it('behaves like the equivalent mastercard-client-encryption config', () => {
    const enc = createEncryption({
      encryptionCertificate: keys.encryptionCertificate,
      decryptionKey: { p12: Buffer.from(readShared('keys/encryption/keystore.p12.b64').toString(), 'base64'), alias: 'keyalias', password: 'keystorepassword' },
      endpoints: [{ path: /\/payments$/, encrypt: [{ from: 'card', to: 'encryptedCard' }], decrypt: [{ from: 'encryptedCard', to: 'card' }] }],
    })
    const body = { card: { pan: '5123456789012345678' }, amount: 0 }
    const e = enc.encrypt({ url: 'https://api.example.com/v1/payments?x=1', body })
    expect(Object.keys(e.body as object).sort()).toEqual(['amount', 'encryptedCard'])
    expect(enc.decrypt({ url: '/v1/payments', body: e.body }).body).toEqual(body)
    expect(enc.kid).toMatch(/^[0-9a-f]{64}$/)
  })
})
