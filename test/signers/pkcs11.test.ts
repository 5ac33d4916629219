// Keys in a real SoftHSM2 token (initialised per run in a temp directory): the OAuth1 vectors signed in the
// token equal the software signatures, JWS in every algorithm verifies with jose, JWE and legacy responses
// decrypt with the key in the token (OAEP SHA-1 natively, OAEP-256/512 through raw RSA), and every failure
// is a typed error without the PIN.
import { X509Certificate, constants, createPrivateKey, createPublicKey, generateKeyPairSync, publicEncrypt, verify } from 'node:crypto'
import * as jose from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compactDecrypt, compactDecryptAsync, compactEncrypt, legacyDecryptAsync, legacyEncrypt } from '../../src/encryption/index.js'
import { isApisignError } from '../../src/errors.js'
import { runCli } from '../../src/cli/run.js'
import { createOAuth1Signer, signRequest, signRequestAsync } from '../../src/oauth1/index.js'
import {
  type Pkcs11Decrypter,
  type Pkcs11Signer,
  createKeySigner,
  importPkcs11Key,
  listPkcs11Objects,
  openPkcs11Decrypter,
  openPkcs11Signer,
  signCompactJws,
} from '../../src/signers/index.js'
import { loadBinding } from '../../src/signers/pkcs11-binding.js'
import { TokenPool, moduleFor } from '../../src/signers/pkcs11-pool.js'
import { readShared, readSharedJson, sharedPath } from '../helpers/shared.js'
import { type SoftHsm, createSoftHsm } from '../helpers/softhsm.js'

const TOKEN = 'apisign-test'
const oauthKey = createPrivateKey(readShared('keys/oauth1/private-key.pem'))
const encryptionKey = createPrivateKey(readShared('keys/encryption/private-key-pkcs8.pem'))
const encryptionCert = new X509Certificate(readShared('keys/encryption/certificate.pem'))
const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey

interface Vector {
  id: string
  input: { method: string; url: string; body: string | null; bodyBase64?: string; contentType?: string; consumerKey: string; nonce: string; timestamp: number | string; signatureMethod: string }
  expected: { signatureBaseString: string; signature?: string }
  mastercardDialect: { signatureBaseString: string | null; signature?: string }
}
const vectors = readSharedJson<{ vectors: Vector[] }>('vectors/oauth1-vectors.json').vectors

let hsm: SoftHsm
let rs256: Pkcs11Signer
let ps256: Pkcs11Signer
let es256: Pkcs11Signer
let rawDecrypter: Pkcs11Decrypter
let nativeDecrypter: Pkcs11Decrypter
const errorsSeen: string[] = []
const remember = (e: unknown) => {
  errorsSeen.push(JSON.stringify(e), String(e), (e as Error).message, JSON.stringify((e as { details?: unknown }).details ?? null))
  return e
}

beforeAll(async () => {
  hsm = createSoftHsm()
  hsm.initToken(TOKEN)
  // The OAuth1 key through SoftHSM's own import tool (a PKCS#8 PEM), the others through apisign's import.
  hsm.importPem(TOKEN, sharedPath('keys/oauth1/private-key.pem'), 'oauth-signing', '01')
  await importPkcs11Key({ module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv, label: 'response-decryption', id: '02', privateKey: encryptionKey, certificate: encryptionCert, usage: ['decrypt'] })
  await importPkcs11Key({ module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv, label: 'dpop', id: '03', privateKey: ecKey })
  const common = { module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv }
  rs256 = await openPkcs11Signer({ ...common, label: 'oauth-signing' })
  ps256 = await openPkcs11Signer({ ...common, id: '01', algorithm: 'PS256' })
  es256 = await openPkcs11Signer({ ...common, label: 'dpop' })
  rawDecrypter = await openPkcs11Decrypter({ ...common, label: 'response-decryption', rawOaepHashes: ['sha256', 'sha512'] })
  nativeDecrypter = await openPkcs11Decrypter({ ...common, label: 'response-decryption', maxSessions: 2 })
})

afterAll(async () => {
  for (const k of [rs256, ps256, es256, rawDecrypter, nativeDecrypter]) await k?.close()
  // No PIN in any error, message or detail this file produced.
  expect(errorsSeen.length).toBeGreaterThan(0)
  expect(errorsSeen.join('\n')).not.toContain(hsm.pin)
  hsm.cleanup()
})

