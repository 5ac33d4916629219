// Config validation, mapping forms and crafted tokens the vector, interop and property suites do not reach
// (issue 9, item 7). Tokens are crafted with node:crypto (or jose, for RSA-OAEP with SHA-1) so that each
// check of the decrypt path is met by exactly the input that should trip it.
import {
  type KeyObject,
  X509Certificate,
  constants,
  createCipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
} from 'node:crypto'
import { join } from 'node:path'
import { CompactEncrypt } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  WILDCARD,
  compactDecrypt,
  compactEncrypt,
  createEncryption,
  fromApisignConfig,
  legacyDecrypt,
  legacyEncrypt,
  parseFieldPath,
  parseLegacyDigest,
} from '../../src/encryption/index.js'
import { fingerprint } from '../../src/keys/index.js'
import { readShared, sharedPath } from '../helpers/shared.js'
import { failure } from '../helpers/failure.js'

const certPem = readShared('keys/encryption/certificate.pem')
const cert = new X509Certificate(certPem)
const privatePem = readShared('keys/encryption/private-key-pkcs8.pem')
const privateKey = createPrivateKey(privatePem)
const publicKey = createPublicKey(privateKey)
const keys = { encryptionCertificate: certPem, privateKey: privatePem }
const FIELD = 'encryptedData'
const jwe = (paths: unknown[], extra: Record<string, unknown> = {}) => ({ mode: 'JWE', encryptedValueFieldName: FIELD, paths, ...keys, ...extra })
const legacy = (paths: unknown[], extra: Record<string, unknown> = {}) => ({
  encryptedValueFieldName: 'encryptedValue',
  ivFieldName: 'iv',
  encryptedKeyFieldName: 'encryptedKey',
  oaepHashingAlgorithmFieldName: 'oaepHashingAlgorithm',
  oaepPaddingDigestAlgorithm: 'SHA-256',
  dataEncoding: 'hex',
  paths,
  ...keys,
  ...extra,
})
const decryptToken = (token: unknown) => JSON.parse(compactDecrypt(token as string, privateKey).plaintext.toString('utf8')) as unknown

const configError = (config: unknown) => {
  const f = failure(() => createEncryption(config as Record<string, unknown>))
  expect(f.code).toBe('ERR_ENCRYPTION_CONFIG')
  return f.message
}

/** A compact JWE assembled by hand: every part chosen by the test. */
function craftToken(parts: { header: unknown; cek: Buffer; wrappedCek?: Buffer; iv: Buffer; plaintext?: string; cipher?: string }): string {
  const h = Buffer.from(JSON.stringify(parts.header)).toString('base64url')
  const wrapped = parts.wrappedCek ?? publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, parts.cek)
  const cipher = createCipheriv((parts.cipher ?? 'aes-256-gcm') as 'aes-256-gcm', parts.cek, parts.iv)
  cipher.setAAD(Buffer.from(h, 'ascii'))
  const ct = Buffer.concat([cipher.update(parts.plaintext ?? '{}', 'utf8'), cipher.final()])
  return [h, wrapped, parts.iv, ct, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.')
}

