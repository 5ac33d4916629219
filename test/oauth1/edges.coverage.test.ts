// Edge cases of the OAuth 1.0a stages that the vector and property suites do not reach: programmer misuse,
// malformed headers, the HMAC/PLAINTEXT methods outside a full request, RSA keys that cannot sign, and the
// signer's key cache (issue 9, item 7: coverage gate).
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto'
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  EMPTY_BODY_HASH,
  SIGNATURE_METHODS,
  bodyBytes,
  buildAuthorizationHeader,
  compatParameterString,
  compatParseUrl,
  compatQueryParameters,
  computeBodyHash,
  createOAuth1Signer,
  decodeBase64Strict,
  normalizeMethod,
  parseAuthorizationHeader,
  percentEncode,
  resolveSignatureMethod,
  signBaseString,
  signBaseStringAsync,
  signRequest,
  signRequestAsync,
  toWireUrl,
  verifyBaseString,
} from '../../src/oauth1/index.js'
import { readShared, sharedPath } from '../helpers/shared.js'
import { failure } from '../helpers/failure.js'

const pem = readShared('keys/oauth1/private-key.pem').toString()
const key = createPrivateKey(pem)
const publicKey = createPublicKey(key)
const fixed = { nonce: 'fixedNonce', timestamp: 1_700_000_000 } as const

const codeOf = (fn: () => unknown) => failure(fn).code

describe('programmer misuse is a TypeError naming the argument, never echoing it', () => {
  it('non-string and non-object arguments', () => {
    const secret = { toString: () => 'sekrit' }
    const cases: Array<[() => unknown, RegExp]> = [
      [() => normalizeMethod(42 as unknown as string), /^method must be a string\. Received type number$/],
      [() => toWireUrl(7 as unknown as string), /^url must be a string or a URL\. Received type number$/],
      [() => compatParseUrl(new URL('https://a.example.com/') as unknown as string), /url must be a string in compat mode/],
      [() => resolveSignatureMethod(secret as unknown as string), /^signatureMethod must be a string\. Received an object$/],
      [() => parseAuthorizationHeader(['OAuth a="b"'] as unknown as string), /^header must be a string\. Received an array$/],
      [() => createOAuth1Signer(null as never), /^options must be an object\. Received null$/],
      [() => signRequest('https://a.example.com/' as never), /^options must be an object\. Received type string$/],
      [() => createOAuth1Signer({ consumerKey: 5 as unknown as string, key }), /^consumerKey must be a string\. Received type number$/],
      [() => createOAuth1Signer({ consumerKey: 'ck', key }).sign(undefined as never), /^request must be an object\. Received type undefined$/],
    ]
    for (const [fn, message] of cases) {
      const f = failure(fn)
      expect(f.code).toBe('TypeError')
      expect(f.message).toMatch(message)
      expect(f.message).not.toContain('sekrit')
    }
  })

  it('token and realm belong to the rfc5849 dialect', () => {
    expect(failure(() => createOAuth1Signer({ consumerKey: 'ck', key, token: 'tok' })).message).toMatch(/RFC 5849 options/)
    expect(failure(() => createOAuth1Signer({ consumerKey: 'ck', key, dialect: 'compat', realm: 'r' })).message).toMatch(/RFC 5849 options/)
  })

  it('HMAC and PLAINTEXT need a consumer secret, at creation and at the stage functions', () => {
    expect(failure(() => createOAuth1Signer({ consumerKey: 'ck', dialect: 'rfc5849', signatureMethod: 'HMAC-SHA256' })).message).toBe(
      'consumerSecret (a string) is required for HMAC-SHA256',
    )
    expect(failure(() => signBaseString('x', SIGNATURE_METHODS['HMAC-SHA1'], {})).message).toMatch(/consumerSecret \(a string\) is required/)
    expect(failure(() => verifyBaseString('x', 'sig', SIGNATURE_METHODS.PLAINTEXT, {})).code).toBe('TypeError')
  })

  it('an RSA method without a key says which kind of key it needs', () => {
    expect(failure(() => signBaseString('x', SIGNATURE_METHODS['RSA-SHA256'], {})).message).toBe(
      'an RSA private KeyObject is required. Received type undefined',
    )
    expect(failure(() => verifyBaseString('x', 'sig', SIGNATURE_METHODS['RSA-PSS'], { key: 'pem' as never })).message).toBe(
      'an RSA public KeyObject is required. Received type string',
    )
  })
})

