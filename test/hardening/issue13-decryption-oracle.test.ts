// Issue 13 item 3: no padding oracle in legacy field-level decryption, and the same rule for every
// decryption path. Hundreds of tampered inputs (bit flips, truncations, substitutions in the wrapped key,
// the IV, the ciphertext and the tag, keeping each part validly encoded, since the encoding is public)
// must all fail with one (code, message) pair per path.
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { compactDecrypt, compactEncrypt, createEncryption, legacyDecrypt, legacyEncrypt } from '../../src/encryption/index.js'
import { isApisignError } from '../../src/errors.js'
import { readShared } from '../helpers/shared.js'

const certPem = readShared('keys/encryption/certificate.pem')
const cert = new X509Certificate(certPem)
const privatePem = readShared('keys/encryption/private-key-pkcs8.pem')
const privateKey = createPrivateKey(privatePem)
const publicKey = createPublicKey(privateKey)

// A small deterministic PRNG, so a failure names a reproducible case.
function prng(seed: number) {
  let x = seed >>> 0 || 1
  return (n: number) => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) % n
  }
}

/** Byte-level tampers of one part: flip a bit, truncate, extend, replace a byte, swap two bytes. */
function tampers(bytes: Buffer, random: (n: number) => number, count: number): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < count; i++) {
    const b = Buffer.from(bytes)
    switch (i % 5) {
      case 0: {
        const at = random(b.length)
        b[at] = (b[at] as number) ^ (1 << random(8))
        out.push(b)
        break
      }
      case 1:
        out.push(b.subarray(0, Math.max(0, b.length - 1 - random(Math.min(32, b.length)))))
        break
      case 2:
        out.push(Buffer.concat([b, Buffer.alloc(1 + random(16), random(256))]))
        break
      case 3: {
        // Replace a byte with another value (never the same one: that would be no tamper at all).
        const at = random(b.length)
        b[at] = (b[at] as number) ^ (1 + random(255))
        out.push(b)
        break
      }
      default: {
        // The last byte of the second-to-last block: the classic CBC padding-oracle probe.
        const at = Math.max(0, b.length - 17)
        b[at] = (b[at] as number) ^ (1 + random(255))
        out.push(b)
      }
    }
  }
  return out
}

function outcomes(cases: Array<() => unknown>): { failures: Set<string>; failed: number; succeeded: number } {
  const failures = new Set<string>()
  let failed = 0
  let succeeded = 0
  for (const run of cases) {
    try {
      run()
      succeeded++
    } catch (error) {
      if (!isApisignError(error)) throw error
      failed++
      failures.add(JSON.stringify([error.code, error.message]))
    }
  }
  return { failures, failed, succeeded }
}