describe('apisign typed config', () => {
  it('translates every field into the mastercard-client-encryption form', () => {
    const p12 = Buffer.from(readShared('keys/encryption/keystore.p12.b64').toString(), 'base64')
    const config = {
      endpoints: [
        { path: /\/payments$/, encrypt: [{ from: 'card', to: 'encryptedCard' }] },
        { path: '/health$' },
      ],
      encryptionKey: publicKey,
      decryptionKey: { p12, alias: 'keyalias', password: 'keystorepassword' },
      kid: 'partner-kid-1',
    } as const
    expect(fromApisignConfig(config)).toEqual({
      mode: 'JWE',
      encryptedValueFieldName: 'encryptedData',
      paths: [
        { path: '\\/payments$', toEncrypt: [{ element: 'card', obj: 'encryptedCard' }], toDecrypt: [] },
        { path: '/health$', toEncrypt: [], toDecrypt: [] },
      ],
      encryptionKey: publicKey,
      keyStore: p12,
      keyStorePassword: 'keystorepassword',
      keyStoreAlias: 'keyalias',
      publicKeyFingerprint: 'partner-kid-1',
    })
    const enc = createEncryption(config)
    expect(enc.kid).toBe('partner-kid-1')
    expect(enc.matches('/health')).toEqual({ encrypt: false, decrypt: false })
    const out = enc.encrypt({ url: 'https://api.example.com/v1/payments?x=1', body: { card: { pan: '5123' }, amount: 5 } }).body as Record<string, { encryptedData: string }>
    const token = out['encryptedCard']?.encryptedData as string
    expect(compactDecrypt(token, privateKey).protectedHeader['kid']).toBe('partner-kid-1')
    expect(decryptToken(token)).toEqual({ pan: '5123' })
  })

  it('refuses a non-JWE scheme and endpoints that are not a list', () => {
    expect(configError({ scheme: 'legacy', endpoints: [] })).toBe('encryption config: scheme must be "jwe" in the typed config')
    expect(configError({ endpoints: { path: '/x' } })).toBe('encryption config: endpoints must be an array')
  })

  it('a decryption-only config has no kid and passes request bodies through', () => {
    const enc = createEncryption({ endpoints: [{ path: '/r$', decrypt: [{ from: FIELD, to: 'card' }] }], decryptionKey: privatePem })
    expect(enc.kid).toBeUndefined()
    const body = { card: '5123' }
    expect(enc.encrypt({ url: '/r', body }).body).toBe(body)
  })
})

describe('mastercard-client-encryption config validation names the field', () => {
  const paths = [{ path: '/r$', toEncrypt: [{ element: 'a', obj: 'b' }] }]
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['a non-string field name', jwe(paths, { encryptedValueFieldName: 5 }), 'encryptedValueFieldName must be a non-empty string'],
    ['an empty field name', jwe(paths, { encryptedValueFieldName: '' }), 'encryptedValueFieldName must be a non-empty string'],
    ['a path entry that is not an object', jwe([null]), 'paths[0] must be an object'],
    ['an empty path pattern', jwe([{ path: '' }]), 'paths[0].path must be a regular expression string'],
    ['toEncrypt not a list', jwe([{ path: '/r', toEncrypt: 'a' }]), 'paths[0].toEncrypt must be an array of { element, obj }'],
    ['a mapping that is not an object', jwe([{ path: '/r', toDecrypt: [null] }]), 'paths[0].toDecrypt[0] must be an object { element, obj }'],
    [
      'an empty keyStoreAlias',
      { ...jwe(paths), privateKey: undefined, keyStore: Buffer.alloc(1), keyStorePassword: 'p', keyStoreAlias: '' },
      'keyStoreAlias must be a non-empty string',
    ],
    [
      'a certificate fingerprint without a certificate',
      { ...jwe(paths), encryptionCertificate: undefined, encryptionKey: publicKey, publicKeyFingerprintType: 'certificate', dataEncoding: 'hex' },
      'publicKeyFingerprintType "certificate" needs encryptionCertificate',
    ],
    ['a key given as a number', jwe(paths, { encryptionCertificate: 42 }), 'encryptionCertificate: certificate must be PEM text, a file path or bytes. Received type number'],
    ['a private key given as an object', jwe(paths, { privateKey: { pem: 'x' } }), 'privateKey: key must be PEM text, a file path, bytes, a KeyObject'],
  ]
  for (const [name, config, message] of cases) {
    it(name, () => {
      expect(configError(config)).toContain(message)
    })
  }

  it('[*] must sit at the same positions in element and obj (else every match lands in one place)', () => {
    expect(configError(jwe([{ path: '/r', toEncrypt: [{ element: 'items[*].pan', obj: 'encPan' }] }]))).toBe(
      'encryption config: paths[0].toEncrypt[0]: element and obj must have [*] at the same positions',
    )
    expect(configError(jwe([{ path: '/r', toDecrypt: [{ element: 'enc', obj: 'items[*]' }] }]))).toContain('paths[0].toDecrypt[0]')
    expect(configError(jwe([{ path: '/r', toEncrypt: [{ element: 'a[*].b[*]', obj: 'a[*].c' }] }]))).toContain('same positions')
  })

  it('relative key paths resolve against baseDir (the directory of the config file)', () => {
    const config = jwe([{ path: '/r', toEncrypt: [{ element: 'a', obj: 'b' }] }], { encryptionCertificate: 'certificate.pem', privateKey: undefined })
    expect(createEncryption(config, { baseDir: sharedPath('keys/encryption') }).kid).toBe(fingerprint(cert))
    // Without baseDir they resolve against the working directory; the key error keeps its code, prefixed with the field.
    expect(failure(() => createEncryption(config))).toEqual({
      code: 'ERR_FILE_NOT_FOUND',
      message: `encryption config encryptionCertificate: certificate file ${join(process.cwd(), 'certificate.pem')} cannot be read (ENOENT)`,
    })
  })

  it('a keystore with an alias, and a bare encryption key whose kid is its public-key fingerprint', () => {
    const p12 = Buffer.from(readShared('keys/encryption/keystore.p12.b64').toString(), 'base64')
    const enc = createEncryption(
      jwe([{ path: '/r', toEncrypt: [{ element: 'a', obj: 'b' }], toDecrypt: [{ element: 'b', obj: 'a' }] }], {
        encryptionCertificate: undefined,
        encryptionKey: readShared('keys/encryption/public-key.pem'),
        privateKey: undefined,
        keyStore: p12,
        keyStoreAlias: 'keyalias',
        keyStorePassword: 'keystorepassword',
      }),
    )
    expect(enc.kid).toBe(fingerprint(cert))
    const e = enc.encrypt({ url: '/r', body: { a: [1, 2] } })
    expect(enc.decrypt({ url: '/r', body: e.body }).body).toEqual({ a: [1, 2] })
  })
})

