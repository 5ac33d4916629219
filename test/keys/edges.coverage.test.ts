// Keystore shapes and key sources beyond the shared fixtures: non-RSA and unreadable key bags, several keys,
// unnamed bags, certificates forge or node cannot read, encrypted DER, and misuse (issue 9, item 7).
import { type KeyObject, X509Certificate, createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync } from 'node:crypto'
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import forge from 'node-forge'
import { afterAll, describe, expect, it } from 'vitest'
import {
  describeKey,
  fingerprint,
  keyMatchesCertificate,
  loadCertificate,
  loadKeyStore,
  loadPublicKey,
  loadSigningKey,
} from '../../src/keys/index.js'
import { buildPkcs12, sha3SignedCertificate } from '../helpers/pkcs12.js'
import { readShared, sharedPath } from '../helpers/shared.js'
import { failure as failureOf } from '../helpers/failure.js'

const tmp = mkdtempSync(join(tmpdir(), 'apisign-keys-cov-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const PASSWORD = 'store-pass'
const oauthPem = readShared('keys/oauth1/private-key.pem').toString()
const oauthKey = createPrivateKey(oauthPem)
const oauthCert = new X509Certificate(readShared('keys/oauth1/certificate.pem'))
const encKey = createPrivateKey(readShared('keys/encryption/private-key-pkcs8.pem'))
const encCert = new X509Certificate(readShared('keys/encryption/certificate.pem'))
const pkcs8 = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'der' })
const spki = (k: KeyObject) => (k.type === 'public' ? k : createPublicKey(k)).export({ type: 'spki', format: 'der' }).toString('hex')

// Never the key material or a password in a message.
const failure = (fn: () => unknown) => failureOf(fn, (message) => expect(message).not.toMatch(/PRIVATE KEY-----|store-pass|secret-pass|MII[A-Za-z0-9+/]{20}/))
const codeOf = (fn: () => unknown) => failure(fn).code

/** A PrivateKeyInfo with an algorithm nobody knows: forge keeps its ASN.1, node refuses it. */
function unknownAlgorithmPrivateKeyInfo(): Buffer {
  const { asn1 } = forge
  const info = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(0).getBytes()),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer('1.3.6.1.4.1.55555.1').getBytes()),
    ]),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, '\x01\x02\x03'),
  ])
  return Buffer.from(asn1.toDer(info).getBytes(), 'binary')
}

