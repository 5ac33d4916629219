import { describe, expect, it } from 'vitest'
import { ostCanonicalQuery, ostSignature, ostStringToSign, signOstRequest, signWebhook, verifyWebhook } from '../../src/schemes/index.js'
import { readSharedJson } from '../helpers/shared.js'

interface Case {
  id: string
  kind: 'request' | 'service' | 'official'
  input: { method?: string; resource?: string; params: Record<string, unknown>; apiKey?: string; apiSecret: string; apiEndpoint?: string; nowMs?: number }
  expected: { stringToSign: string; api_signature: string; signedQuery?: string; signedResource?: string; formattedQuery?: string; wire?: { method: string; path: string; body: string } }
}
interface WebhookCase {
  id: string
  name: string
  input: { version: string; timestamp: string; rawBody: string; signatureHeader: string; verifySecret?: string; verifySecrets?: string[]; nowMs?: number }
  expected: { stringToSign: string; computedSignature?: string; recommendedListVerifier?: boolean; jsSdkVerifySignature?: boolean }
}
const file = readSharedJson<{ cases: Case[]; webhookCases: WebhookCase[] }>('vectors/ost-vectors.json')

/** The vectors' JSON tags: {"$undefined":true} is a JS undefined, {"$date":ISO} a Date. */
function untag(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(untag)
  if (value !== null && typeof value === 'object') {
    if ((value as { $undefined?: boolean }).$undefined === true) return undefined
    if (typeof (value as { $date?: unknown }).$date === 'string') return new Date((value as { $date: string }).$date)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, untag(v)]))
  }
  return value
}

describe('OST request vectors (official SDK v2.2.3 output)', () => {
  for (const c of file.cases) {
    it(`${c.id} (${c.kind})`, () => {
      const params = untag(c.input.params) as Record<string, unknown>
      if (c.kind === 'official') {
        // The SDK's own KAT: no api_* parameters, the resource as given.
        const sts = ostStringToSign(c.input.resource as string, ostCanonicalQuery(params))
        expect(sts).toBe(c.expected.stringToSign)
        expect(ostSignature(sts, c.input.apiSecret)).toBe(c.expected.api_signature)
        return
      }
      if (c.kind === 'service') {
        // The SDK moves user_id / chain_id into the path and drops them from the params (not webhook_id).
        delete params['user_id']
        delete params['chain_id']
      }
      const signed = signOstRequest({
        method: c.input.method as string,
        resource: c.expected.signedResource ?? (c.input.resource as string),
        params,
        apiKey: c.input.apiKey as string,
        apiSecret: c.input.apiSecret,
        baseUrl: c.input.apiEndpoint as string,
        nowMs: c.input.nowMs as number,
      })
      expect(signed.stringToSign).toBe(c.expected.stringToSign)
      expect(signed.signature).toBe(c.expected.api_signature)
      expect(signed.signedQuery).toBe(c.expected.signedQuery)
      if (c.expected.wire !== undefined) {
        expect(new URL(signed.url).pathname + new URL(signed.url).search).toBe(c.expected.wire.path)
        expect(signed.body).toBe(c.expected.wire.body)
      }
    })
  }
})

describe('OST webhook vectors', () => {
  for (const w of file.webhookCases) {
    it(`${w.id}: ${w.name}`, () => {
      const secrets = w.input.verifySecrets ?? (w.input.verifySecret === undefined ? [] : [w.input.verifySecret])
      if (w.expected.computedSignature !== undefined && secrets[0] !== undefined) {
        expect(signWebhook({ secret: secrets[0], timestamp: w.input.timestamp, version: w.input.version, rawBody: w.input.rawBody })).toBe(w.expected.computedSignature)
      }
      if (w.expected.recommendedListVerifier !== undefined) {
        const result = verifyWebhook({
          secrets,
          timestamp: w.input.timestamp,
          version: w.input.version,
          signature: w.input.signatureHeader,
          rawBody: w.input.rawBody,
          nowMs: w.input.nowMs ?? Number(w.input.timestamp) * 1000,
        })
        expect(result.valid).toBe(w.expected.recommendedListVerifier)
      }
    })
  }

  it('refuses a parsed object instead of the raw body', () => {
    expect(() => verifyWebhook({ secrets: ['s'], timestamp: '1', version: 'v2', signature: 'x', rawBody: { a: 1 } as unknown as string, nowMs: 1000 })).toThrow(TypeError)
  })

  it('rotation: the previous secret verifies until its grace period ends, and not after', () => {
    const rawBody = '{"id":"1"}'
    const ts = '1700000000'
    const signature = signWebhook({ secret: 'old-secret', timestamp: ts, version: 'v2', rawBody })
    const secrets = ['new-secret', { secret: 'old-secret', notAfter: 1_700_000_100_000 }]
    expect(verifyWebhook({ secrets, timestamp: ts, version: 'v2', signature, rawBody, nowMs: 1_700_000_050_000 })).toEqual({ valid: true, matchedSecretIndex: 1 })
    const late = '1700000200'
    const lateSignature = signWebhook({ secret: 'old-secret', timestamp: late, version: 'v2', rawBody })
    expect(verifyWebhook({ secrets, timestamp: late, version: 'v2', signature: lateSignature, rawBody, nowMs: 1_700_000_200_000 }).valid).toBe(false)
  })

  it('rejects a stale delivery', () => {
    const signature = signWebhook({ secret: 's', timestamp: '1700000000', version: 'v2', rawBody: '{}' })
    expect(verifyWebhook({ secrets: ['s'], timestamp: '1700000000', version: 'v2', signature, rawBody: '{}', nowMs: 1_700_000_000_000 + 301_000 })).toMatchObject({ valid: false, reason: 'stale' })
  })
})