describe('mapping forms', () => {
  it('a field into the root ($) keeps the rest of the body and loses nothing', () => {
    const enc = createEncryption(jwe([{ path: '/r', toEncrypt: [{ element: 'card', obj: '$' }], toDecrypt: [{ element: FIELD, obj: 'card' }] }]))
    const body = { card: { pan: '5123456789012345' }, amount: 10 }
    const e = enc.encrypt({ url: '/r', body }).body as Record<string, unknown>
    expect(Object.keys(e).sort()).toEqual(['amount', FIELD])
    expect(decryptToken(e[FIELD])).toEqual({ pan: '5123456789012345' })
    expect(enc.decrypt({ url: '/r', body: e }).body).toEqual(body)
    expect(body.card.pan).toBe('5123456789012345')
  })

  it('[*] over array elements: each element goes to its own index, in order, and comes back', () => {
    const enc = createEncryption(jwe([{ path: '/r', toEncrypt: [{ element: 'items[*]', obj: 'enc[*]' }], toDecrypt: [{ element: 'enc[*]', obj: 'items[*]' }] }]))
    const items = ['a', { b: 2 }, [3], null]
    const e = enc.encrypt({ url: '/r', body: { items } }).body as { items: unknown[]; enc: Array<Record<string, unknown>> }
    expect(e.items).toEqual([])
    expect(e.enc.map((x) => decryptToken(x[FIELD]))).toEqual(items)
    const back = enc.decrypt({ url: '/r', body: e }).body as { items: unknown[]; enc: unknown[] }
    expect(back).toEqual({ items, enc: [] })
  })

  it('an obj path through a missing array index creates the array', () => {
    const enc = createEncryption(jwe([{ path: '/r', toEncrypt: [{ element: 'card', obj: 'out[0]' }] }]))
    const e = enc.encrypt({ url: '/r', body: { card: 1 } }).body as { out: Array<Record<string, unknown>> }
    expect(Array.isArray(e.out)).toBe(true)
    expect(decryptToken(e.out[0]?.[FIELD])).toBe(1)
  })

  it('decrypt: the whole body into a field, a non-object into the root, a non-object over an object', () => {
    const enc = createEncryption(
      jwe([
        { path: '/whole$', toDecrypt: [{ element: '$', obj: 'payload' }] },
        { path: '/root$', toDecrypt: [{ element: FIELD, obj: '$' }] },
        { path: '/over$', toDecrypt: [{ element: 'enc', obj: 'card' }] },
      ]),
    )
    const token = (v: unknown) => compactEncrypt(JSON.stringify(v), cert)
    expect(enc.decrypt({ url: '/whole', body: { [FIELD]: token({ a: 1 }) } }).body).toEqual({ payload: { a: 1 } })
    expect(enc.decrypt({ url: '/root', body: { [FIELD]: token('just text'), other: 1 } }).body).toBe('just text')
    expect(enc.decrypt({ url: '/over', body: { card: { stale: true }, enc: token('5123') } }).body).toEqual({ card: '5123' })
  })

  it('decrypt leaves absent values and objects without a token alone (the very same body), and refuses plain values', () => {
    const enc = createEncryption(jwe([{ path: '/r', toDecrypt: [{ element: 'enc', obj: 'card' }] }]))
    for (const body of [{ enc: { other: 'x' } }, { enc: null }]) {
      expect(enc.decrypt({ url: '/r', body }).body).toBe(body)
    }
    const old = createEncryption(legacy([{ path: '/r', toDecrypt: [{ element: 'enc', obj: 'card' }] }]))
    for (const body of [{ enc: { iv: '00' } }, { enc: { encryptedValue: null } }]) {
      expect(old.decrypt({ url: '/r', body }).body).toBe(body)
    }
    // A plain value where the encrypted one should be is an error (both references refuse it too).
    expect(failure(() => enc.decrypt({ url: '/r', body: { enc: 42 } })).code).toBe('ERR_ENCRYPTION_CONFIG')
    expect(failure(() => old.decrypt({ url: '/r', body: { enc: 'text' } })).code).toBe('ERR_ENCRYPTION_CONFIG')
  })

  it('decrypt without a private key is a config error, raised when it is needed', () => {
    const enc = createEncryption(jwe([{ path: '/r', toDecrypt: [{ element: 'enc', obj: 'card' }] }], { privateKey: undefined }))
    expect(failure(() => enc.decrypt({ url: '/r', body: { enc: 'x' } }))).toEqual({
      code: 'ERR_ENCRYPTION_CONFIG',
      message: 'encryption config: privateKey or keyStore is required to decrypt',
    })
  })

  it('messages that are not { url, body } are TypeErrors', () => {
    const enc = createEncryption(jwe([{ path: '/r', toEncrypt: [{ element: 'a', obj: 'b' }] }]))
    expect(failure(() => enc.encrypt(null as never)).message).toBe('message must be { url, body, headers? }. Received null')
    expect(failure(() => enc.decrypt({ url: 5, body: {} } as never)).message).toBe('message.url must be a string')
  })
})

