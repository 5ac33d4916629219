import { createPrivateKey } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  DIALECTS,
  baseStringUri,
  buildAuthorizationHeader,
  collectQueryParameters,
  computeBodyHash,
  createOAuth1Signer,
  decodeFormParameters,
  generateNonce,
  normalizeParameters,
  parseAuthorizationHeader,
  percentEncode,
  signatureBaseString,
  signRequest,
  toWireUrl,
} from '../../src/oauth1/index.js'
import { readShared } from '../helpers/shared.js'

const key = createPrivateKey(readShared('keys/oauth1/private-key.pem'))

describe('RFC 5849 §3.4.1 example, stage by stage', () => {
  // RFC 5849 §3.4.1.1: the example request and its signature base string.
  const url = 'http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b'
  const form = 'c2&a3=2+q'
  const oauth = [
    ['oauth_consumer_key', '9djdj82h48djs9d2'],
    ['oauth_token', 'kkk9d7dh3k39sjv7'],
    ['oauth_signature_method', 'HMAC-SHA1'],
    ['oauth_timestamp', '137131201'],
    ['oauth_nonce', '7d8f3e4a'],
  ] as const
  const expectedParams =
    'a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=&oauth_consumer_key=9djdj82h48djs9d2&oauth_nonce=7d8f3e4a&oauth_signature_method=HMAC-SHA1&oauth_timestamp=137131201&oauth_token=kkk9d7dh3k39sjv7'
  const expectedBase =
    'POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7'

  it('§3.4.1.2 base string URI', () => {
    expect(baseStringUri(toWireUrl(url))).toBe('http://example.com/request')
    expect(baseStringUri(toWireUrl('HTTP://EXAMPLE.com:80/r%20v/X?id=123'))).toBe('http://example.com/r%20v/X')
    expect(baseStringUri(toWireUrl('https://www.example.net:8080/?q=1'))).toBe('https://www.example.net:8080/')
  })

  it('§3.4.1.3.1 parameter sources (query decoded, form body decoded)', () => {
    expect(decodeFormParameters(toWireUrl(url).search)).toEqual([
      ['b5', '=%3D'],
      ['a3', 'a'],
      ['c@', ''],
      ['a2', 'r b'],
    ])
    expect(decodeFormParameters(form)).toEqual([
      ['c2', ''],
      ['a3', '2 q'],
    ])
  })

  it('§3.4.1.3.2 normalised parameters and §3.4.1.1 base string', () => {
    const params = [...decodeFormParameters(toWireUrl(url).search), ...decodeFormParameters(form), ...oauth]
    const normalized = normalizeParameters(params, { encode: true })
    expect(normalized).toBe(expectedParams)
    expect(signatureBaseString('post', 'http://example.com/request', normalized)).toBe(expectedBase)
  })

  it('the rfc5849 dialect produces the same base string end to end', () => {
    const r = signRequest({
      dialect: 'rfc5849',
      signatureMethod: 'HMAC-SHA1',
      method: 'POST',
      url,
      body: form,
      contentType: 'application/x-www-form-urlencoded',
      consumerKey: '9djdj82h48djs9d2',
      token: 'kkk9d7dh3k39sjv7',
      consumerSecret: 'j49sk3j29djd',
      tokenSecret: 'dh893hdasih9',
      nonce: '7d8f3e4a',
      timestamp: 137131201,
    })
    // The RFC's list has no oauth_version (it is optional); we send "1.0", so it appears once more.
    expect(r.signatureBaseString).toBe(
      expectedBase.replace('%26oauth_token%3D', '%26oauth_token%3D').replace(
        'oauth_token%3Dkkk9d7dh3k39sjv7',
        'oauth_token%3Dkkk9d7dh3k39sjv7%26oauth_version%3D1.0',
      ),
    )
    expect(r.authorizationHeader).toMatch(/^OAuth oauth_consumer_key="9djdj82h48djs9d2", oauth_token="kkk9d7dh3k39sjv7"/)
  })
})

describe('percentEncode (RFC 3986 unreserved only)', () => {
  it.each([
    ["!'()*", '%21%27%28%29%2A'],
    ['~-._', '~-._'],
    ['a b+c', 'a%20b%2Bc'],
    ['café', 'caf%C3%A9'],
    ['😀', '%F0%9F%98%80'],
    ['%41', '%2541'],
  ])('%s', (input, expected) => {
    expect(percentEncode(input)).toBe(expected)
  })
})