function requestOf(v: Vector) {
  const body = v.input.bodyBase64 !== undefined ? Buffer.from(v.input.bodyBase64, 'base64') : v.input.body
  return {
    method: v.input.method,
    url: v.input.url,
    consumerKey: v.input.consumerKey,
    nonce: v.input.nonce,
    timestamp: v.input.timestamp,
    ...(body === null ? {} : { body }),
    ...(v.input.contentType === undefined ? {} : { contentType: v.input.contentType }),
  }
}

describe('signing keys in SoftHSM', () => {
  it('reads the public key from the token; a key imported with its certificate carries it', () => {
    expect(rs256.publicKey?.equals(createPublicKey(oauthKey))).toBe(true)
    expect(rs256.key).toEqual({ token: TOKEN, label: 'oauth-signing', id: '01', keyType: 'rsa', bits: 2048 })
    expect(rs256.certificate).toBeUndefined()
    expect(rawDecrypter.certificate?.fingerprint256).toBe(encryptionCert.fingerprint256)
    expect(es256.publicKey?.equals(createPublicKey(ecKey))).toBe(true)
    expect(es256.algorithm).toBe('ES256')
  })

  it('OAuth1 RSA-SHA256 vectors: the token gives the same signatures as the key in software (mastercard and compat dialects)', async () => {
    const rsa = vectors.filter((v) => v.input.signatureMethod === 'RSA-SHA256')
    expect(rsa.length).toBeGreaterThan(40)
    let compared = 0
    for (const v of rsa) {
      const software = signRequest({ ...requestOf(v), key: oauthKey })
      const token = await signRequestAsync({ ...requestOf(v), key: rs256 })
      expect(token.signature).toBe(software.signature)
      expect(token.authorizationHeader).toBe(software.authorizationHeader)
      if (v.mastercardDialect.signature !== undefined) {
        expect(token.signature).toBe(v.mastercardDialect.signature)
        compared++
      }
      const compat = await signRequestAsync({ ...requestOf(v), key: rs256, dialect: 'compat' })
      expect(compat.signature).toBe(v.expected.signature)
    }
    expect(compared).toBeGreaterThan(30)
  })

  it('OAuth1 RSA-PSS vectors: the PS256 token key signs what the public key verifies', async () => {
    const pss = vectors.filter((v) => v.input.signatureMethod.startsWith('RSA-PSS'))
    expect(pss.length).toBeGreaterThan(0)
    const signer = createOAuth1Signer({ consumerKey: 'ck', key: ps256 })
    expect(signer.signatureMethod).toBe('RSA-PSS')
    for (const v of pss) {
      const r = await signRequestAsync({ ...requestOf(v), key: ps256, signatureMethod: 'RSA-PSS' })
      expect(r.signatureBaseString).toBe(v.mastercardDialect.signatureBaseString ?? r.signatureBaseString)
      expect(verify('sha256', Buffer.from(r.signatureBaseString), { key: createPublicKey(oauthKey), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, Buffer.from(r.signature, 'base64'))).toBe(true)
    }
  })

  it('apisign oauth1 sign --pkcs11 prints the vector signature, signed in the token', async () => {
    const v = vectors.find((x) => x.input.signatureMethod === 'RSA-SHA256' && x.mastercardDialect.signature !== undefined && x.input.body === null) as Vector
    const out: string[] = []
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t), env: { [hsm.pinEnv]: hsm.pin }, cwd: process.cwd() }
    const code = await runCli(['oauth1', 'sign', '--method', v.input.method, '--url', v.input.url, '--consumer-key', v.input.consumerKey, '--nonce', v.input.nonce, '--timestamp', String(v.input.timestamp),
      '--pkcs11', hsm.module, '--hsm-token', TOKEN, '--key-label', 'oauth-signing', '--pin-env', hsm.pinEnv, '--json'], io)
    expect(code, out.join('')).toBe(0)
    expect(JSON.parse(out.join('')).signature).toBe(v.mastercardDialect.signature)
    const usage: string[] = []
    expect(await runCli(['oauth1', 'sign', '--method', 'GET', '--url', 'https://a.example/x', '--consumer-key', 'ck', '--pkcs11', hsm.module, '--hsm-token', TOKEN, '--pin-env', hsm.pinEnv, '--json'], { ...io, stderr: (t) => void usage.push(t) })).toBe(2)
    expect(usage.join('')).toContain('--key-label')
    errorsSeen.push(...out, ...usage)
  })

  it('the synchronous paths say an external signer needs the async one; a signer of the wrong algorithm is refused', async () => {
    const v = vectors[0] as Vector
    const sync = (() => {
      try {
        signRequest({ ...requestOf(v), key: rs256 })
      } catch (e) {
        return remember(e)
      }
      return undefined
    })()
    expect(isApisignError(sync, 'ERR_SIGNER_ASYNC_ONLY')).toBe(true)
    expect((sync as Error).message).toContain('signAsync')
    expect(() => createOAuth1Signer({ consumerKey: 'ck', key: rs256 }).sign(requestOf(v))).toThrow(/signAsync/)
    expect(() => createOAuth1Signer({ consumerKey: 'ck', key: rs256, signatureMethod: 'RSA-PSS' })).toThrow(/signs RS256/)
    expect(() => createOAuth1Signer({ consumerKey: 'ck', key: es256 })).toThrow(/signs ES256/)
  })

  it('JWS: RS256 from the token is byte-identical to the software signer; RS256, PS256 and ES256 verify with jose', async () => {
    const payload = { iss: 'client-1', aud: 'https://as.example.com/token', jti: 'a1', exp: 2_000_000_000 }
    const fromToken = await signCompactJws({ signer: rs256, header: { typ: 'JWT', kid: 'k1' }, payload })
    const fromSoftware = await signCompactJws({ signer: createKeySigner(oauthKey), header: { typ: 'JWT', kid: 'k1' }, payload })
    expect(fromToken).toBe(fromSoftware)
    for (const [signer, alg] of [[rs256, 'RS256'], [ps256, 'PS256'], [es256, 'ES256']] as const) {
      const jws = await signCompactJws({ signer, header: { typ: 'dpop+jwt' }, payload })
      const { payload: got, protectedHeader } = await jose.compactVerify(jws, signer.publicKey as never, { algorithms: [alg] })
      expect(protectedHeader).toEqual({ alg, typ: 'dpop+jwt' })
      expect(JSON.parse(Buffer.from(got).toString())).toEqual(payload)
    }
    // ES256 is the raw r || s form JWS uses (64 bytes), not DER.
    expect((await es256.sign(Buffer.from('x'))).length).toBe(64)
  })

  it('runs 16 signatures at once on a pool of 2 sessions, each correct, two at a time in the library', async () => {
    const signer = await openPkcs11Signer({ module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv, label: 'oauth-signing', maxSessions: 2 })
    const module = moduleFor(hsm.module)
    module.peakActive = 0
    try {
      const software = createKeySigner(oauthKey)
      const inputs = Array.from({ length: 16 }, (_, i) => Buffer.from(`message ${i}`))
      const got = await Promise.all(inputs.map((d) => signer.sign(d)))
      const want = await Promise.all(inputs.map((d) => software.sign(d)))
      expect(got.map((s) => Buffer.from(s).toString('base64'))).toEqual(want.map((s) => Buffer.from(s).toString('base64')))
      // Two C_SignAsync calls were running on libuv's threads at once, never more than the pool's two.
      expect(module.peakActive).toBe(2)
    } finally {
      await signer.close()
    }
  })
})