describe('decryption options and bad plaintext through createEncryption', () => {
  const paths = [{ path: '/r', toEncrypt: [{ element: 'card', obj: 'enc' }], toDecrypt: [{ element: 'enc', obj: 'card' }] }]

  it('ivLength 16 is used on encrypt (Java peers) and accepted on decrypt', () => {
    const enc = createEncryption(jwe(paths), { ivLength: 16 })
    const e = enc.encrypt({ url: '/r', body: { card: 'x' } }).body as { enc: Record<string, string> }
    const token = e.enc[FIELD] as string
    expect(Buffer.from(token.split('.')[2] as string, 'base64url')).toHaveLength(16)
    expect(enc.decrypt({ url: '/r', body: e }).body).toEqual({ card: 'x' })
  })

  it('maxTokenLength is enforced before parsing', () => {
    const enc = createEncryption(jwe(paths), { maxTokenLength: 100 })
    const e = enc.encrypt({ url: '/r', body: { card: 'x' } }).body
    expect(failure(() => enc.decrypt({ url: '/r', body: e })).code).toBe('ERR_INPUT_TOO_LARGE')
  })

  it('RSA-OAEP (SHA-1) tokens from another library: refused by default, accepted when allowed', async () => {
    const token = await new CompactEncrypt(Buffer.from('{"pan":"5123"}')).setProtectedHeader({ alg: 'RSA-OAEP', enc: 'A256GCM' }).encrypt(publicKey)
    const body = { enc: { [FIELD]: token } }
    expect(failure(() => createEncryption(jwe(paths)).decrypt({ url: '/r', body })).code).toBe('ERR_ALG_NOT_ALLOWED')
    expect(createEncryption(jwe(paths), { allowRsaOaepSha1: true }).decrypt({ url: '/r', body }).body).toEqual({ card: { pan: '5123' } })
  })

  it('a payload that is not UTF-8 is refused, not turned into U+FFFD (JWE and legacy)', () => {
    const notUtf8 = Buffer.from([0x22, 0xff, 0xfe, 0x22])
    const jweBody = { enc: compactEncrypt(notUtf8, cert) }
    expect(failure(() => createEncryption(jwe(paths)).decrypt({ url: '/r', body: jweBody }))).toEqual({
      code: 'ERR_JWE_DECRYPTION_FAILED',
      message: 'JWE decryption failed',
    })
    const parts = legacyEncrypt(notUtf8, publicKey, 'SHA-256', 'hex')
    const legacyBody = { enc: { encryptedValue: parts.encryptedValue, iv: parts.iv, encryptedKey: parts.encryptedKey } }
    expect(failure(() => createEncryption(legacy(paths)).decrypt({ url: '/r', body: legacyBody })).code).toBe('ERR_LEGACY_DECRYPTION_FAILED')
  })

  it('legacy without a digest field name: nothing written, the configured digest used to decrypt', () => {
    const enc = createEncryption(legacy(paths, { oaepHashingAlgorithmFieldName: undefined, oaepPaddingDigestAlgorithm: 'SHA512' }))
    const e = enc.encrypt({ url: '/r', body: { card: { pan: '1' } } }).body as { enc: Record<string, string> }
    expect(Object.keys(e.enc).sort()).toEqual(['encryptedKey', 'encryptedValue', 'iv'])
    expect(enc.decrypt({ url: '/r', body: e }).body).toEqual({ card: { pan: '1' } })
  })

  it('legacy payload naming an unsupported digest is refused', () => {
    const enc = createEncryption(legacy(paths))
    const e = enc.encrypt({ url: '/r', body: { card: 1 } }).body as { enc: Record<string, string> }
    const body = { enc: { ...e.enc, oaepHashingAlgorithm: 'SHA1' } }
    expect(failure(() => enc.decrypt({ url: '/r', body }))).toEqual({
      code: 'ERR_LEGACY_DECRYPTION_FAILED',
      message: 'unsupported OAEP digest in the encrypted payload',
    })
  })
})