describe('issue 13 item 3: no padding oracle in legacy field-level decryption; one failure per decryption path', () => {
  const plaintext = JSON.stringify({ pan: '5123456789012346', expiry: '12/30', name: 'A. Cardholder' })

  it('legacy: every tampered input gives the same (code, message), through legacyDecrypt and createEncryption', () => {
    const random = prng(13)
    const parts = legacyEncrypt(Buffer.from(plaintext), publicKey, 'SHA-256', 'hex')
    const enc = (p: { encryptedValue: string; iv: string; encryptedKey: string }) => ({ ...p, oaepHashingAlgorithm: 'SHA256' })
    const config = (toRoot: boolean) =>
      createEncryption({
        encryptedValueFieldName: 'encryptedValue',
        ivFieldName: 'iv',
        encryptedKeyFieldName: 'encryptedKey',
        oaepHashingAlgorithmFieldName: 'oaepHashingAlgorithm',
        oaepPaddingDigestAlgorithm: 'SHA-256',
        dataEncoding: 'hex',
        encryptionCertificate: certPem,
        privateKey: privatePem,
        paths: [{ path: '/r', toEncrypt: [], toDecrypt: [{ element: 'enc', obj: toRoot ? '$' : 'card' }] }],
      })
    const field = config(false)
    const root = config(true)
    const variants: Array<{ encryptedValue: string; iv: string; encryptedKey: string }> = []
    for (const name of ['encryptedValue', 'iv', 'encryptedKey'] as const) {
      for (const t of tampers(Buffer.from(parts[name], 'hex'), random, 100)) variants.push({ ...parts, [name]: t.toString('hex') })
    }
    const cases = variants.flatMap((v) => [
      () => legacyDecrypt(v, privateKey, 'SHA-256', 'hex'),
      () => root.decrypt({ url: '/r', body: { enc: enc(v) } }),
      () => field.decrypt({ url: '/r', body: { enc: enc(v) } }),
    ])
    const { failures, failed } = outcomes(cases)
    expect(failed).toBeGreaterThan(600)
    expect([...failures]).toEqual([JSON.stringify(['ERR_LEGACY_DECRYPTION_FAILED', 'legacy decryption failed'])])
  })

  it('legacy: bad padding, bad UTF-8 and non-JSON plaintext cannot be told apart', () => {
    const notUtf8 = legacyEncrypt(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), publicKey, 'SHA-256', 'hex')
    const notJson = legacyEncrypt(Buffer.from('not json'), publicKey, 'SHA-256', 'hex')
    const good = legacyEncrypt(Buffer.from(plaintext), publicKey, 'SHA-256', 'hex')
    const badPadding = { ...good, encryptedValue: good.encryptedValue.slice(0, -2) + (good.encryptedValue.endsWith('00') ? '01' : '00') }
    const root = createEncryption({
      encryptedValueFieldName: 'v',
      ivFieldName: 'iv',
      encryptedKeyFieldName: 'k',
      oaepPaddingDigestAlgorithm: 'SHA-256',
      dataEncoding: 'hex',
      encryptionCertificate: certPem,
      privateKey: privatePem,
      paths: [{ path: '/r', toEncrypt: [], toDecrypt: [{ element: 'enc', obj: '$' }] }],
    })
    const body = (p: typeof good) => ({ enc: { v: p.encryptedValue, iv: p.iv, k: p.encryptedKey } })
    const { failures, failed } = outcomes([notUtf8, notJson, badPadding].map((p) => () => root.decrypt({ url: '/r', body: body(p) })))
    expect(failed).toBe(3)
    expect(failures.size).toBe(1)
  })

  it('JWE: every tampered input gives the same (code, message), through compactDecrypt and createEncryption', () => {
    const random = prng(31)
    const token = compactEncrypt(plaintext, cert)
    const [h, k, i, c, t] = token.split('.') as [string, string, string, string, string]
    const enc = createEncryption({
      mode: 'JWE',
      encryptedValueFieldName: 'encryptedData',
      encryptionCertificate: certPem,
      privateKey: privatePem,
      paths: [{ path: '/r', toEncrypt: [], toDecrypt: [{ element: 'enc', obj: '$' }] }],
    })
    const tokens: string[] = []
    const keep = (bytes: Buffer, original: string) => bytes.length === Buffer.from(original, 'base64url').length
    // Lengths of the IV and the tag are structure (checked before the key is used); tamper the bytes.
    for (const t2 of tampers(Buffer.from(k, 'base64url'), random, 100)) tokens.push([h, t2.toString('base64url'), i, c, t].join('.'))
    for (const t2 of tampers(Buffer.from(i, 'base64url'), random, 100).filter((b) => keep(b, i))) tokens.push([h, k, t2.toString('base64url'), c, t].join('.'))
    for (const t2 of tampers(Buffer.from(c, 'base64url'), random, 100)) tokens.push([h, k, i, t2.toString('base64url'), t].join('.'))
    for (const t2 of tampers(Buffer.from(t, 'base64url'), random, 100).filter((b) => keep(b, t))) tokens.push([h, k, i, c, t2.toString('base64url')].join('.'))
    const cases = tokens.flatMap((tok) => [() => compactDecrypt(tok, privateKey), () => enc.decrypt({ url: '/r', body: { enc: { encryptedData: tok } } })])
    const { failures, failed, succeeded } = outcomes(cases)
    expect(succeeded).toBe(0)
    expect(failed).toBeGreaterThan(400)
    expect([...failures]).toEqual([JSON.stringify(['ERR_JWE_DECRYPTION_FAILED', 'JWE decryption failed'])])
  })
})