describe('bad input is a typed error', () => {
  it('compat mode refuses non-http schemes', () => {
    expect(failure(() => compatParseUrl('ftp://files.example.com/x')).code).toBe('ERR_INVALID_URL')
    expect(failure(() => compatParseUrl('ftp://files.example.com/x')).message).toContain('(got ftp:)')
    expect(codeOf(() => signRequest({ method: 'GET', url: 'mailto:a@example.com', consumerKey: 'ck', key, dialect: 'compat' }))).toBe('ERR_INVALID_URL')
  })

  it('percentEncode refuses a lone surrogate instead of signing U+FFFD', () => {
    expect(codeOf(() => percentEncode('a\uD800b'))).toBe('ERR_INVALID_INPUT')
    expect(percentEncode('\uD83D\uDE00')).toBe('%F0%9F%98%80')
  })

  it('a quote, backslash or line break in realm cannot break the header grammar', () => {
    const style = { encode: 'all', separator: ', ' } as const
    for (const realm of ['a"b', 'a\\b', 'a\r\nX-Injected: 1']) {
      expect(codeOf(() => buildAuthorizationHeader([['oauth_nonce', 'n']], style, realm))).toBe('ERR_INVALID_INPUT')
    }
    expect(codeOf(() => signRequest({ method: 'GET', url: 'https://a.example.com/', consumerKey: 'ck', key, dialect: 'rfc5849', realm: 'x"y' }))).toBe(
      'ERR_INVALID_INPUT',
    )
  })
})

describe('parseAuthorizationHeader: every malformed shape is ERR_OAUTH1_HEADER_INVALID', () => {
  const malformed: Array<[string, RegExp]> = [
    ['OAuth oauth_nonce', /parameter without a value/],
    ['OAuth oauth_nonce="n", trailing', /parameter without a value/],
    ['OAuth bad name="x"', /malformed parameter name/],
    ['OAuth ="x"', /malformed parameter name/],
    ['OAuth oauth_nonce="unterminated', /unterminated value for oauth_nonce/],
    ['OAuth a="1" b="2"', /text between parameters/],
    ['OAuth a="1",', /ends with a comma/],
    ['Bearer a="1"', /does not use the OAuth scheme/],
  ]
  for (const [header, why] of malformed) {
    it(JSON.stringify(header), () => {
      const f = failure(() => parseAuthorizationHeader(header))
      expect(f.code).toBe('ERR_OAUTH1_HEADER_INVALID')
      expect(f.message).toMatch(why)
    })
  }

  it('realm is returned apart from the parameters and may appear anywhere, once', () => {
    expect(parseAuthorizationHeader('oauth oauth_nonce="n",\trealm="Photos", oauth_version="1.0"')).toEqual({
      realm: 'Photos',
      params: [
        ['oauth_nonce', 'n'],
        ['oauth_version', '1.0'],
      ],
    })
    expect(codeOf(() => parseAuthorizationHeader('OAuth realm="a", realm="b"'))).toBe('ERR_OAUTH1_PARAM_DUPLICATE')
  })
})

describe('RFC 5849 realm, PLAINTEXT and HMAC through the signer', () => {
  it('realm comes first, is not signed, and round-trips through the parser', () => {
    const opts = { method: 'GET', url: 'https://a.example.com/r?x=1', consumerKey: 'ck', key, dialect: 'rfc5849', ...fixed } as const
    const withRealm = signRequest({ ...opts, realm: 'https://a.example.com/' })
    const without = signRequest(opts)
    expect(withRealm.authorizationHeader.startsWith('OAuth realm="https://a.example.com/", oauth_consumer_key="ck"')).toBe(true)
    expect(withRealm.signatureBaseString).toBe(without.signatureBaseString)
    expect(withRealm.signature).toBe(without.signature)
    const parsed = parseAuthorizationHeader(withRealm.authorizationHeader)
    expect(parsed.realm).toBe('https://a.example.com/')
    expect(parsed.params.map(([n]) => n)).not.toContain('realm')
  })

  it('PLAINTEXT (RFC 5849 §3.4.4): the signature is the encoded secrets, percent-encoded again in the header', () => {
    const r = signRequest({
      method: 'POST',
      url: 'https://a.example.com/token',
      consumerKey: 'ck',
      dialect: 'rfc5849',
      signatureMethod: 'PLAINTEXT',
      consumerSecret: 'cs&1',
      token: 'tok',
      tokenSecret: 'ts 2',
      ...fixed,
    })
    expect(r.signature).toBe('cs%261&ts%202')
    expect(r.authorizationHeader).toContain('oauth_signature="cs%25261%26ts%25202"')
    expect(r.authorizationHeader).toContain('oauth_token="tok"')
    expect(verifyBaseString(r.signatureBaseString, r.signature, SIGNATURE_METHODS.PLAINTEXT, { consumerSecret: 'cs&1', tokenSecret: 'ts 2' })).toBe(true)
    expect(verifyBaseString(r.signatureBaseString, r.signature, SIGNATURE_METHODS.PLAINTEXT, { consumerSecret: 'cs&1' })).toBe(false)
  })

  it('PLAINTEXT without a token secret keeps the "&" (RFC 5849 §3.4.2)', () => {
    expect(signBaseString('ignored', SIGNATURE_METHODS.PLAINTEXT, { consumerSecret: 'k' })).toBe('k&')
  })

  it('HMAC verification: right secret, wrong secret, bytes, wrong length, all in constant time', () => {
    const method = SIGNATURE_METHODS['HMAC-SHA256']
    const material = { consumerSecret: 'secret', tokenSecret: 'ts' }
    const sig = signBaseString('GET&x&y', method, material)
    expect(verifyBaseString('GET&x&y', sig, method, material)).toBe(true)
    expect(verifyBaseString(Buffer.from('GET&x&y'), Buffer.from(sig), method, material)).toBe(true)
    expect(verifyBaseString('GET&x&y', sig, method, { consumerSecret: 'secret' })).toBe(false)
    expect(verifyBaseString('GET&x&z', sig, method, material)).toBe(false)
    expect(verifyBaseString('GET&x&y', sig.slice(0, -2), method, material)).toBe(false)
  })

  it('signBaseStringAsync computes HMAC inline, and rejects (never throws) on misuse', async () => {
    const method = SIGNATURE_METHODS['HMAC-SHA1']
    expect(await signBaseStringAsync('base', method, { consumerSecret: 'c' })).toBe(signBaseString('base', method, { consumerSecret: 'c' }))
    let thrown: unknown
    const pending = (() => {
      try {
        return signBaseStringAsync('base', method, {})
      } catch (error) {
        thrown = error
        return undefined
      }
    })()
    expect(thrown).toBeUndefined()
    await expect(pending).rejects.toThrow(TypeError)
  })
})

