import { createPrivateKey } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { isApisignError } from '../../src/errors.js'
import { compactDecrypt, createEncryption } from '../../src/encryption/index.js'
import { readShared, readSharedJson } from '../helpers/shared.js'
import { inverseConfig, resolveKeys, sortKeys } from './helpers.js'

interface Vector {
  id: string
  kind: 'jwe' | 'fle-body' | 'fle-header'
  endpoint: string
  config: Record<string, unknown>
  plain: { header: Record<string, string>; body: unknown }
  encrypted: { header: Record<string, string>; body: unknown }
  knownReferenceBugs: string[]
  jwe?: Array<{ path: string; plaintextUtf8: string; protectedHeader: Record<string, string> }>
  fle?: Array<{ path: string; plaintextUtf8: string }>
}
const file = readSharedJson<{
  vectors: Vector[]
  decryptOnly: Array<{ id: string; token: string; expectedPlaintextUtf8: string; reference: { ok: boolean } }>
  negative: Array<{ id: string; token?: string; body?: unknown; config?: unknown; expected: string }>
}>('vectors/encryption-vectors.json')
const privateKey = createPrivateKey(readShared('keys/encryption/private-key-pkcs8.pem'))
const options = { keyFilePermissions: 'ignore' } as const

/**
 * What the reference's ciphertext really holds at each encrypted path. Where the reference serialised a
 * value lossily (TYPE-CHANGE: "123" encrypted as 123; PRECISION-LOSS: a 19-digit string encrypted as a
 * rounded number), the type or digits are not in the ciphertext at all, so no decryptor can recover them:
 * there we expect the value the ciphertext carries. Everywhere else we expect the plain body exactly.
 */
function expectedFromReference(v: Vector): unknown {
  const bugs = v.knownReferenceBugs.join(' ')
  // BODY-REPLACED: the reference dropped the unencrypted fields from what it sent; they are not there to
  // recover. Expect what its own decrypt of the same bytes yields.
  if (/BODY-REPLACED/.test(bugs)) return (v as unknown as { referenceDecrypt: { body: unknown } }).referenceDecrypt.body
  const plain = structuredClone(v.plain.body) as Record<string, unknown>
  if (!/TYPE-CHANGE|PRECISION-LOSS/.test(bugs)) return plain
  const mappings = (v.config['paths'] as Array<{ toEncrypt: Array<{ element: string; obj: string }> }>)[0]?.toEncrypt ?? []
  for (const entry of v.jwe ?? v.fle ?? []) {
    const mapping = mappings.find((m) => entry.path === m.obj || entry.path.startsWith(`${m.obj}.`))
    if (mapping === undefined || mapping.element === '$') continue
    let carried: unknown
    try {
      carried = JSON.parse(entry.plaintextUtf8)
    } catch {
      carried = entry.plaintextUtf8
    }
    const keys = mapping.element.split('.')
    let node = plain
    for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>
    node[keys[keys.length - 1] as string] = carried
  }
  return plain
}

const shape = (v: unknown): unknown =>
  typeof v === 'string' ? 'S' : Array.isArray(v) ? v.map(shape) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])])) : v

