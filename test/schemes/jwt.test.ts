import fc from 'fast-check'
import * as jose from 'jose'
import { describe, expect, it } from 'vitest'
import { isApisignError } from '../../src/errors.js'
import { signJwt, verifyJwt } from '../../src/schemes/index.js'
import { readSharedJson } from '../helpers/shared.js'

interface Case {
  id: string
  input: { secret: string; payload: Record<string, unknown>; nowMs?: number; options?: { expiresIn?: number }; generator: string }
  expected: { token: string }
}
const cases = readSharedJson<{ cases: Case[] }>('vectors/jwt-vectors.json').cases

describe('JWT HS256 vectors (jsonwebtoken, jose, PyJWT)', () => {
  for (const c of cases) {
    it(c.id, () => {
      const g = c.input.generator
      // Every vector verifies with the secret, whatever produced it.
      expect(verifyJwt(c.expected.token, { secrets: [c.input.secret], nowMs: (c.input.nowMs ?? 1_700_000_000_000) + 1000 })).toBeTypeOf('object')
      if (g.startsWith('PyJWT')) {
        // PyJWT escapes non-ASCII claims as \uXXXX where JS emits UTF-8: the bytes differ by design (reference §2).
        expect(signJwt({ secret: c.input.secret, payload: c.input.payload, onWarning: () => undefined })).not.toBe(c.expected.token)
        return
      }
      const token = signJwt({
        secret: c.input.secret,
        payload: c.input.payload,
        iat: !/noTimestamp:true|jose/.test(g),
        typ: !/jose\.SignJWT\(payload\)\.setProtectedHeader\(\{alg:'HS256'\}\)/.test(g),
        ...(c.input.options?.expiresIn === undefined ? {} : { expiresIn: c.input.options.expiresIn }),
        ...(c.input.nowMs === undefined ? {} : { nowMs: c.input.nowMs }),
        onWarning: () => undefined,
      })
      expect(token).toBe(c.expected.token)
    })
  }
})

describe('JWT verifier', () => {
  const secret = 'a-32-byte-or-longer-secret-value!!'
  const token = signJwt({ secret, payload: { user_id: '*' }, iat: true, expiresIn: 60, nowMs: 1_700_000_000_000 })
  const code = (fn: () => unknown) => {
    try {
      fn()
    } catch (e) {
      return isApisignError(e) ? e.code : 'other'
    }
    return 'ok'
  }
  it('accepts, and rejects alg none, RS/HS confusion, tampering, expiry and a wrong secret', async () => {
    expect(code(() => verifyJwt(token, { secrets: [secret], nowMs: 1_700_000_010_000 }))).toBe('ok')
    const [h, p] = token.split('.') as [string, string]
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`
    expect(code(() => verifyJwt(none, { secrets: [secret], nowMs: 1_700_000_010_000 }))).toBe('ERR_ALG_NOT_ALLOWED')
    const rs = await new jose.SignJWT({ user_id: '*' }).setProtectedHeader({ alg: 'RS256' }).sign((await jose.generateKeyPair('RS256')).privateKey)
    expect(code(() => verifyJwt(rs, { secrets: [secret] }))).toBe('ERR_ALG_NOT_ALLOWED')
    expect(code(() => verifyJwt(`${h}.${Buffer.from('{"user_id":"admin"}').toString('base64url')}.${token.split('.')[2]}`, { secrets: [secret] }))).toBe('ERR_SIGNATURE_INVALID')
    expect(code(() => verifyJwt(token, { secrets: [secret], nowMs: 1_700_000_200_000 }))).toBe('ERR_JWT_EXPIRED')
    expect(code(() => verifyJwt(token, { secrets: ['other-secret-of-enough-length-xxxxx'], nowMs: 1_700_000_010_000 }))).toBe('ERR_SIGNATURE_INVALID')
    expect(code(() => verifyJwt('a.b', { secrets: [secret] }))).toBe('ERR_JWT_INVALID')
  })
  it('our tokens verify with jose (differential)', async () => {
    const { payload } = await jose.jwtVerify(token, new TextEncoder().encode(secret), { algorithms: ['HS256'], currentDate: new Date(1_700_000_010_000) })
    expect(payload).toMatchObject({ user_id: '*', iat: 1_700_000_000, exp: 1_700_000_060 })
  })
  it('warns about a secret shorter than 32 bytes', () => {
    const warnings: string[] = []
    signJwt({ secret: 'short', payload: {}, onWarning: (m) => warnings.push(m) })
    expect(warnings).toHaveLength(1)
  })
})

describe('JWT HS256 against jose, property-based', () => {
  const claimKey = fc.stringMatching(/^[a-z_][a-z0-9_]{0,7}$/).filter((k) => !['exp', 'nbf', 'iat'].includes(k))
  const claimValue = fc.oneof(fc.string({ maxLength: 16 }), fc.integer(), fc.boolean(), fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }))
  const claims = fc.dictionary(claimKey, claimValue, { maxKeys: 6 })
  const secret = fc.string({ minLength: 32, maxLength: 48 })

  it('the same bytes as jose for any claims (typ JWT, claim order kept), and each verifies the other', async () => {
    await fc.assert(
      fc.asyncProperty(claims, secret, async (payload, key) => {
        const ours = signJwt({ secret: key, payload, onWarning: () => undefined })
        const theirs = await new jose.SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(key))
        expect(ours).toBe(theirs)
        expect(verifyJwt(theirs, { secrets: [key] })).toEqual(payload)
        await expect(jose.jwtVerify(ours, new TextEncoder().encode(key), { algorithms: ['HS256'] })).resolves.toMatchObject({ payload })
      }),
      { numRuns: 100 },
    )
  })
})