describe('RSA keys that cannot sign or verify with a method', () => {
  // An RSA-PSS key restricted to SHA-512 (RFC 4055 parameters) is an RSA key, so it passes the type check,
  // but OpenSSL refuses the SHA-256 digest the OAuth methods use.
  const restricted = generateKeyPairSync('rsa-pss', { modulusLength: 2048, hashAlgorithm: 'sha512', mgf1HashAlgorithm: 'sha512' })
  // PSS with SHA-256 and a 32-byte salt needs a modulus of at least 528 bits.
  const tiny = generateKeyPairSync('rsa', { modulusLength: 512 })

  it('signing fails with ERR_SIGN_FAILED, sync and async, without the key in the message', async () => {
    for (const method of [SIGNATURE_METHODS['RSA-SHA256'], SIGNATURE_METHODS['RSA-PSS']]) {
      const f = failure(() => signBaseString('base', method, { key: restricted.privateKey }))
      expect(f).toEqual({ code: 'ERR_SIGN_FAILED', message: 'the signature could not be computed with the given key' })
      await expect(signBaseStringAsync('base', method, { key: restricted.privateKey })).rejects.toMatchObject({ code: 'ERR_SIGN_FAILED' })
    }
    expect(codeOf(() => signBaseString('base', SIGNATURE_METHODS['RSA-PSS'], { key: tiny.privateKey }))).toBe('ERR_SIGN_FAILED')
    await expect(signBaseStringAsync('base', SIGNATURE_METHODS['RSA-PSS'], { key: tiny.privateKey })).rejects.toMatchObject({
      code: 'ERR_SIGN_FAILED',
      cause: expect.any(Error),
    })
  })

  it('the signer reports ERR_SIGN_FAILED for such a key (sync and async)', async () => {
    const signer = createOAuth1Signer({ consumerKey: 'ck', key: restricted.privateKey })
    const request = { method: 'GET', url: 'https://a.example.com/' }
    expect(codeOf(() => signer.sign(request))).toBe('ERR_SIGN_FAILED')
    await expect(signer.signAsync(request)).rejects.toMatchObject({ code: 'ERR_SIGN_FAILED' })
  })

  it('verification answers false (never throws) for a key that refuses the digest, and for non-canonical base64', () => {
    const method = SIGNATURE_METHODS['RSA-SHA256']
    const good = signBaseString('base', method, { key })
    expect(verifyBaseString('base', good, method, { key: publicKey })).toBe(true)
    expect(verifyBaseString('base', good, method, { key: restricted.publicKey })).toBe(false)
    expect(verifyBaseString('base', `${good} `, method, { key: publicKey })).toBe(false)
    expect(verifyBaseString('base', good.replace(/=+$/, ''), method, { key: publicKey })).toBe(false)
    expect(verifyBaseString('base', Buffer.from(good, 'base64'), method, { key: publicKey })).toBe(true)
  })

  it('decodeBase64Strict accepts only canonical padded base64', () => {
    expect(decodeBase64Strict('YWJj')?.toString()).toBe('abc')
    expect(decodeBase64Strict('YWI=')?.toString()).toBe('ab')
    for (const bad of ['YWI', 'YW=I', 'YWJj\n', 'YW-_', 'Y===']) expect(decodeBase64Strict(bad)).toBeUndefined()
  })
})