describe('encryption vectors made by mastercard-client-encryption 1.10.8', () => {
  for (const v of file.vectors) {
    if (v.knownReferenceBugs.some((b) => b.startsWith('PLAINTEXT-LEAK'))) {
      it(`${v.id}: several paths in legacy header mode are a config error, never a plaintext leak`, () => {
        expect(() => createEncryption(resolveKeys(v.config), options)).toThrow(expect.objectContaining({ code: 'ERR_ENCRYPTION_CONFIG' }))
      })
      continue
    }
    describe(v.id, () => {
      const config = resolveKeys(v.config)
      const enc = createEncryption(config, options)

      it('decrypts the reference output to the plain body', () => {
        const out = enc.decrypt({ url: v.endpoint, body: v.encrypted.body, headers: v.encrypted.header })
        expect(sortKeys(out.body)).toEqual(sortKeys(expectedFromReference(v)))
      })

      it('round-trips its own output exactly, types and digits included', () => {
        const frozen = structuredClone(v.plain.body)
        const symmetric = createEncryption(inverseConfig(config), options)
        const e = symmetric.encrypt({ url: v.endpoint, body: v.plain.body, headers: v.plain.header })
        expect(v.plain.body).toEqual(frozen) // never mutates the caller's body
        const d = symmetric.decrypt({ url: v.endpoint, body: e.body, headers: e.headers })
        expect(sortKeys(d.body)).toEqual(sortKeys(v.plain.body))
      })

      if (!/BODY-REPLACED|PLAINTEXT-LEAK|FALSY-SKIP/.test(v.knownReferenceBugs.join(' '))) {
        it('encrypts to the reference shape, kid and field names', () => {
          const e = enc.encrypt({ url: v.endpoint, body: v.plain.body, headers: v.plain.header })
          expect(shape(e.body)).toEqual(shape(v.encrypted.body))
          expect(Object.keys(e.headers).sort()).toEqual(Object.keys(v.encrypted.header).sort())
          for (const intro of v.jwe ?? []) {
            // Every emitted token carries the reference's kid and header members, and is strict base64url.
            const tokens = JSON.stringify(e.body).match(/eyJ[A-Za-z0-9_.-]+/g) ?? []
            expect(tokens.length).toBeGreaterThan(0)
            for (const t of tokens) {
              const header = JSON.parse(Buffer.from(t.split('.')[0] as string, 'base64url').toString()) as Record<string, string>
              expect(header).toEqual({ ...intro.protectedHeader })
              expect(t.split('.')[2]?.length).toBe(16) // 12-byte IV
            }
          }
        })
      }
    })
  }
})

describe('decrypt-only tokens', () => {
  for (const d of file.decryptOnly) {
    it(d.id, () => {
      const mustFail = /FORGED|UNSUPPORTED/.test(d.id)
      if (mustFail) {
        let code = ''
        try {
          compactDecrypt(d.token, privateKey)
        } catch (e) {
          code = isApisignError(e) ? e.code : 'other'
        }
        expect(code).toBe(/FORGED/.test(d.id) ? 'ERR_JWE_DECRYPTION_FAILED' : /sha1/.test(d.id) ? 'ERR_ALG_NOT_ALLOWED' : 'ERR_UNSUPPORTED_ALGORITHM')
      } else {
        expect(compactDecrypt(d.token, privateKey).plaintext.toString('utf8')).toBe(d.expectedPlaintextUtf8)
      }
    })
  }
  it('RSA-OAEP (SHA-1) decrypts only when explicitly allowed', () => {
    const d = file.decryptOnly.find((x) => /sha1/.test(x.id)) as { token: string; expectedPlaintextUtf8: string }
    expect(compactDecrypt(d.token, privateKey, { allowRsaOaepSha1: true }).plaintext.toString()).toBe(d.expectedPlaintextUtf8)
  })
})

describe('negative cases', () => {
  for (const n of file.negative) {
    it(`${n.id} (${n.expected})`, () => {
      const run = () => {
        if (n.token !== undefined) return compactDecrypt(n.token, privateKey)
        // The legacy negatives name the config they use: fle-body-03-root's.
        const config = typeof n.config === 'string' ? (file.vectors.find((x) => x.id === 'fle-body-03-root') as Vector).config : n.config
        const enc = createEncryption(resolveKeys(config as Record<string, unknown>), options)
        return enc.decrypt({ url: '/api/v1/resource', body: n.body })
      }
      if (n.expected === 'accept' || n.expected === 'reject-or-default') {
        expect(run()).toBeDefined()
        return
      }
      let error: unknown
      try {
        run()
      } catch (e) {
        error = e
      }
      expect(isApisignError(error)).toBe(true)
      expect(['ERR_JWE_INVALID', 'ERR_JWE_DECRYPTION_FAILED', 'ERR_UNSUPPORTED_ALGORITHM', 'ERR_LEGACY_DECRYPTION_FAILED']).toContain((error as { code: string }).code)
    })
  }
})