describe('compactEncrypt / compactDecrypt input checks', () => {
  it('programmer misuse is a TypeError', () => {
    expect(failure(() => compactEncrypt('x', certPem.toString() as never)).message).toBe('key must be a KeyObject or X509Certificate. Received type string')
    expect(failure(() => compactEncrypt('x', cert, { enc: 'A512GCM' as never })).message).toBe('enc must be one of A128GCM, A192GCM, A256GCM, A128CBC-HS256')
    expect(failure(() => compactEncrypt('x', cert, { ivLength: 8 as never })).message).toBe('ivLength must be one of 12, 16')
    expect(failure(() => compactDecrypt('a.b.c.d.e', publicKey)).message).toBe('key must be a private KeyObject. Received an instance of PublicKeyObject')
  })

  it('a key that cannot wrap a CEK is ERR_ENCRYPTION_FAILED', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey
    expect(failure(() => compactEncrypt('x', ec)).code).toBe('ERR_ENCRYPTION_FAILED')
    expect(failure(() => legacyEncrypt(Buffer.from('x'), ec, 'SHA-256', 'hex')).code).toBe('ERR_ENCRYPTION_FAILED')
  })

  it('bytes round-trip under GCM and CBC-HMAC; CBC always uses a 16-byte IV', () => {
    const bytes = new Uint8Array([0, 1, 2, 255])
    for (const enc of ['A128GCM', 'A128CBC-HS256'] as const) {
      const token = compactEncrypt(bytes, cert, { enc, ivLength: 12 })
      expect(Buffer.from(token.split('.')[2] as string, 'base64url')).toHaveLength(enc === 'A128GCM' ? 12 : 16)
      expect([...compactDecrypt(token, privateKey).plaintext]).toEqual([...bytes])
    }
  })

  it('a protected header that is JSON but not an object', () => {
    for (const header of ['null', '[1]', '"RSA-OAEP-256"']) {
      const token = `${Buffer.from(header).toString('base64url')}.a.b.c.d`
      expect(failure(() => compactDecrypt(token, privateKey))).toEqual({ code: 'ERR_JWE_INVALID', message: 'JWE protected header is not a JSON object' })
    }
  })

  it('an IV of a length the enc does not take', () => {
    const token = craftToken({ header: { alg: 'RSA-OAEP-256', enc: 'A256GCM' }, cek: randomBytes(32), iv: randomBytes(8) })
    expect(failure(() => compactDecrypt(token, privateKey))).toEqual({ code: 'ERR_JWE_INVALID', message: 'JWE IV of 8 bytes is not accepted for A256GCM' })
  })

  it('a correctly wrapped CEK of the wrong length fails like any bad key (RFC 7516 §11.5)', () => {
    const cek = randomBytes(16)
    const token = craftToken({ header: { alg: 'RSA-OAEP-256', enc: 'A256GCM' }, cek, iv: randomBytes(12), cipher: 'aes-128-gcm' })
    expect(failure(() => compactDecrypt(token, privateKey))).toEqual({ code: 'ERR_JWE_DECRYPTION_FAILED', message: 'JWE decryption failed' })
    // Control: the same construction with a 32-byte CEK decrypts.
    const good = craftToken({ header: { alg: 'RSA-OAEP-256', enc: 'A256GCM' }, cek: randomBytes(32), iv: randomBytes(12), plaintext: '{"ok":1}' })
    expect(decryptToken(good)).toEqual({ ok: 1 })
  })
})

