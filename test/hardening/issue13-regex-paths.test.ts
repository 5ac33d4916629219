// Issue 13 item 12: an encryption config's path patterns are matched against the path only, from a URL
// whose length is capped before matching; unanchored `.*` patterns are warned about, once.
import { describe, expect, it } from 'vitest'
import { createEncryption } from '../../src/encryption/index.js'
import { failure } from '../helpers/failure.js'
import { readShared } from '../helpers/shared.js'

const keys = { encryptionCertificate: readShared('keys/encryption/certificate.pem'), privateKey: readShared('keys/encryption/private-key-pkcs8.pem') }
const config = (path: string) => ({ mode: 'JWE', encryptedValueFieldName: 'encryptedData', paths: [{ path, toEncrypt: [{ element: 'card', obj: 'enc' }], toDecrypt: [] }], ...keys })

describe('issue 13 item 12: regex paths match the path only, length-capped, with a warning for unanchored .*', () => {
  it('an absolute URL is matched by its path: an anchored pattern matches it, the host and query never do', () => {
    const anchored = createEncryption(config('^/v1/payments$'), { onWarning: () => undefined })
    expect(anchored.matches('https://api.example.com/v1/payments').encrypt).toBe(true)
    expect(anchored.matches('https://api.example.com:8443/v1/payments?mode=sync#top').encrypt).toBe(true)
    expect(anchored.matches('/v1/payments#frag').encrypt).toBe(true)
    const loose = createEncryption(config('payments'), { onWarning: () => undefined })
    expect(loose.matches('https://payments.example.com/v1/refunds').encrypt).toBe(false)
    expect(loose.matches('/v1/refunds?next=/payments').encrypt).toBe(false)
    expect(loose.matches('/v1/refunds#payments').encrypt).toBe(false)
  })
  it('a URL over the cap is refused before any pattern runs', () => {
    const enc = createEncryption(config('^/v1/payments$'), { onWarning: () => undefined })
    const long = `/v1/payments?${'a'.repeat(9000)}`
    expect(failure(() => enc.encrypt({ url: long, body: { card: 1 } })).code).toBe('ERR_INPUT_TOO_LARGE')
    expect(failure(() => enc.matches(`/${'x'.repeat(9000)}`)).code).toBe('ERR_INPUT_TOO_LARGE')
  })
  it('an unanchored .* pattern is warned about once; an anchored one is not', () => {
    const warnings: string[] = []
    const onWarning = (m: string) => void warnings.push(m)
    createEncryption(config('.*/i13-unanchored$'), { onWarning })
    createEncryption(config('.*/i13-unanchored$'), { onWarning })
    createEncryption(config('^/v1/.*/i13-anchored$'), { onWarning })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/unanchored \.\*/)
  })
})