describe('PKCS#12 keystores of every shape', () => {
  it('an EC key (forge cannot parse it; node can) is refused for signing as the wrong type', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    const p12 = buildPkcs12(PASSWORD, [{ pkcs8: pkcs8(ec), name: 'ec' }])
    const f = failure(() => loadSigningKey({ p12, password: PASSWORD }))
    expect(f.code).toBe('ERR_KEY_WRONG_TYPE')
    expect(f.message).toContain('an RSA key is needed')
    expect(codeOf(() => loadKeyStore({ p12, password: PASSWORD }))).toBe('ERR_KEY_WRONG_TYPE')
  })

  it('a key bag that neither forge nor node can read is ERR_KEY_INVALID (shrouded or not)', () => {
    for (const shrouded of [true, false]) {
      const p12 = buildPkcs12(PASSWORD, [{ pkcs8: unknownAlgorithmPrivateKeyInfo(), shrouded }])
      expect(failure(() => loadSigningKey({ p12, password: PASSWORD }))).toEqual({
        code: 'ERR_KEY_INVALID',
        message: 'PKCS#12 key bag holds no readable key',
      })
    }
  })

  it('an unencrypted keyBag holding an RSA key loads', () => {
    const p12 = buildPkcs12(PASSWORD, [{ pkcs8: pkcs8(oauthKey), shrouded: false }])
    expect(spki(loadSigningKey({ p12, password: PASSWORD }))).toBe(spki(oauthKey))
  })

  it('a truststore (certificates only) holds no private key', () => {
    const p12 = buildPkcs12(PASSWORD, [], [{ der: oauthCert.raw, name: 'ca' }])
    const f = failure(() => loadKeyStore({ p12, password: PASSWORD }))
    expect(f).toEqual({ code: 'ERR_KEY_WRONG_TYPE', message: 'PKCS#12 content holds no private key' })
  })

  it('several keys: no alias lists them; an alias picks the key and the certificate of the same name', () => {
    const p12 = buildPkcs12(
      PASSWORD,
      [
        { pkcs8: pkcs8(oauthKey), name: 'signing' },
        { pkcs8: pkcs8(encKey), name: 'decryption' },
      ],
      [
        { der: oauthCert.raw, name: 'signing' },
        { der: encCert.raw, name: 'decryption' },
      ],
    )
    const f = failure(() => loadKeyStore({ p12, password: PASSWORD }))
    expect(f.code).toBe('ERR_KEY_ALIAS_NOT_FOUND')
    expect(f.message).toBe('PKCS#12 content holds 2 keys; choose one with an alias (signing, decryption)')
    const entry = loadKeyStore({ p12, password: PASSWORD, alias: 'decryption' })
    expect(entry.alias).toBe('decryption')
    expect(spki(entry.privateKey)).toBe(spki(encKey))
    expect(entry.certificate?.fingerprint256).toBe(encCert.fingerprint256)
    expect(keyMatchesCertificate(entry.privateKey, entry.certificate as X509Certificate)).toBe(true)
  })

  it('an alias asked of a keystore whose keys have no names says there are none', () => {
    const p12 = buildPkcs12(PASSWORD, [{ pkcs8: pkcs8(oauthKey) }])
    const f = failure(() => loadKeyStore({ p12, password: PASSWORD, alias: 'keyalias' }))
    expect(f).toEqual({ code: 'ERR_KEY_ALIAS_NOT_FOUND', message: 'PKCS#12 content has no key with alias "keyalias" (aliases: none)' })
  })

  it('an unnamed key finds its certificate by localKeyId among several', () => {
    const p12 = buildPkcs12(
      PASSWORD,
      [{ pkcs8: pkcs8(encKey), localKeyId: '02' }],
      [
        { der: oauthCert.raw, localKeyId: '01' },
        { der: encCert.raw, localKeyId: '02' },
      ],
    )
    const entry = loadKeyStore({ p12, password: PASSWORD })
    expect(entry.alias).toBeUndefined()
    expect(entry.certificate?.fingerprint256).toBe(encCert.fingerprint256)
  })

  it('an unnamed key without localKeyId takes the only certificate, and none of several', () => {
    const single = buildPkcs12(PASSWORD, [{ pkcs8: pkcs8(oauthKey) }], [{ der: oauthCert.raw }])
    expect(loadKeyStore({ p12: single, password: PASSWORD }).certificate?.fingerprint256).toBe(oauthCert.fingerprint256)
    expect(loadCertificate({ p12: single, password: PASSWORD }).fingerprint256).toBe(oauthCert.fingerprint256)

    const ambiguous = buildPkcs12(PASSWORD, [{ pkcs8: pkcs8(oauthKey), localKeyId: '09' }], [{ der: oauthCert.raw }, { der: encCert.raw, localKeyId: '01' }])
    expect(loadKeyStore({ p12: ambiguous, password: PASSWORD }).certificate).toBeUndefined()
    expect(failure(() => loadCertificate({ p12: ambiguous, password: PASSWORD }))).toEqual({
      code: 'ERR_CERT_INVALID',
      message: 'PKCS#12 content holds no certificate for that key',
    })
    const path = join(tmp, 'ambiguous.p12')
    writeFileSync(path, ambiguous, { mode: 0o600 })
    expect(failure(() => loadCertificate({ p12: path, password: PASSWORD })).message).toBe(`${path} holds no certificate for that key`)
  })

  it('a certificate forge cannot parse is read by node; one nobody can read leaves the key usable', () => {
    const sha3 = sha3SignedCertificate(oauthPem)
    const readable = buildPkcs12(PASSWORD, [{ pkcs8: pkcs8(oauthKey), name: 'k' }], [{ der: sha3, name: 'k' }])
    const entry = loadKeyStore({ p12: readable, password: PASSWORD })
    expect(entry.certificate?.subject).toBe('CN=apisign sha3 test')
    expect(keyMatchesCertificate(entry.privateKey, entry.certificate as X509Certificate)).toBe(true)

    const garbage = Buffer.from('3003020101', 'hex') // SEQUENCE { INTEGER 1 }: DER, but no certificate
    const unreadable = buildPkcs12(PASSWORD, [{ pkcs8: pkcs8(oauthKey), name: 'k' }], [{ der: garbage, name: 'k' }])
    const partial = loadKeyStore({ p12: unreadable, password: PASSWORD })
    expect(partial.certificate).toBeUndefined()
    expect(spki(partial.privateKey)).toBe(spki(oauthKey))
  })

  it('tiny DER that starts like a PFX (short length form) asks for a password, then is refused as corrupt', () => {
    const pfxLike = Buffer.from('3006020103300100ff', 'hex')
    expect(failure(() => loadSigningKey(pfxLike))).toEqual({ code: 'ERR_KEY_PASSWORD', message: 'key content is a PKCS#12 keystore; give its password' })
    expect(codeOf(() => loadSigningKey(pfxLike, { password: PASSWORD }))).toBe('ERR_KEY_INVALID')
    // Same length form, but not INTEGER 3: tried as a DER key and refused as such.
    expect(codeOf(() => loadSigningKey(Buffer.from('3006020101300100ff', 'hex')))).toBe('ERR_KEY_INVALID')
  })
})