describe('decryption keys in SoftHSM', () => {
  const plaintext = JSON.stringify({ pan: '5123456789012345', expiry: '12/30' })

  it('RSA-OAEP-256 JWE (apisign and jose tokens) decrypt with the key in the token through the raw-RSA path', async () => {
    const ours = compactEncrypt(plaintext, encryptionCert)
    expect((await compactDecryptAsync(ours, rawDecrypter)).plaintext.toString()).toBe(plaintext)
    const theirs = await new jose.CompactEncrypt(Buffer.from(plaintext)).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM' }).encrypt(encryptionCert.publicKey)
    expect((await compactDecryptAsync(theirs, rawDecrypter)).plaintext.toString()).toBe(plaintext)
    // The same token, the same result as the key in software.
    expect(compactDecrypt(theirs, encryptionKey).plaintext.toString()).toBe(plaintext)
  })

  it('RSA-OAEP (SHA-1) decrypts natively with CKM_RSA_PKCS_OAEP; without the raw option OAEP-256 is a typed mechanism error', async () => {
    const sha1 = await new jose.CompactEncrypt(Buffer.from(plaintext)).setProtectedHeader({ alg: 'RSA-OAEP', enc: 'A128GCM' }).encrypt(encryptionCert.publicKey)
    expect((await compactDecryptAsync(sha1, nativeDecrypter, { allowRsaOaepSha1: true })).plaintext.toString()).toBe(plaintext)
    const e = await compactDecryptAsync(compactEncrypt(plaintext, encryptionCert), nativeDecrypter).catch(remember)
    expect(isApisignError(e, 'ERR_HSM_MECHANISM')).toBe(true)
    expect((e as Error).message).toContain('rawOaepHashes')
  })

  it('a tampered wrapped key or tag is the same ERR_JWE_DECRYPTION_FAILED on both paths; sync decryption names the async one', async () => {
    const token = compactEncrypt(plaintext, encryptionCert)
    const parts = token.split('.')
    const wrapped = Buffer.from(parts[1] as string, 'base64url')
    wrapped[10] = (wrapped[10] as number) ^ 1
    const badKey = [parts[0], wrapped.toString('base64url'), ...parts.slice(2)].join('.')
    const badTag = [...parts.slice(0, 4), Buffer.alloc(16).toString('base64url')].join('.')
    for (const t of [badKey, badTag]) {
      for (const d of [rawDecrypter, nativeDecrypter]) {
        const e = await compactDecryptAsync(t.replace(/^[^.]+/, parts[0] as string), d, { allowRsaOaepSha1: true }).catch(remember)
        if (d === nativeDecrypter) expect(isApisignError(e)).toBe(true)
        else expect(isApisignError(e, 'ERR_JWE_DECRYPTION_FAILED')).toBe(true)
      }
    }
    expect(() => compactDecrypt(token, rawDecrypter as never)).toThrow(/compactDecryptAsync/)
  })

  it('legacy field-level values (OAEP SHA-256 and SHA-512) unwrap with the key in the token', async () => {
    for (const digest of ['SHA-256', 'SHA-512'] as const) {
      const parts = legacyEncrypt(Buffer.from(plaintext), encryptionCert.publicKey, digest, 'hex')
      expect((await legacyDecryptAsync(parts, rawDecrypter, digest, 'hex')).toString()).toBe(plaintext)
      const wrong = await legacyDecryptAsync({ ...parts, encryptedKey: parts.encryptedKey.replace(/^../, '00') }, rawDecrypter, digest, 'hex').catch(remember)
      expect(isApisignError(wrong, 'ERR_LEGACY_DECRYPTION_FAILED')).toBe(true)
    }
  })

  it('Wycheproof RSA-OAEP-256 vectors (empty label) through the token and the constant-time unpadding', async () => {
    const file = readSharedJson<{ testGroups: Array<{ privateKeyPem: string; tests: Array<{ tcId: number; msg: string; ct: string; label: string; result: string }> }> }>('wycheproof', 'rsa_oaep_2048_sha256_mgf1sha256_test.json')
    const group = file.testGroups[0] as (typeof file.testGroups)[number]
    await importPkcs11Key({ module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv, label: 'wycheproof', id: '0a', privateKey: createPrivateKey(group.privateKeyPem), usage: ['decrypt'] })
    const d = await openPkcs11Decrypter({ module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv, label: 'wycheproof', rawOaepHashes: ['sha256'] })
    try {
      const cases = group.tests.filter((t) => t.label === '')
      expect(cases.length).toBeGreaterThan(20)
      let valid = 0
      for (const t of cases) {
        const got = await d.decrypt('sha256', Buffer.from(t.ct, 'hex')).then((b) => Buffer.from(b).toString('hex'), (e: unknown) => remember(e))
        if (t.result === 'valid') {
          expect(got, `tcId ${t.tcId}`).toBe(t.msg)
          valid++
        } else {
          expect(isApisignError(got, 'ERR_JWE_DECRYPTION_FAILED'), `tcId ${t.tcId}`).toBe(true)
        }
      }
      expect(valid).toBeGreaterThan(5)
    } finally {
      await d.close()
    }
  })

  it('refuses what the token cannot do with a key: sign with a decrypt-only key, decrypt with an EC key', async () => {
    const common = { module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv }
    expect(isApisignError(await openPkcs11Signer({ ...common, label: 'response-decryption' }).catch(remember), 'ERR_HSM_MECHANISM')).toBe(true)
    expect(isApisignError(await openPkcs11Decrypter({ ...common, label: 'dpop' }).catch(remember), 'ERR_KEY_WRONG_TYPE')).toBe(true)
    expect(isApisignError(await openPkcs11Signer({ ...common, label: 'dpop', algorithm: 'RS256' }).catch(remember), 'ERR_KEY_WRONG_TYPE')).toBe(true)
  })
})

