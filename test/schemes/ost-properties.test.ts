// Property tests for OST canonicalisation:
// 1. differential: ostCanonicalQuery (SDK order) equals the SDK's own recipe run with qs (stringify with
//    brackets and localeCompare, %20 -> +) for any params of strings, numbers, booleans, nested objects and
//    arrays of scalars;
// 2. round trip: whatever query style a client puts on the wire (repeat, brackets, indices), ostAuth signs
//    what the platform-faithful verifier rebuilds, for GET and for form POSTs.
import fc from 'fast-check'
import qs from 'qs'
import { describe, expect, it } from 'vitest'
import { createOstVerifier, ostAuth, ostCanonicalQuery } from '../../src/schemes/index.js'

const key = fc.stringMatching(/^[a-z][a-z_]{0,7}$/)
const text = fc.string({ unit: fc.constantFrom('a', 'Z', '9', ' ', '~', '*', "'", '(', '!', '&', '=', '+', '%', 'é', '€', '/', '?', '_', '-', '.'), maxLength: 12 })
const scalar = fc.oneof(text, fc.integer({ min: -1000, max: 1_000_000 }), fc.boolean())
const nonEmptyArray = fc.array(text, { minLength: 1, maxLength: 14 })
const nested = fc.dictionary(key, fc.oneof(scalar, nonEmptyArray), { minKeys: 1, maxKeys: 3 })
const params = fc.dictionary(key, fc.oneof(scalar, nonEmptyArray, nested), { maxKeys: 6 })

describe('ostCanonicalQuery against the SDK recipe with qs', () => {
  it('byte-identical for scalars, nested objects and arrays (past 10 elements too, where the SDK reorders: ost-18)', () => {
    fc.assert(
      fc.property(params, (p) => {
        const sdk = qs.stringify(p, { arrayFormat: 'brackets', sort: (a: string, b: string) => a.localeCompare(b, 'en-US') }).replace(/%20/g, '+')
        expect(ostCanonicalQuery(p)).toBe(sdk)
      }),
      { numRuns: 300 },
    )
  })
})

describe('ostAuth -> wire -> createOstVerifier', () => {
  const NOW = 1_700_000_000_000
  const base = 'https://api.example.com/testnet/v2'
  const context = { now: () => NOW, baseURL: new URL(base) }
  const auth = ostAuth({ apiKey: 'k1', apiSecret: 's1' })
  const verifier = createOstVerifier({ keys: { k1: 's1' }, basePath: '/testnet/v2', now: () => NOW })
  const wireParams = fc.dictionary(key, fc.oneof(text, fc.array(text, { minLength: 1, maxLength: 4 }), fc.dictionary(key, text, { minKeys: 1, maxKeys: 3 })), { maxKeys: 6 })
  const style = fc.constantFrom('repeat', 'brackets', 'indices') as fc.Arbitrary<'repeat' | 'brackets' | 'indices'>

  it('GET: any query style a generated client uses verifies', async () => {
    await fc.assert(
      fc.asyncProperty(wireParams, style, async (p, arrayFormat) => {
        const query = qs.stringify(p, { arrayFormat })
        const out = await auth.apply({ method: 'GET', url: new URL(`${base}/users${query === '' ? '' : `?${query}`}`), headers: {}, body: undefined }, context)
        const verdict = await verifier.verify({ method: 'GET', url: (out.url as URL).href, headers: {} })
        expect(verdict).toEqual({ ok: true, principal: 'k1' })
        // The platform reads back the same parameters the caller sent.
        const back = qs.parse((out.url as URL).search.slice(1)) as Record<string, unknown>
        for (const k of ['api_key', 'api_request_timestamp', 'api_signature_kind', 'api_signature']) delete back[k]
        expect(back).toEqual(qs.parse(query))
      }),
      { numRuns: 150 },
    )
  })

  it('POST: a form body verifies', async () => {
    await fc.assert(
      fc.asyncProperty(wireParams, async (p) => {
        const body = Buffer.from(qs.stringify(p, { arrayFormat: 'brackets' }))
        const out = await auth.apply({ method: 'POST', url: new URL(`${base}/transactions`), headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }, context)
        const verdict = await verifier.verify({ method: 'POST', url: `${base}/transactions`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: out.body })
        expect(verdict.ok).toBe(true)
      }),
      { numRuns: 150 },
    )
  })
})
