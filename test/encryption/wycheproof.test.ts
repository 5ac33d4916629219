// C2SP/wycheproof (commit dac1dd4, ../shared/wycheproof) for the primitives our JWE and legacy code use.
import { createDecipheriv, createPrivateKey, privateDecrypt } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { isApisignError } from '../../src/errors.js'
import { CONTENT_ENCRYPTION, KEY_MANAGEMENT, compactDecrypt } from '../../src/encryption/index.js'
import { readSharedJson } from '../helpers/shared.js'

type Result = 'valid' | 'invalid' | 'acceptable'

describe('Wycheproof RSA-OAEP-256 (rsa_oaep_2048_sha256_mgf1sha256_test.json)', () => {
  const file = readSharedJson<{ numberOfTests: number; testGroups: Array<{ privateKeyPem: string; tests: Array<{ tcId: number; msg: string; ct: string; label: string; result: Result }> }> }>(
    'wycheproof',
    'rsa_oaep_2048_sha256_mgf1sha256_test.json',
  )
  const entry = KEY_MANAGEMENT['RSA-OAEP-256']
  const outcomes: Array<{ tcId: number; result: Result; ok: boolean }> = []
  for (const group of file.testGroups) {
    const key = createPrivateKey(group.privateKeyPem)
    for (const t of group.tests) {
      let ok: boolean
      try {
        const out = privateDecrypt({ key, padding: entry.padding, oaepHash: entry.oaepHash, oaepLabel: Buffer.from(t.label, 'hex') }, Buffer.from(t.ct, 'hex'))
        ok = out.equals(Buffer.from(t.msg, 'hex'))
      } catch {
        ok = false
      }
      outcomes.push({ tcId: t.tcId, result: t.result, ok })
    }
  }
  it('runs every case', () => expect(outcomes.length).toBe(file.numberOfTests))
  it('decrypts every valid case and rejects every invalid one; no acceptable cases', () => {
    expect(outcomes.filter((o) => (o.result === 'valid') !== o.ok)).toEqual([])
    expect(outcomes.filter((o) => o.result === 'acceptable')).toEqual([])
  })
})

describe('Wycheproof AES-GCM, 96-bit IVs and 128-bit tags (aes_gcm_test.json)', () => {
  const file = readSharedJson<{ testGroups: Array<{ ivSize: number; keySize: number; tagSize: number; tests: Array<{ tcId: number; key: string; iv: string; aad: string; msg: string; ct: string; tag: string; result: Result }> }> }>(
    'wycheproof',
    'aes_gcm_test.json',
  )
  const cipherFor = (bits: number) => Object.values(CONTENT_ENCRYPTION).find((e) => e.mode === 'gcm' && e.cekBytes * 8 === bits)
  // Deviation (scope): only 96-bit IV groups run, as the issue asks: RFC 7518 §5.3 fixes GCM IVs at 96
  // bits for JWE. (We also accept 128-bit IVs on decrypt for the reference and Java peers; those are
  // covered by the decrypt-only vectors.)
  const groups = file.testGroups.filter((g) => g.ivSize === 96 && g.tagSize === 128)
  const outcomes: Array<{ tcId: number; result: Result; ok: boolean }> = []
  for (const group of groups) {
    const entry = cipherFor(group.keySize)
    for (const t of group.tests) {
      let ok: boolean
      try {
        const d = createDecipheriv(entry?.cipher as 'aes-128-gcm', Buffer.from(t.key, 'hex'), Buffer.from(t.iv, 'hex'), { authTagLength: 16 })
        d.setAAD(Buffer.from(t.aad, 'hex'))
        d.setAuthTag(Buffer.from(t.tag, 'hex'))
        ok = Buffer.concat([d.update(Buffer.from(t.ct, 'hex')), d.final()]).equals(Buffer.from(t.msg, 'hex'))
      } catch {
        ok = false
      }
      outcomes.push({ tcId: t.tcId, result: t.result, ok })
    }
  }
  it('covers the three key sizes', () => expect(new Set(groups.map((g) => g.keySize))).toEqual(new Set([128, 192, 256])))
  it('decrypts every valid case and rejects every invalid one', () => {
    expect(outcomes.length).toBeGreaterThan(50)
    expect(outcomes.filter((o) => (o.result === 'valid') !== o.ok)).toEqual([])
  })
})

describe('Wycheproof JWE, RSA-OAEP-256 cases (json_web_encryption_test.json)', () => {
  const file = readSharedJson<{ testGroups: Array<{ private?: Record<string, string>; tests: Array<{ tcId: number; comment: string; jwe: string; pt?: string; result: Result }> }> }>(
    'wycheproof',
    'json_web_encryption_test.json',
  )
  const alg = (jwe: string): string | undefined => {
    try {
      return (JSON.parse(Buffer.from(jwe.split('.')[0] ?? '', 'base64url').toString()) as { alg?: string }).alg
    } catch {
      return undefined
    }
  }
  const cases = file.testGroups.flatMap((g) =>
    g.private?.['kty'] === 'RSA' ? g.tests.filter((t) => typeof t.jwe === 'string' && alg(t.jwe) === 'RSA-OAEP-256').map((t) => ({ ...t, key: g.private as Record<string, string> })) : [],
  )
  it('has RSA-OAEP-256 cases', () => expect(cases.length).toBeGreaterThan(0))
  for (const t of cases) {
    it(`tcId ${t.tcId} ${t.comment} (${t.result})`, () => {
      const key = createPrivateKey({ key: t.key as never, format: 'jwk' })
      let plaintext: string | undefined
      let code: string | undefined
      try {
        plaintext = compactDecrypt(t.jwe, key).plaintext.toString('hex')
      } catch (e) {
        code = isApisignError(e) ? e.code : 'unexpected'
      }
      if (t.result === 'valid') {
        // Deviations (2): tcId 92 (A192CBC-HS384) and 93 (A256CBC-HS512) are valid JWEs whose enc we do
        // not implement (the partner APIs use A128/192/256GCM and A128CBC-HS256; issue 4's list). They
        // fail with the unsupported-algorithm code, never with a wrong plaintext.
        if (code !== undefined) {
          expect([92, 93]).toContain(t.tcId)
          expect(code).toBe('ERR_UNSUPPORTED_ALGORITHM')
        } else expect(plaintext).toBe(t.pt)
      } else {
        expect(plaintext).toBeUndefined()
        expect(['ERR_JWE_INVALID', 'ERR_JWE_DECRYPTION_FAILED', 'ERR_UNSUPPORTED_ALGORITHM', 'ERR_ALG_NOT_ALLOWED']).toContain(code)
      }
    })
  }
})