describe('private key sources', () => {
  it('encrypted PKCS#8 DER: no password and a wrong password are ERR_KEY_PASSWORD, as for PEM', () => {
    const der = oauthKey.export({ type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: 'secret-pass' })
    expect(failure(() => loadSigningKey(der))).toEqual({ code: 'ERR_KEY_PASSWORD', message: 'key content is encrypted and no password was given' })
    expect(failure(() => loadSigningKey(der, { password: 'wrong' }))).toEqual({
      code: 'ERR_KEY_PASSWORD',
      message: 'key content is encrypted and the password is wrong',
    })
    expect(spki(loadSigningKey(der, { password: 'secret-pass' }))).toBe(spki(oauthKey))
    // A password given for an unencrypted DER key is not needed and does no harm.
    expect(spki(loadSigningKey(pkcs8(oauthKey), { password: 'unused' }))).toBe(spki(oauthKey))
  })

  it('{ path } takes a file (password and alias optional) or PEM text', () => {
    const path = join(tmp, 'key.pem')
    copyFileSync(sharedPath('keys/oauth1/private-key.pem'), path)
    chmodSync(path, 0o600)
    expect(spki(loadSigningKey({ path }))).toBe(spki(oauthKey))
    expect(spki(loadSigningKey({ path: oauthPem }))).toBe(spki(oauthKey))
  })

  it('without onWarning, a permission warning goes to process warnings with a stable code', async () => {
    const path = join(tmp, 'loose.pem')
    copyFileSync(sharedPath('keys/oauth1/private-key.pem'), path)
    chmodSync(path, 0o644)
    const warned = new Promise<Error & { code?: string }>((resolve) => process.once('warning', resolve))
    expect(spki(loadSigningKey(path, { filePermissions: 'warn' }))).toBe(spki(oauthKey))
    const warning = await warned
    expect(warning.code).toBe('APISIGN_KEY_PERMISSIONS')
    expect(warning.message).toBe(`private key file ${path} is readable by group or others (mode 644); run: chmod 600 ${path}`)
  })

  it('a keystore file is permission-checked too', () => {
    const path = join(tmp, 'loose.p12')
    copyFileSync(sharedPath('keys/oauth1/keystore.p12'), path)
    chmodSync(path, 0o640)
    expect(codeOf(() => loadKeyStore({ p12: path, alias: 'keyalias', password: 'keystorepassword' }))).toBe('ERR_KEY_FILE_PERMISSIONS')
    const warnings: string[] = []
    const entry = loadKeyStore({ p12: path, alias: 'keyalias', password: 'keystorepassword' }, { filePermissions: 'warn', onWarning: (m) => warnings.push(m) })
    expect(spki(entry.privateKey)).toBe(spki(oauthKey))
    expect(warnings).toHaveLength(1)
  })

  it('empty strings, directories and non-key values are typed errors', () => {
    expect(failure(() => loadSigningKey(''))).toEqual({ code: 'ERR_KEY_INVALID', message: 'key is an empty string' })
    expect(failure(() => loadCertificate(''))).toEqual({ code: 'ERR_KEY_INVALID', message: 'certificate is an empty string' })
    const dir = failure(() => loadCertificate(tmp))
    expect(dir.code).toBe('ERR_FILE_UNREADABLE')
    expect(dir.message).toBe(`certificate file ${tmp} cannot be read (EISDIR)`)
    expect(failure(() => loadCertificate(42 as unknown as string)).message).toBe('certificate must be PEM text, a file path or bytes. Received type number')
    expect(failure(() => loadPublicKey({ pem: 'x' } as unknown as string)).message).toBe(
      'public key must be PEM text, a file path or bytes. Received an object',
    )
  })

  it('loadKeyStore misuse is a TypeError', () => {
    expect(failure(() => loadKeyStore('./store.p12' as never)).message).toBe('source must be { p12, alias?, password }. Received type string')
    expect(failure(() => loadKeyStore(null as never)).code).toBe('TypeError')
    expect(failure(() => loadKeyStore({ p12: Buffer.alloc(8) } as never)).message).toBe('password must be a string')
  })
})

