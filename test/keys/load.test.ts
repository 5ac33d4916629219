import { type KeyObject, X509Certificate, createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto'
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { isApisignError } from '../../src/errors.js'
import {
  describeKey,
  fingerprint,
  keyMatchesCertificate,
  loadCertificate,
  loadKeyStore,
  loadPrivateKey,
  loadPublicKey,
  loadSigningKey,
} from '../../src/keys/index.js'
import { readShared, sharedPath } from '../helpers/shared.js'

const tmp = mkdtempSync(join(tmpdir(), 'apisign-keys-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
const ignore = { filePermissions: 'ignore' } as const // the shared keys are mode 0444
const P12 = { alias: 'keyalias', password: 'keystorepassword' }

const reference = createPrivateKey(readShared('keys/oauth1/private-key.pem'))
const spkiHex = (k: KeyObject) =>
  createHash('sha256')
    .update((k.type === 'public' ? k : createPublicKey(k)).export({ type: 'spki', format: 'der' }))
    .digest('hex')

/** Copy a shared file into a private (0600) temp file, as a real key file would be. */
function privateCopy(rel: string, mode = 0o600): string {
  const path = join(tmp, rel.replaceAll('/', '_'))
  copyFileSync(sharedPath(rel), path)
  chmodSync(path, mode)
  return path
}

function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    if (isApisignError(error)) {
      // Never the key or password in a message.
      expect(error.message).not.toMatch(/PRIVATE KEY-----|keystorepassword|MII[A-Za-z0-9+/]{20}/)
      return error.code
    }
    if (error instanceof TypeError) return 'TypeError'
    throw error
  }
  throw new Error('expected a failure')
}

describe('loadSigningKey: every format loads to the same key', () => {
  const cases: Array<[string, () => KeyObject]> = [
    ['PKCS#8 PEM path', () => loadSigningKey(sharedPath('keys/oauth1/private-key.pem'), ignore)],
    ['PKCS#1 PEM path', () => loadSigningKey(sharedPath('keys/oauth1/private-key-pkcs1.pem'), ignore)],
    ['PKCS#8 PEM text', () => loadSigningKey(readShared('keys/oauth1/private-key.pem').toString())],
    ['PKCS#8 PEM bytes', () => loadSigningKey(readShared('keys/oauth1/private-key.pem'))],
    ['PKCS#8 DER bytes', () => loadSigningKey(reference.export({ type: 'pkcs8', format: 'der' }))],
    ['PKCS#1 DER bytes', () => loadSigningKey(reference.export({ type: 'pkcs1', format: 'der' }))],
    ['KeyObject', () => loadSigningKey(reference)],
    ['PKCS#12 (OpenSSL 3) path', () => loadSigningKey({ p12: privateCopy('keys/oauth1/keystore.p12'), ...P12 })],
    ['PKCS#12 (legacy 3DES) path', () => loadSigningKey({ p12: privateCopy('keys/oauth1/keystore-legacy-3des.p12'), ...P12 })],
    ['PKCS#12 bytes from .b64', () => loadSigningKey({ p12: Buffer.from(readShared('keys/oauth1/keystore.p12.b64').toString(), 'base64'), ...P12 })],
    ['PKCS#12 bytes, no alias (single key)', () => loadSigningKey({ p12: readShared('keys/oauth1/keystore.p12'), password: P12.password })],
    ['{ path } with a .p12 and options', () => loadSigningKey({ path: privateCopy('keys/oauth1/keystore.p12'), ...P12 })],
    ['PKCS#12 as plain bytes + password option', () => loadSigningKey(readShared('keys/oauth1/keystore-legacy-3des.p12'), P12)],
  ]
  for (const [name, load] of cases) {
    it(name, () => {
      const key = load()
      expect(key.type).toBe('private')
      expect(spkiHex(key)).toBe(spkiHex(reference))
    })
  }

  it('loads the encryption keystores and DER files', () => {
    const encKey = loadPrivateKey(readShared('keys/encryption/private-key-pkcs8.pem'))
    const fromDer = loadPrivateKey(Buffer.from(readShared('keys/encryption/private-key-pkcs1.der.b64').toString(), 'base64'))
    const fromP12 = loadKeyStore({ p12: Buffer.from(readShared('keys/encryption/keystore.p12.b64').toString(), 'base64'), ...P12 })
    const fromLegacy = loadKeyStore({ p12: Buffer.from(readShared('keys/encryption/keystore-legacy-3des.p12.b64').toString(), 'base64'), ...P12 })
    for (const k of [fromDer, fromP12.privateKey, fromLegacy.privateKey]) expect(spkiHex(k)).toBe(spkiHex(encKey))
    expect(fromP12.certificate).toBeInstanceOf(X509Certificate)
    expect(keyMatchesCertificate(encKey, fromP12.certificate as X509Certificate)).toBe(true)
    expect(fromP12.alias).toBe('keyalias')
  })

  it('signs with a p12-loaded key exactly as with the PEM (deterministic RSA-SHA256)', async () => {
    const { signRequest } = await import('../../src/oauth1/index.js')
    const req = { method: 'GET', url: 'https://a.example.com/x', consumerKey: 'ck', nonce: 'n', timestamp: 1 }
    const a = signRequest({ ...req, key: reference })
    const b = signRequest({ ...req, key: loadSigningKey({ p12: readShared('keys/oauth1/keystore.p12'), ...P12 }) })
    expect(b.signature).toBe(a.signature)
  })
})

describe('loadSigningKey: bad input gets a typed error naming what was wrong', () => {
  const p12 = () => readShared('keys/oauth1/keystore.p12')
  it('wrong PKCS#12 password', () => {
    expect(codeOf(() => loadSigningKey({ p12: p12(), alias: 'keyalias', password: 'nope' }))).toBe('ERR_KEY_PASSWORD')
  })
  it('wrong alias lists the available aliases', () => {
    try {
      loadSigningKey({ p12: p12(), alias: 'other', password: P12.password })
      expect.unreachable()
    } catch (e) {
      expect(isApisignError(e, 'ERR_KEY_ALIAS_NOT_FOUND')).toBe(true)
      expect((e as Error).message).toContain('keyalias')
    }
  })
  it('a PKCS#12 without its password', () => {
    expect(codeOf(() => loadSigningKey(p12()))).toBe('ERR_KEY_PASSWORD')
  })
  it('a certificate where a private key is needed', () => {
    expect(codeOf(() => loadSigningKey(readShared('keys/oauth1/certificate.pem')))).toBe('ERR_KEY_WRONG_TYPE')
    expect(codeOf(() => loadSigningKey(new X509Certificate(readShared('keys/oauth1/certificate.pem')).raw))).toBe('ERR_KEY_WRONG_TYPE')
  })
  it('a public key where a private key is needed', () => {
    expect(codeOf(() => loadSigningKey(readShared('keys/oauth1/public-key.pem')))).toBe('ERR_KEY_WRONG_TYPE')
    expect(codeOf(() => loadSigningKey(createPublicKey(reference)))).toBe('ERR_KEY_WRONG_TYPE')
  })
  it('a truncated PEM and a truncated PKCS#12', () => {
    const pem = readShared('keys/oauth1/private-key.pem').toString()
    expect(codeOf(() => loadSigningKey(pem.slice(0, pem.length / 2)))).toBe('ERR_KEY_INVALID')
    expect(codeOf(() => loadSigningKey({ p12: p12().subarray(0, 600), ...P12 }))).toBe('ERR_KEY_INVALID')
    expect(codeOf(() => loadSigningKey(Buffer.from('not a key at all, just bytes')))).toBe('ERR_KEY_INVALID')
  })
  it('a missing file', () => {
    expect(codeOf(() => loadSigningKey(join(tmp, 'missing.pem')))).toBe('ERR_FILE_NOT_FOUND')
  })
  it('an encrypted PEM without or with a wrong password', () => {
    const enc = reference.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret-pass' }) as string
    expect(codeOf(() => loadSigningKey(enc))).toBe('ERR_KEY_PASSWORD')
    expect(codeOf(() => loadSigningKey(enc, { password: 'wrong' }))).toBe('ERR_KEY_PASSWORD')
    expect(spkiHex(loadSigningKey(enc, { password: 'secret-pass' }))).toBe(spkiHex(reference))
  })
  it('an EC key where RSA is needed', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    expect(codeOf(() => loadSigningKey(privateKey))).toBe('ERR_KEY_WRONG_TYPE')
  })
  it('an RSA key under 2048 bits', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    expect(codeOf(() => loadSigningKey(privateKey))).toBe('ERR_KEY_TOO_SMALL')
    expect(codeOf(() => loadSigningKey(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string))).toBe('ERR_KEY_TOO_SMALL')
  })
  it('programmer misuse is a TypeError', () => {
    expect(codeOf(() => loadSigningKey(42 as unknown as string))).toBe('TypeError')
    expect(codeOf(() => loadSigningKey(null as unknown as string))).toBe('TypeError')
  })
})

