import { stat } from 'node:fs'
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { isApisignError } from '../../src/errors.js'
import { SIGNATURE_METHODS, type SignRequestOptions, signBaseString, signRequest, signRequestAsync, verifyBaseStringAsync } from '../../src/oauth1/index.js'
import { readShared } from '../helpers/shared.js'

const pem = readShared('keys/oauth1/private-key.pem').toString()
const key = createPrivateKey(pem)
const base: SignRequestOptions = {
  method: 'POST',
  url: 'https://sandbox.api.example.com/v1/payments?mode=sync',
  body: '{"amount":1}',
  consumerKey: 'ck!1',
  key,
}

describe('signRequestAsync never blocks the event loop', () => {
  it('a setImmediate scheduled just before it has fired by the time it resolves', async () => {
    // Start from the poll phase (an I/O callback), so the check phase (setImmediate) comes next and a
    // threadpool callback only in the next poll: deterministic whichever phase the runner was in.
    await new Promise((resolve) => stat('.', resolve))
    let fired = false
    setImmediate(() => {
      fired = true
    })
    await signRequestAsync(base)
    expect(fired).toBe(true)
  })

  it('(control) wrapping the sync call in a promise does not have that property', async () => {
    let fired = false
    setImmediate(() => {
      fired = true
    })
    await new Promise((resolve) => resolve(signRequest(base)))
    expect(fired).toBe(false)
  })

  it('runs several signatures concurrently and each verifies', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => signRequestAsync(base)))
    expect(new Set(results.map((r) => r.nonce)).size).toBe(8)
  })
})

function codeOf(options: SignRequestOptions): string {
  try {
    signRequest(options)
  } catch (error) {
    if (isApisignError(error)) {
      expect(error.message).not.toContain('PRIVATE KEY')
      return error.code
    }
    if (error instanceof TypeError) return `TypeError: ${error.message}`
    throw error
  }
  throw new Error('expected a failure')
}

describe('bad input gets a typed error', () => {
  it('relative URL and non-http schemes', () => {
    expect(codeOf({ ...base, url: '/v1/payments' })).toBe('ERR_INVALID_URL')
    expect(codeOf({ ...base, url: 'ftp://example.com/x' })).toBe('ERR_INVALID_URL')
    expect(codeOf({ ...base, url: 'https://' })).toBe('ERR_INVALID_URL')
    expect(codeOf({ ...base, dialect: 'compat', url: 'v1/payments' })).toBe('ERR_INVALID_URL')
  })
  it('lone surrogates in the URL, consumer key or body', () => {
    expect(codeOf({ ...base, url: 'https://a.example.com/\uD800' })).toBe('ERR_INVALID_INPUT')
    expect(codeOf({ ...base, consumerKey: 'ck\uDC00' })).toBe('ERR_INVALID_INPUT')
    expect(codeOf({ ...base, body: '{"a":"\uD83D"}' })).toBe('ERR_INVALID_INPUT')
  })
  it('unsupported method names', () => {
    for (const method of ['CONNECT', 'GE T', '', 'FOO']) expect(codeOf({ ...base, method })).toBe('ERR_INVALID_METHOD')
    expect(signRequest({ ...base, method: 'patch' }).signatureBaseString.startsWith('PATCH&')).toBe(true)
  })
  it('an object body is a TypeError that says to serialise first', () => {
    expect(codeOf({ ...base, body: { amount: 1 } as unknown as string })).toMatch(/^TypeError: .*serialise it first/)
  })
  it('wrong key types', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    expect(codeOf({ ...base, key: ec })).toBe('ERR_KEY_WRONG_TYPE')
    expect(codeOf({ ...base, key: createPublicKey(key) })).toBe('ERR_KEY_WRONG_TYPE')
    expect(codeOf({ ...base, key: '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n' })).toBe('ERR_KEY_INVALID')
  })
  it('bad timestamps and nonces', () => {
    expect(codeOf({ ...base, timestamp: 1.5 })).toBe('ERR_INVALID_INPUT')
    expect(codeOf({ ...base, timestamp: -1 })).toBe('ERR_INVALID_INPUT')
    expect(codeOf({ ...base, timestamp: '12a' })).toBe('ERR_INVALID_INPUT')
    expect(codeOf({ ...base, nonce: '' })).toBe('ERR_INVALID_INPUT')
    expect(codeOf({ ...base, nonce: 'a"b' })).toBe('ERR_INVALID_INPUT')
  })
  it('a signature method the dialect does not sign with', () => {
    expect(codeOf({ ...base, signatureMethod: 'HMAC-SHA1', consumerSecret: 's' })).toBe('ERR_UNSUPPORTED_ALGORITHM')
    expect(codeOf({ ...base, signatureMethod: 'RSA-SHA1' as 'RSA-SHA256' })).toBe('ERR_UNSUPPORTED_ALGORITHM')
  })
  it('programmer misuse', () => {
    expect(codeOf({ ...base, dialect: 'nope' as 'mastercard' })).toMatch(/^TypeError/)
    expect(codeOf({ ...base, bodyHash: false })).toMatch(/^TypeError/)
    const { key: _omitted, ...withoutKey } = base
    expect(codeOf(withoutKey)).toMatch(/^TypeError/)
  })
})