describe('legacy primitives', () => {
  it('parseLegacyDigest accepts the spellings peers send, nothing else', () => {
    expect(['SHA-256', 'sha256', 'SHA256'].map(parseLegacyDigest)).toEqual(['SHA-256', 'SHA-256', 'SHA-256'])
    expect(parseLegacyDigest('sha-512')).toBe('SHA-512')
    expect([256, undefined, 'SHA1', 'SHA-384'].map(parseLegacyDigest)).toEqual([undefined, undefined, undefined, undefined])
  })

  const wrap = (key: Buffer, iv: Buffer, plaintext: string) => {
    const bits = key.length * 8
    const cipher = createCipheriv(`aes-${bits}-cbc`, key, iv)
    return {
      encryptedValue: Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]).toString('hex'),
      iv: iv.toString('hex'),
      encryptedKey: publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, key).toString('hex'),
    }
  }

  it('session keys of 24 and 32 bytes (AES-192/256) are decrypted; other lengths refused', () => {
    for (const n of [16, 24, 32]) {
      expect(legacyDecrypt(wrap(randomBytes(n), randomBytes(16), '{"n":1}'), privateKey, 'SHA-256', 'hex').toString()).toBe('{"n":1}')
    }
    const odd = { ...wrap(randomBytes(16), randomBytes(16), 'x'), encryptedKey: publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(17)).toString('hex') }
    expect(failure(() => legacyDecrypt(odd, privateKey, 'SHA-256', 'hex'))).toEqual({
      code: 'ERR_LEGACY_DECRYPTION_FAILED',
      message: 'legacy decryption failed',
    })
  })

  it('an IV that is not 16 bytes is refused', () => {
    const parts = { ...wrap(randomBytes(16), randomBytes(16), 'x'), iv: '00'.repeat(8) }
    expect(failure(() => legacyDecrypt(parts, privateKey as KeyObject, 'SHA-256', 'hex'))).toEqual({
      code: 'ERR_LEGACY_DECRYPTION_FAILED',
      message: 'legacy decryption failed',
    })
  })
})

describe('parseFieldPath', () => {
  it('accepts $-prefixed, bracketed and leading-index forms', () => {
    expect(parseFieldPath('$.a.b')).toEqual(['a', 'b'])
    expect(parseFieldPath('$[0].a')).toEqual([0, 'a'])
    expect(parseFieldPath('[*].pan')).toEqual([WILDCARD, 'pan'])
    expect(parseFieldPath('  items.2.pan ')).toEqual(['items', 2, 'pan'])
  })
  it('refuses empty segments and malformed indexes', () => {
    for (const bad of ['a..b', 'a.', '$.', '.a']) {
      expect(failure(() => parseFieldPath(bad))).toEqual({ code: 'ERR_ENCRYPTION_CONFIG', message: `field path ${JSON.stringify(bad)} has an empty segment` })
    }
    expect(failure(() => parseFieldPath('a[x]')).message).toBe('field path "a[x]" has a malformed [index]')
    expect(failure(() => parseFieldPath(7 as never)).message).toBe('a field path must be a string')
  })
})