describe('mastercard dialect stages', () => {
  it('keeps the query as on the wire', () => {
    expect(collectQueryParameters('?a=%c3%bc&b=c+d&flag&&=v&e=x=y')).toEqual([
      ['a', '%c3%bc'],
      ['b', 'c+d'],
      ['flag', ''],
      ['', 'v'],
      ['e', 'x=y'],
    ])
  })

  it('never reuses the cached encoding of a constant oauth pair for a query value of the same name', () => {
    const signer = createOAuth1Signer({ consumerKey: 'ck!1', key })
    const url = 'https://api.example.com/x?oauth_version=2&oauth_consumer_key=other&oauth_signature_method=X'
    for (let i = 0; i < 2; i++) {
      const r = signer.sign({ method: 'GET', url, nonce: 'n', timestamp: 1 })
      const canonical = DIALECTS.mastercard.canonicalize(url, undefined)
      const oauth = r.oauthParams.filter(([n]) => n !== 'oauth_signature')
      expect(r.signatureBaseString).toBe(
        DIALECTS.mastercard.baseString('GET', canonical.baseUri, canonical.parameterString(oauth)),
      )
      expect(r.signatureBaseString).toContain('oauth_version%3D1.0%26oauth_version%3D2')
    }
  })

  it('hashes the exact body bytes', () => {
    expect(computeBodyHash(null)).toBe('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=')
    expect(computeBodyHash('')).toBe(computeBodyHash(new Uint8Array(0)))
    expect(computeBodyHash('é')).toBe(computeBodyHash(Buffer.from([0xc3, 0xa9])))
    expect(computeBodyHash(Buffer.from([0xe9]))).not.toBe(computeBodyHash('é'))
  })
})

describe('Authorization header', () => {
  it('round-trips through build and parse', () => {
    const params = [
      ['oauth_body_hash', 'a+/='],
      ['oauth_consumer_key', 'ck!x'],
      ['oauth_signature', 'sig+/='],
    ] as const
    const header = buildAuthorizationHeader(params, { encode: 'signature-only', separator: ',' })
    expect(header).toBe('OAuth oauth_body_hash="a+/=",oauth_consumer_key="ck!x",oauth_signature="sig%2B%2F%3D"')
    expect(parseAuthorizationHeader(header).params).toEqual([
      ['oauth_body_hash', 'a+/='],
      ['oauth_consumer_key', 'ck!x'],
      ['oauth_signature', 'sig%2B%2F%3D'],
    ])
  })

  it.each([
    ['Bearer x', 'ERR_OAUTH1_HEADER_INVALID'],
    ['OAuth a=b', 'ERR_OAUTH1_HEADER_INVALID'],
    ['OAuth a="b",', 'ERR_OAUTH1_HEADER_INVALID'],
    ['OAuth a="b\\"c"', 'ERR_OAUTH1_HEADER_INVALID'],
    ['OAuth a="b" junk', 'ERR_OAUTH1_HEADER_INVALID'],
    ['OAuth a="b",a="c"', 'ERR_OAUTH1_PARAM_DUPLICATE'],
  ])('rejects %s', (header, code) => {
    expect(() => parseAuthorizationHeader(header)).toThrow(expect.objectContaining({ code }))
  })

  it('refuses a value that would break the header grammar', () => {
    expect(() => buildAuthorizationHeader([['oauth_consumer_key', 'a"b']], { encode: 'signature-only', separator: ',' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT' }),
    )
  })
})

describe('nonce', () => {
  it('is 22 base62 characters from the CSPRNG, fresh every time', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 2000; i++) {
      const n = generateNonce()
      expect(n).toMatch(/^[A-Za-z0-9]{22}$/)
      seen.add(n)
    }
    expect(seen.size).toBe(2000)
  })

  it('uses injected randomness deterministically and rejects biased bytes', () => {
    const fill = (b: Uint8Array) => b.fill(250) // >= 248: always rejected...
    let calls = 0
    const mixed = (b: Uint8Array) => {
      calls++
      return calls === 1 ? fill(b) : b.fill(1)
    }
    expect(generateNonce(mixed)).toBe('b'.repeat(22))
    expect(calls).toBe(2)
  })

  it('is close to uniform over the alphabet', () => {
    const counts = new Map<string, number>()
    for (let i = 0; i < 3000; i++) for (const c of generateNonce()) counts.set(c, (counts.get(c) ?? 0) + 1)
    expect(counts.size).toBe(62)
    const mean = (3000 * 22) / 62
    for (const n of counts.values()) expect(Math.abs(n - mean) / mean).toBeLessThan(0.25)
  })
})