describe('the caller’s objects are never mutated', () => {
  it('leaves frozen options and a body buffer untouched', () => {
    const body = Buffer.from('{"a":1}')
    const copy = Buffer.from(body)
    const options = Object.freeze({ ...base, body })
    const r = signRequest(options)
    expect(Buffer.compare(body, copy)).toBe(0)
    expect(options.url).toBe(base.url)
    expect(r.bodyHash).toBeDefined()
  })
  it('a URL object is not modified by dropping its fragment', () => {
    const url = new URL('https://a.example.com/x?y=1#frag')
    signRequest({ ...base, url })
    expect(url.hash).toBe('#frag')
  })
})


describe('verifyBaseStringAsync', () => {
  const sbs = 'POST&https%3A%2F%2Fapi.example.com%2Fv1&a%3D1'
  const rsa = SIGNATURE_METHODS['RSA-SHA256']
  const publicKey = createPublicKey(key)
  it('RSA: true for a good signature (base64 or bytes), false for a wrong one, bad base64 or a broken key', async () => {
    const signature = signBaseString(sbs, rsa, { key })
    expect(await verifyBaseStringAsync(sbs, signature, rsa, { key: publicKey })).toBe(true)
    expect(await verifyBaseStringAsync(Buffer.from(sbs), Buffer.from(signature, 'base64'), SIGNATURE_METHODS['RSA-SHA256'], { key: publicKey })).toBe(true)
    expect(await verifyBaseStringAsync(`${sbs}&b`, signature, rsa, { key: publicKey })).toBe(false)
    expect(await verifyBaseStringAsync(sbs, 'not base64!', rsa, { key: publicKey })).toBe(false)
    expect(await verifyBaseStringAsync(sbs, signature, SIGNATURE_METHODS['RSA-PSS'], { key: publicKey })).toBe(false)
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    await expect(verifyBaseStringAsync(sbs, signature, rsa, { key: ec.publicKey })).rejects.toThrow()
  })
  it('HMAC and PLAINTEXT compare inline; a missing secret rejects', async () => {
    const material = { consumerSecret: 'cs', tokenSecret: 'ts' }
    const hmac = SIGNATURE_METHODS['HMAC-SHA256']
    expect(await verifyBaseStringAsync(sbs, signBaseString(sbs, hmac, material), hmac, material)).toBe(true)
    expect(await verifyBaseStringAsync(sbs, 'AAAA', hmac, material)).toBe(false)
    await expect(verifyBaseStringAsync(sbs, 'AAAA', hmac, {} as never)).rejects.toThrow()
  })
})

describe('the one-shot signRequest keeps the signer it built (issue 15 item 7)', () => {
  const fixed = { ...base, nonce: 'fixednonce', timestamp: 1_700_000_000 }
  it('gives what a fresh signer gives, for every option that makes a signer', () => {
    const pemKey = pem
    for (const options of [fixed, { ...fixed, key: pemKey }, { ...fixed, consumerKey: 'ck!2' }, { ...fixed, dialect: 'compat' as const }, { ...fixed, signatureMethod: 'RSA-PSS' as const }]) {
      const first = signRequest(options)
      const again = signRequest(options)
      if (options.signatureMethod !== 'RSA-PSS') expect(again.authorizationHeader).toBe(first.authorizationHeader)
      expect(again.signatureBaseString).toBe(first.signatureBaseString)
      expect(first.oauthParams.find(([n]) => n === 'oauth_consumer_key')?.[1]).toBe(options.consumerKey)
    }
    expect(signRequest({ ...fixed, consumerKey: 'ck!2' }).authorizationHeader).not.toBe(signRequest(fixed).authorizationHeader)
  })
  it('a different clock or randomness is a different signer; HMAC secrets are never cached', () => {
    const at = (ms: number) => signRequest({ ...base, now: () => ms }).timestamp
    expect([at(1_000_000), at(2_000_000)]).toEqual(['1000', '2000'])
    const hmac = { method: 'GET', url: 'https://api.example.com/x', consumerKey: 'ck', dialect: 'rfc5849' as const, signatureMethod: 'HMAC-SHA256' as const, nonce: 'n', timestamp: 1 }
    expect(signRequest({ ...hmac, consumerSecret: 'a' }).signature).not.toBe(signRequest({ ...hmac, consumerSecret: 'b' }).signature)
  })
  it('many consumer keys on one key stay bounded and correct', () => {
    for (let i = 0; i < 40; i++) expect(signRequest({ ...fixed, consumerKey: `ck!${i}` }).oauthParams.find(([n]) => n === 'oauth_consumer_key')?.[1]).toBe(`ck!${i}`)
    for (let i = 0; i < 40; i++) expect(signRequest({ ...fixed, key: pem, consumerKey: `pem!${i}` }).oauthParams.find(([n]) => n === 'oauth_consumer_key')?.[1]).toBe(`pem!${i}`)
  })
})