describe('the token, the PIN and the binding', () => {
  it('lists the token objects with fingerprints and never key material', async () => {
    const listing = await listPkcs11Objects({ module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv })
    expect(listing.token.label).toBe(TOKEN)
    const byLabel = (label: string, cls: string) => listing.objects.find((o) => o.label === label && o.class === cls)
    expect(byLabel('oauth-signing', 'private-key')).toMatchObject({ id: '01', keyType: 'rsa', bits: 2048, sign: true })
    expect(byLabel('response-decryption', 'certificate')?.subject).toContain('CN=')
    expect(byLabel('dpop', 'public-key')).toMatchObject({ keyType: 'ec', bits: 256 })
    const text = JSON.stringify(listing)
    const jwk = oauthKey.export({ format: 'jwk' })
    expect(text).not.toContain(Buffer.from(jwk.d as string, 'base64url').toString('hex').slice(0, 32))
  })

  // A wrong PIN is tested in pkcs11-reset.test.ts, before this process logs in: PKCS#11 logins hold for the
  // whole application, so once logged in, C_Login answers CKR_USER_ALREADY_LOGGED_IN whatever the PIN.
  it('typed errors: missing PIN variable, absent token, unknown key, wrong module, missing binding', async () => {
    const unset = await openPkcs11Signer({ module: hsm.module, token: TOKEN, pinEnv: 'NOT_SET_ANYWHERE', env: {}, label: 'oauth-signing' }).catch(remember)
    expect(isApisignError(unset, 'ERR_HSM_PIN')).toBe(true)
    const absent = await openPkcs11Signer({ module: hsm.module, token: 'no-such-token', pinEnv: hsm.pinEnv, label: 'x' }).catch(remember)
    expect(isApisignError(absent, 'ERR_HSM_UNAVAILABLE')).toBe(true)
    const unknown = await openPkcs11Signer({ module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv, label: 'nope' }).catch(remember)
    expect(isApisignError(unknown, 'ERR_HSM_KEY_NOT_FOUND')).toBe(true)
    const badModule = await openPkcs11Signer({ module: '/nonexistent/libpkcs11.so', token: TOKEN, pinEnv: hsm.pinEnv, label: 'x' }).catch(remember)
    expect(isApisignError(badModule, 'ERR_PKCS11_UNAVAILABLE')).toBe(true)
    const missing = (() => {
      try {
        loadBinding(() => {
          throw new Error("Cannot find module 'pkcs11js'")
        })
      } catch (e) {
        return remember(e)
      }
      return undefined
    })()
    expect(isApisignError(missing, 'ERR_PKCS11_UNAVAILABLE')).toBe(true)
    expect((missing as Error).message).toContain('npm install pkcs11js')
    await expect(openPkcs11Signer({ module: hsm.module, token: TOKEN, pin: hsm.pin, label: 'x' } as never)).rejects.toThrow(TypeError)
    await expect(openPkcs11Signer({ module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv } as never)).rejects.toThrow(/label or id/)
    await expect(openPkcs11Signer({ module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv, label: 'oauth-signing', algorithm: 'HS256' as never })).rejects.toThrow(TypeError)
    await expect(openPkcs11Decrypter({ module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv, label: 'x', rawOaepHashes: ['md5' as never] })).rejects.toThrow(TypeError)
    await expect(openPkcs11Decrypter({ module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv, label: 'x', rawOaepHashes: 'sha256' as never })).rejects.toThrow(TypeError)
    await expect(openPkcs11Signer({ module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv, label: 'oauth-signing', maxSessions: Number.NaN })).rejects.toThrow(/maxSessions/)
    await expect(openPkcs11Signer({ module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv, id: 'xyz' })).rejects.toThrow(/hex/)
  })

  it('bounds concurrent operations by the pool size, and each session serves one operation at a time', async () => {
    const pool = new TokenPool({ module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv, maxSessions: 3 })
    let running = 0
    let peak = 0
    const sessions = new Set<string>()
    const busy = new Set<string>()
    await Promise.all(
      Array.from({ length: 12 }, () =>
        pool.run(async ({ session }) => {
          const id = session.toString('hex')
          expect(busy.has(id)).toBe(false)
          busy.add(id)
          sessions.add(id)
          running++
          peak = Math.max(peak, running)
          await new Promise((r) => setTimeout(r, 5))
          running--
          busy.delete(id)
        }),
      ),
    )
    expect(peak).toBe(3)
    expect(sessions.size).toBe(3)
    await pool.close()
    expect(isApisignError(await pool.run(async () => 1).catch(remember), 'ERR_HSM_UNAVAILABLE')).toBe(true)
  })

  it('a raw block longer than the modulus and an unknown hash are refused', async () => {
    expect(isApisignError(await rawDecrypter.decrypt('sha256', Buffer.alloc(300)).catch(remember), 'ERR_JWE_DECRYPTION_FAILED')).toBe(true)
    await expect(rawDecrypter.decrypt('md5' as never, Buffer.alloc(256))).rejects.toThrow(TypeError)
    const c = publicEncrypt({ key: encryptionCert.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha512' }, Buffer.from('k'))
    expect(Buffer.from(await rawDecrypter.decrypt('sha512', c)).toString()).toBe('k')
  })
})