describe('bodies and URLs', () => {
  it('bodyBytes: no body is zero bytes; bytes are passed through untouched', () => {
    expect(bodyBytes(null)).toHaveLength(0)
    expect(bodyBytes(undefined)).toHaveLength(0)
    const bytes = new Uint8Array([0, 255, 10])
    expect(bodyBytes(bytes)).toBe(bytes)
    expect(Buffer.from(bodyBytes('é')).toString('hex')).toBe('c3a9')
  })

  it('computeBodyHash: SHA-1 of an empty body, bytes and strings agree', () => {
    expect(computeBodyHash(null, 'sha1')).toBe('2jmj7l5rSw0yVb/vlWAYkK/YBwk=')
    expect(computeBodyHash(undefined)).toBe(EMPTY_BODY_HASH)
    expect(computeBodyHash(Buffer.from('{"a":1}'), 'sha1')).toBe(computeBodyHash('{"a":1}', 'sha1'))
  })

  it('the compat dialect accepts a URL object and signs its href as given', () => {
    const url = new URL('https://API.example.com:443/v1/x?b=2&a=1')
    const r = signRequest({ method: 'GET', url, consumerKey: 'ck', key, dialect: 'compat', ...fixed })
    expect(r.url).toBe(url.href)
    expect(r.parameterString.startsWith('a=1&b=2&oauth_body_hash=')).toBe(true)
  })

  it('compat parameter order is by "name,[object Set]" and repeated values are collapsed', () => {
    const query = compatQueryParameters('a=1&a%5B%5D=2&b=x&b=x&=v')
    expect(compatParameterString(query, [['oauth_nonce', 'n']])).toBe('=v=&a%5B%5D=2&a=1&b=x&oauth_nonce=n')
  })
})

describe('the signer loads a key source once and caches it', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'apisign-oauth1-'))
  afterAll(() => rmSync(tmp, { recursive: true, force: true }))
  const privateCopy = (rel: string, name: string) => {
    const path = join(tmp, name)
    copyFileSync(sharedPath(rel), path)
    chmodSync(path, 0o600)
    return path
  }
  const request = { method: 'POST', url: 'https://a.example.com/v1/p', body: '{"x":1}', ...fixed }
  const expected = signRequest({ ...request, consumerKey: 'ck', key })

  it('PEM text, DER bytes and a key file give the signature of the KeyObject (RSA-SHA256 is deterministic)', async () => {
    expect(signRequest({ ...request, consumerKey: 'ck', key: pem }).signature).toBe(expected.signature)
    expect((await signRequestAsync({ ...request, consumerKey: 'ck', key: pem })).signature).toBe(expected.signature)
    expect(signRequest({ ...request, consumerKey: 'ck', key: key.export({ type: 'pkcs8', format: 'der' }) }).signature).toBe(expected.signature)
    const path = privateCopy('keys/oauth1/private-key.pem', 'a.pem')
    expect(signRequest({ ...request, consumerKey: 'ck', key: path }).signature).toBe(expected.signature)
  })

  it('a key path is read once: after the file is gone it still signs, until 32 other strings evict it', () => {
    const path = privateCopy('keys/oauth1/private-key.pem', 'evicted.pem')
    expect(signRequest({ ...request, consumerKey: 'ck', key: path }).signature).toBe(expected.signature)
    rmSync(path)
    expect(signRequest({ ...request, consumerKey: 'ck', key: path }).signature).toBe(expected.signature)
    // 32 distinct PEM strings (same key, different trailing blank lines) fill the bounded cache.
    for (let i = 1; i <= 32; i++) signRequest({ ...request, consumerKey: 'ck', key: `${pem}${'\n'.repeat(i)}` })
    expect(codeOf(() => signRequest({ ...request, consumerKey: 'ck', key: path }))).toBe('ERR_FILE_NOT_FOUND')
  })

  it('a { p12 } source object is opened once per object identity', () => {
    const p12 = privateCopy('keys/oauth1/keystore.p12', 'k.p12')
    const source = { p12, alias: 'keyalias', password: 'keystorepassword' }
    expect(signRequest({ ...request, consumerKey: 'ck', key: source }).signature).toBe(expected.signature)
    rmSync(p12)
    expect(signRequest({ ...request, consumerKey: 'ck', key: source }).signature).toBe(expected.signature)
    expect(codeOf(() => signRequest({ ...request, consumerKey: 'ck', key: { ...source } }))).toBe('ERR_FILE_NOT_FOUND')
  })
})
