// Issue 13 item 7: canonical signatures only. decodeBase64Strict rejects non-zero pad bits (RFC 4648
// §3.5), so a signature (and a body hash) has one accepted spelling.
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { decodeBase64Strict, signRequest } from '../../src/oauth1/index.js'
import { createOAuth1Verifier } from '../../src/verify/index.js'
import { readShared } from '../helpers/shared.js'

const key = createPrivateKey(readShared('keys/oauth1/private-key.pem'))
const NOW = 1_800_000_000_000
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** The same bytes spelled with non-zero pad bits: bump the last character before the padding. */
function nonCanonical(b64: string): string {
  const pad = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0
  const at = b64.length - pad - 1
  const index = ALPHABET.indexOf(b64[at] as string)
  return `${b64.slice(0, at)}${ALPHABET[index + 1] as string}${b64.slice(at + 1)}`
}

describe('issue 13 item 7: canonical signatures only (decodeBase64Strict rejects non-zero pad bits)', () => {
  it('decodeBase64Strict', () => {
    expect(decodeBase64Strict('aGk=')).toEqual(Buffer.from('hi'))
    expect(decodeBase64Strict('aGl=')).toBeUndefined()
    expect(decodeBase64Strict('aA==')).toEqual(Buffer.from('h'))
    for (const text of ['aB==', 'aP==', 'YWJjZB==']) expect(decodeBase64Strict(text), text).toBeUndefined()
    expect(Buffer.from('aGl=', 'base64')).toEqual(Buffer.from('hi')) // what a lenient decoder reads
  })
  it('the verifier refuses a signature or a body hash respelled with non-zero pad bits', async () => {
    const url = 'https://api.example.com/v1/x'
    const signed = signRequest({ method: 'POST', url, body: '{"a":1}', consumerKey: 'ck', key, now: () => NOW, nonce: 'pad' })
    const verifier = () => createOAuth1Verifier({ consumers: { ck: { key: createPublicKey(key) } }, now: () => NOW })
    const request = (authorization: string) => ({ method: 'POST', url, headers: { authorization }, body: '{"a":1}' })
    // Respell a parameter in the header as it is written there (percent-encoded or not).
    const respell = (name: string) =>
      signed.authorizationHeader.replace(new RegExp(`${name}="([^"]+)"`), (_m, raw: string) => {
        const padding = /(%3D|=)+$/.exec(raw)?.[0] ?? ''
        const body = raw.slice(0, raw.length - padding.length)
        return `${name}="${nonCanonical(`${body}${'='.repeat(padding.length === 0 ? 0 : padding.includes('%') ? padding.length / 3 : padding.length)}`).slice(0, body.length)}${padding}"`
      })
    const signature = decodeURIComponent(/oauth_signature="([^"]+)"/.exec(signed.authorizationHeader)?.[1] as string)
    expect(signature).toMatch(/==$/) // 256 bytes: 4 pad bits in the last character
    expect(Buffer.from(nonCanonical(signature), 'base64')).toEqual(Buffer.from(signature, 'base64'))
    for (const [name, code] of [['oauth_signature', 'ERR_OAUTH1_SIGNATURE_INVALID'], ['oauth_body_hash', 'ERR_BODY_HASH_MISMATCH']] as const) {
      const respelled = respell(name)
      expect(respelled).not.toBe(signed.authorizationHeader)
      expect(await verifier().verify(request(respelled)), name).toMatchObject({ ok: false, code })
    }
    expect(await verifier().verify(request(signed.authorizationHeader))).toMatchObject({ ok: true })
  })
})