describe('key file permissions', () => {
  it('refuses a group/world-readable key file by default', () => {
    const path = privateCopy('keys/oauth1/private-key.pem', 0o644)
    expect(codeOf(() => loadSigningKey(path))).toBe('ERR_KEY_FILE_PERMISSIONS')
  })
  it('warns instead when told to', () => {
    const path = privateCopy('keys/oauth1/private-key.pem', 0o640)
    const onWarning = vi.fn()
    loadSigningKey(path, { filePermissions: 'warn', onWarning })
    expect(onWarning).toHaveBeenCalledWith(expect.stringContaining(`chmod 600 ${path}`))
  })
  it('loads a 0600 file silently', () => {
    const path = privateCopy('keys/oauth1/private-key.pem', 0o600)
    expect(spkiHex(loadSigningKey(path))).toBe(spkiHex(reference))
  })
})

describe('certificates, public keys and fingerprints', () => {
  const cert = loadCertificate(sharedPath('keys/oauth1/certificate.pem'))
  it('loads certificates from PEM, DER and PKCS#12', () => {
    expect(loadCertificate(cert.raw).fingerprint256).toBe(cert.fingerprint256)
    expect(loadCertificate(Buffer.from(readShared('keys/encryption/certificate.der.b64').toString(), 'base64'))).toBeInstanceOf(X509Certificate)
    expect(loadCertificate({ p12: readShared('keys/oauth1/keystore.p12'), ...P12 }).fingerprint256).toBe(cert.fingerprint256)
  })
  it('rejects a key given as a certificate, and garbage', () => {
    expect(codeOf(() => loadCertificate(readShared('keys/oauth1/private-key.pem')))).toBe('ERR_CERT_INVALID')
    expect(codeOf(() => loadCertificate(Buffer.from([1, 2, 3])))).toBe('ERR_CERT_INVALID')
  })
  it('loads public keys from SPKI PEM, a certificate and a private key', () => {
    const expected = spkiHex(reference)
    expect(spkiHex(loadPublicKey(sharedPath('keys/oauth1/public-key.pem')))).toBe(expected)
    expect(spkiHex(loadPublicKey(cert))).toBe(expected)
    expect(spkiHex(loadPublicKey(readShared('keys/oauth1/certificate.pem')))).toBe(expected)
    expect(spkiHex(loadPublicKey(reference))).toBe(expected)
    expect(codeOf(() => loadPublicKey(Buffer.from('junk')))).toBe('ERR_KEY_INVALID')
  })
  it('fingerprints match independent SHA-256 computations', () => {
    expect(fingerprint(reference)).toBe(spkiHex(reference))
    expect(fingerprint(cert)).toBe(spkiHex(reference))
    expect(fingerprint(cert, { kind: 'certificate' })).toBe(createHash('sha256').update(cert.raw).digest('hex'))
    expect(fingerprint(cert, { kind: 'certificate', encoding: 'base64' })).toBe(createHash('sha256').update(cert.raw).digest('base64'))
    expect(cert.fingerprint256.replaceAll(':', '').toLowerCase()).toBe(fingerprint(cert, { kind: 'certificate' }))
  })
  it('the public-key fingerprint of the encryption certificate is a kid the encryption vectors carry', () => {
    const encCert = loadCertificate(readShared('keys/encryption/certificate.pem'))
    const vectorsText = readShared('vectors/encryption-vectors.json').toString()
    expect(vectorsText).toContain(fingerprint(encCert))
  })
  it('keyMatchesCertificate tells matching and mismatching pairs apart', () => {
    expect(keyMatchesCertificate(reference, cert)).toBe(true)
    const other = loadCertificate(readShared('keys/encryption/other-certificate.pem'))
    expect(keyMatchesCertificate(reference, other)).toBe(false)
  })
  it('describeKey reveals only type, algorithm and size', () => {
    expect(describeKey(reference)).toEqual({ type: 'private', algorithm: 'rsa', bits: 2048 })
    expect(JSON.stringify(describeKey(reference))).not.toContain('MII')
  })
  it('does not mutate its inputs', () => {
    const source = Object.freeze({ p12: readShared('keys/oauth1/keystore.p12'), ...P12 })
    const before = Buffer.from(source.p12)
    loadSigningKey(source)
    expect(Buffer.compare(before, source.p12)).toBe(0)
  })
})