describe('certificates and public keys', () => {
  it('an X509Certificate is returned as is', () => {
    expect(loadCertificate(oauthCert)).toBe(oauthCert)
  })

  it('a certificate file that holds something else, or garbage, is named by path', () => {
    const keyPath = sharedPath('keys/oauth1/private-key.pem')
    expect(failure(() => loadCertificate(keyPath))).toEqual({
      code: 'ERR_CERT_INVALID',
      message: `certificate file ${keyPath} holds a private key, not a certificate`,
    })
    const junk = join(tmp, 'junk.crt')
    writeFileSync(junk, 'not a certificate')
    expect(failure(() => loadCertificate(junk))).toEqual({ code: 'ERR_CERT_INVALID', message: `certificate file ${junk} is not a readable X.509 certificate` })
  })

  it('public keys: a secret key has none; a public KeyObject is returned as is', () => {
    expect(failure(() => loadPublicKey(createSecretKey(Buffer.alloc(32))))).toEqual({ code: 'ERR_KEY_WRONG_TYPE', message: 'a secret key has no public key' })
    const pub = createPublicKey(oauthKey)
    expect(loadPublicKey(pub)).toBe(pub)
  })
})

describe('fingerprints and key descriptions', () => {
  it('a secret key has no fingerprint; misuse is a TypeError', () => {
    expect(failure(() => fingerprint(createSecretKey(Buffer.alloc(32))))).toEqual({ code: 'ERR_KEY_WRONG_TYPE', message: 'a secret key has no fingerprint' })
    expect(failure(() => fingerprint(oauthPem as never)).message).toBe('key must be a KeyObject or X509Certificate. Received type string')
    expect(failure(() => fingerprint(oauthKey, { kind: 'certificate' })).message).toBe('a certificate fingerprint needs an X509Certificate')
    expect(failure(() => describeKey(oauthCert as never)).message).toBe('key must be a KeyObject. Received an instance of X509Certificate')
  })

  it('a key pair fingerprints alike; keyMatchesCertificate takes a public key too', () => {
    expect(fingerprint(createPublicKey(oauthKey), { encoding: 'base64' })).toBe(fingerprint(oauthKey, { encoding: 'base64' }))
    expect(keyMatchesCertificate(oauthKey, createPublicKey(oauthKey))).toBe(true)
    expect(keyMatchesCertificate(oauthKey, encCert.publicKey)).toBe(false)
  })

  it('describeKey: secret keys by their length, keys without a modulus without bits', () => {
    expect(describeKey(createSecretKey(Buffer.alloc(32)))).toEqual({ type: 'secret', algorithm: undefined, bits: 256 })
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    expect(describeKey(ec.publicKey)).toEqual({ type: 'public', algorithm: 'ec', bits: undefined })
    expect(describeKey(createPublicKey(oauthKey))).toEqual({ type: 'public', algorithm: 'rsa', bits: 2048 })
  })
})
