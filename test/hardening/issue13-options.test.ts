// Issue 13 items 1, 8, 10 and 11: options validated when built, the exact window edge, the dummy key off
// the request path, typed rejections for malformed received requests, CLI usage errors.
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { runCli } from '../../src/cli/run.js'
import { createClient } from '../../src/http/index.js'
import { parseDuration } from '../../src/index.js'
import { type SignRequestOptions, signRequest } from '../../src/oauth1/index.js'
import { createOstVerifier, signJwt, signWebhook, verifyJwt } from '../../src/schemes/index.js'
import { startMockGateway } from '../../src/testing/index.js'
import {
  type ReceivedRequest,
  createApiKeyVerifier,
  createBasicVerifier,
  createBearerTokenVerifier,
  createJwtBearerVerifier,
  createMemoryNonceStore,
  createOAuth1Verifier,
  createRedisNonceStore,
  createSigV4Verifier,
  verifyWebhook,
} from '../../src/verify/index.js'
import { receivedFactory } from '../helpers/oauth1-requests.js'
import { readShared, sharedPath } from '../helpers/shared.js'

const key = createPrivateKey(readShared('keys/oauth1/private-key.pem'))
const publicKey = createPublicKey(key)
const NOW = 1_800_000_000_000
const base: SignRequestOptions = { method: 'POST', url: 'https://api.example.com/v1/payments', body: '{"a":1}', consumerKey: 'ck!known', key, now: () => NOW }
const received = receivedFactory(base)
const consumers = { 'ck!known': { key: publicKey } }
// What an unset environment variable, a typo and a sign slip turn into.
const BAD = [Number.NaN, Number(process.env['APISIGN_SURELY_UNSET']), 'abc', '5 min', '-5m', -1, '300', null, {}, true]

describe('issue 13 item 1: every window, tolerance, TTL and limit option is validated when built', () => {
  it('the OAuth1 verifier refuses NaN, junk strings and negatives for clockSkewSeconds and limits', () => {
    for (const value of [...BAD, Number.POSITIVE_INFINITY]) {
      expect(() => createOAuth1Verifier({ consumers, clockSkewSeconds: value as never }), String(value)).toThrow(TypeError)
    }
    for (const name of ['maxBodyBytes', 'maxHeaderBytes', 'maxUrlBytes']) {
      expect(() => createOAuth1Verifier({ consumers, limits: { [name]: Number.NaN } })).toThrow(new RegExp(`limits.${name}`))
    }
  })
  it('a NaN window no longer disables the timestamp check nor makes the memory store forget (it cannot be built)', async () => {
    expect(() => createOAuth1Verifier({ consumers, now: () => NOW, clockSkewSeconds: Number.NaN })).toThrow(/clockSkewSeconds/)
    const store = createMemoryNonceStore()
    await expect(store.checkAndRecord('n', Number.NaN)).rejects.toThrow(TypeError)
    await expect(store.checkAndRecord('n', undefined as never)).rejects.toThrow(TypeError)
    expect(() => createMemoryNonceStore({ maxEntries: Number.NaN })).toThrow(/maxEntries/)
    expect(() => createRedisNonceStore({ redis: 'redis://127.0.0.1:1', restartQuarantineMs: Number.NaN })).toThrow(/restartQuarantineMs/)
  })
  it('duration strings are parsed strictly, and mean the same as the number', async () => {
    expect(parseDuration('5m')).toBe(300_000)
    expect(parseDuration('1.5s')).toBe(1500)
    expect(parseDuration('250ms')).toBe(250)
    for (const text of ['5', '5 m', '5M', '+5m', '5m ', '1e3s', '0x10s', '']) expect(() => parseDuration(text), text).toThrow(TypeError)
    const v = createOAuth1Verifier({ consumers, now: () => NOW, clockSkewSeconds: '5m' })
    const stale = await v.verify(received({ now: () => NOW - 301_000 }))
    expect(stale.ok === false && stale.code).toBe('ERR_OAUTH1_TIMESTAMP_STALE')
    expect((await v.verify(received({ now: () => NOW - 299_000 }))).ok).toBe(true)
  })
  it('the webhook tolerance, the JWT clock tolerance and every scheme verifier refuse NaN', () => {
    const webhook = { secrets: ['s'.repeat(32)], timestamp: String(NOW / 1000), version: 'v2', signature: '0'.repeat(64), rawBody: '{}', nowMs: NOW }
    for (const value of BAD) expect(() => verifyWebhook({ ...webhook, toleranceSeconds: value as never }), String(value)).toThrow(TypeError)
    // Documented: Infinity disables the webhook freshness check (no SDK checks it).
    expect(verifyWebhook({ ...webhook, toleranceSeconds: Number.POSITIVE_INFINITY }).reason).toBe('signature')
    const token = signJwt({ secret: 's'.repeat(32), payload: { exp: NOW / 1000 - 3600 }, onWarning: () => undefined })
    for (const value of BAD) expect(() => verifyJwt(token, { secrets: ['s'.repeat(32)], nowMs: NOW, clockToleranceSeconds: value as never }), String(value)).toThrow(TypeError)
    expect(() => verifyJwt(token, { secrets: ['s'.repeat(32)], maxLength: Number.NaN })).toThrow(/maxLength/)
    expect(() => createJwtBearerVerifier({ keys: {}, clockToleranceSeconds: Number.NaN })).toThrow(/clockToleranceSeconds/)
    expect(() => createSigV4Verifier({ credentials: {}, region: 'r', service: 's', clockSkewSeconds: 'abc' })).toThrow(/clockSkewSeconds/)
    expect(() => createOstVerifier({ keys: {}, validitySeconds: Number.NaN })).toThrow(/validitySeconds/)
    expect(() => createOstVerifier({ keys: {}, maxFutureSeconds: Number.NaN })).toThrow(/maxFutureSeconds/)
    expect(() => createOstVerifier({ keys: {}, limits: { maxBodyBytes: -1 } })).toThrow(/maxBodyBytes/)
  })
  it('a stale webhook with a NaN-free tolerance is still stale (the check stays on)', () => {
    const secret = 's'.repeat(32)
    const timestamp = String(NOW / 1000 - 301)
    const signature = signWebhook({ secret, timestamp, version: 'v2', rawBody: '{}' })
    expect(verifyWebhook({ secrets: [secret], timestamp, version: 'v2', signature, rawBody: '{}', nowMs: NOW, toleranceSeconds: '5m' }).reason).toBe('stale')
  })
  it('the client refuses NaN timeouts, limits and retry budgets', () => {
    const auth = { scheme: 'oauth1' as const, consumerKey: 'ck', key }
    expect(() => createClient({ baseURL: 'https://api.example.com', auth, timeout: Number.NaN })).toThrow(/timeout/)
    expect(() => createClient({ baseURL: 'https://api.example.com', auth, limits: { maxBodyLength: Number.NaN } })).toThrow(/maxBodyLength/)
    expect(() => createClient({ baseURL: 'https://api.example.com', auth, limits: { maxContentLength: -1 } })).toThrow(/maxContentLength/)
    expect(() => createClient({ baseURL: 'https://api.example.com', auth, retry: { deadlineMs: Number.NaN } })).toThrow(/deadlineMs/)
    expect(() => createClient({ baseURL: 'https://api.example.com', auth, retry: { retries: 1.5 } })).toThrow(/retries/)
    expect(() => createClient({ baseURL: 'https://api.example.com', auth: { scheme: 'jwt-bearer', apiKey: 'k', secret: 's', expiresIn: Number.NaN } })).toThrow(/expiresIn/)
    expect(() => createClient({ baseURL: 'https://api.example.com', auth: { scheme: 'bearer-token', fetch: async () => ({ token: 't', expiresAtMs: 0 }), refreshBeforeMs: Number.NaN } })).toThrow(/refreshBeforeMs/)
  })
  it('a profile with a NaN limit or retry budget is refused at load', async () => {
    const { loadProfile } = await import('../../src/profiles/index.js')
    const { chmodSync, copyFileSync } = await import('node:fs')
    const dir = mkdtempSync(join(tmpdir(), 'apisign-i13-profile-'))
    try {
      copyFileSync(sharedPath('keys/oauth1/private-key.pem'), join(dir, 'k.pem'))
      chmodSync(join(dir, 'k.pem'), 0o600)
      const profile = (extra: object) => ({ environment: 'sandbox', baseURL: 'https://sandbox.api.example.com', auth: { scheme: 'oauth1', consumerKey: 'ck', key: { path: './k.pem' } }, ...extra })
      // JSON has no NaN, but an apisign.config.mjs computing Number(process.env.X) does.
      for (const extra of [{ limits: { maxBodyLength: Number.NaN } }, { retry: { deadlineMs: Number.NaN } }, { limits: { maxContentLength: -1 } }]) {
        writeFileSync(join(dir, 'apisign.config.mjs'), `export default { profiles: { sandbox: ${JSON.stringify(profile(extra)).replace('null', 'NaN')} } }`)
        chmodSync(join(dir, 'apisign.config.mjs'), 0o644)
        await expect(loadProfile('sandbox', { cwd: dir, env: {} }), JSON.stringify(extra)).rejects.toMatchObject({ code: 'ERR_PROFILE_INVALID' })
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
  it('the mock gateway refuses a NaN rate limit', async () => {
    await expect(startMockGateway({ spec: { paths: {} }, consumers, rateLimit: { requests: Number.NaN, perMs: 1000 } })).rejects.toThrow(/rateLimit.requests/)
  })
  it('the exact window edge: a nonce outlives every timestamp the window still accepts', async () => {
    let t = NOW
    const v = createOAuth1Verifier({ consumers, now: () => t, nonceStore: createMemoryNonceStore({ now: () => t }) })
    // Stamped at the future edge (now + 300 s), accepted now; that timestamp stays acceptable until
    // now + 600 s inclusive, so a replay at exactly that instant must still be a replay.
    const r = received({ now: () => NOW + 300_000, nonce: 'edge' })
    expect((await v.verify(r)).ok).toBe(true)
    t = NOW + 600_000
    const replay = await v.verify(r)
    expect(replay.ok === false && replay.code).toBe('ERR_OAUTH1_NONCE_REPLAY')
    t = NOW + 600_001
    const later = await v.verify(r)
    expect(later.ok === false && later.code).toBe('ERR_OAUTH1_TIMESTAMP_STALE')
  })
})

describe('issue 13 item 1 (CLI): bad numeric flags are usage errors (exit 2); durations mean what they say', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apisign-i13-cli-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const run = async (argv: string[]) => {
    const out: string[] = []
    const err: string[] = []
    const code = await runCli(argv, { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), cwd: dir, env: {} })
    return { code, stdout: out.join(''), stderr: err.join('') }
  }
  const url = 'https://api.example.com/v1/x'
  // Stamped in 2001.
  const signed = signRequest({ method: 'GET', url, consumerKey: 'ck!cli', key, timestamp: 1_000_000_000, nonce: 'old' })
  writeFileSync(join(dir, 'headers.json'), JSON.stringify({ Authorization: signed.authorizationHeader }))
  const verify = ['verify', '--method', 'GET', '--url', url, '--headers-file', 'headers.json', '--consumer-key', 'ck!cli', '--public-key', sharedPath('keys/oauth1/public-key.pem'), '--json']
  it('apisign verify --clock-skew 5m refuses a request stamped in 2001', async () => {
    const r = await run([...verify, '--clock-skew', '5m'])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: false, code: 'ERR_OAUTH1_TIMESTAMP_STALE' })
  })
  it('junk windows, clocks and ports are usage errors', async () => {
    for (const argv of [
      [...verify, '--clock-skew', 'abc'],
      [...verify, '--clock-skew', '-5'],
      [...verify, '--now-ms', 'soon'],
      ['ost', 'verify-webhook', '--secret-file', 'x', '--timestamp', '1', '--version', 'v2', '--signature', 'ab', '--body-file', 'x', '--tolerance-seconds', 'NaN'],
      ['jwt', 'sign', '--secret-env', 'S', '--payload-json', '{}', '--expires-in', 'soon'],
      ['mock', '--spec', 'x.yaml', '--consumer-key', 'c', '--public-key', 'k', '--port', 'eighty'],
    ]) {
      const r = await run(argv)
      expect(r.code, argv.join(' ')).toBe(2)
      expect(JSON.parse(r.stderr).error.code).toBe('ERR_CLI_USAGE')
    }
  })
})

describe('issue 13 item 8: unknown consumers', () => {
  // The longest the event loop was blocked while `fn` ran: a 1 ms interval's largest gap (a synchronous
  // RSA-2048 generateKeyPairSync blocks for hundreds of ms; an RSA verify takes well under 5 ms).
  async function maxBlockMs(fn: () => Promise<unknown>): Promise<number> {
    let last = performance.now()
    let max = 0
    const timer = setInterval(() => {
      const t = performance.now()
      max = Math.max(max, t - last)
      last = t
    }, 1)
    await new Promise((r) => setTimeout(r, 5))
    await fn()
    await new Promise((r) => setTimeout(r, 20))
    clearInterval(timer)
    return max
  }
  it('the dummy key is made when the verifier is built, never synchronously on the request path', async () => {
    // Requests signed beforehand: only the verifier runs while the event loop is watched.
    const unknown = [0, 1, 2].map((i) => received({ consumerKey: `ck!first-unknown-${i}` }))
    // The smallest of three attempts, each in a fresh copy of the verifier module (no dummy key made yet
    // in it), so a busy machine's occasional stall is not mistaken for a blocking key generation
    // (generateKeyPairSync for RSA-2048 blocks for 100 ms to 1 s; an RSA verify takes a few ms).
    let blocked = Number.POSITIVE_INFINITY
    for (const request of unknown) {
      vi.resetModules()
      const fresh = (await import('../../src/schemes/oauth1-verifier.js')) as typeof import('../../src/schemes/oauth1-verifier.js')
      blocked = Math.min(
        blocked,
        await maxBlockMs(async () => {
          const v = fresh.createOAuth1Verifier({ consumers, now: () => NOW })
          const first = await v.verify(request)
          expect(first.ok === false && first.code).toBe('ERR_OAUTH1_UNKNOWN_CONSUMER')
        }),
      )
    }
    expect(blocked).toBeLessThan(60)
  })
  it("unknownConsumer: 'signature-invalid' answers exactly as for a bad signature; the default is the gateway's own code", async () => {
    const faithful = createOAuth1Verifier({ consumers, now: () => NOW })
    const unknown = await faithful.verify(received({ consumerKey: 'ck!nobody' }))
    expect(unknown.ok === false && unknown.code).toBe('ERR_OAUTH1_UNKNOWN_CONSUMER')
    const quiet = createOAuth1Verifier({ consumers, now: () => NOW, unknownConsumer: 'signature-invalid', debug: true })
    const a = await quiet.verify(received({ consumerKey: 'ck!nobody', nonce: 'same' }))
    const b = await quiet.verify(received({ key: generateOtherKey(), nonce: 'same' }))
    const strip = (r: typeof a) => (r.ok ? r : { code: r.code, message: r.message.replace(/ck%21\w+/g, 'CK'), sbs: typeof r.acceptableSignatureBaseString })
    expect(strip(a)).toEqual(strip(b))
    expect(a.ok === false && a.code).toBe('ERR_OAUTH1_SIGNATURE_INVALID')
    expect(() => createOAuth1Verifier({ consumers, unknownConsumer: 'maybe' as never })).toThrow(TypeError)
  })
  it("the mock gateway's 401 body follows the option", async () => {
    const spec = { servers: [{ url: 'http://localhost/api' }], paths: { '/x': { get: { responses: { '200': { description: 'ok' } } } } } }
    for (const [option, reason] of [[undefined, 'ERR_OAUTH1_UNKNOWN_CONSUMER'], ['signature-invalid', 'ERR_OAUTH1_SIGNATURE_INVALID']] as const) {
      const gateway = await startMockGateway({ spec, consumers, ...(option === undefined ? {} : { unknownConsumer: option }) })
      try {
        const s = signRequest({ method: 'GET', url: `${gateway.url}/x`, consumerKey: 'ck!nobody', key })
        const res = await fetch(s.url, { headers: { authorization: s.authorizationHeader } })
        expect(res.status).toBe(401)
        const body = (await res.json()) as { Errors: { Error: Array<{ ReasonCode: string }> } }
        expect(body.Errors.Error[0]?.ReasonCode).toBe(reason)
      } finally {
        await gateway.close()
      }
    }
  })
})

let otherKey: ReturnType<typeof createPrivateKey> | undefined
function generateOtherKey() {
  otherKey ??= createPrivateKey(readShared('keys/encryption/private-key-pkcs8.pem'))
  return otherKey
}

describe('issue 13 item 10: typed rejections for any input', () => {
  const good = received()
  const malformed: Array<[string, unknown]> = [
    ['a numeric header value', { ...good, headers: { authorization: 42 } }],
    ['a null header', { ...good, headers: { authorization: null } }],
    ['a list with a number', { ...good, headers: { authorization: [good.headers['authorization'], 7] } }],
    ['null headers', { ...good, headers: null }],
    ['a numeric body', { ...good, body: 12345 }],
    ['an object body', { ...good, body: { a: 1 } }],
    ['a numeric URL', { ...good, url: 42 }],
    ['a missing method', { ...good, method: undefined }],
    ['null', null],
  ]
  const verifiers = {
    oauth1: createOAuth1Verifier({ consumers, now: () => NOW }),
    ost: createOstVerifier({ keys: { k: 's' } }),
    jwtBearer: createJwtBearerVerifier({ keys: { k: 's' } }),
    apiKey: createApiKeyVerifier({ keys: ['k'] }),
    basic: createBasicVerifier({ users: { u: 'p' } }),
    bearer: createBearerTokenVerifier({ tokens: ['t'] }),
    sigv4: createSigV4Verifier({ credentials: { AKID: 's' }, region: 'r', service: 's' }),
  }
  for (const [name, verifier] of Object.entries(verifiers)) {
    it(`${name}: non-string header values, a null header, a numeric body are { ok: false, code }, never a throw`, async () => {
      for (const [what, request] of malformed) {
        const verdict = await verifier.verify(request as ReceivedRequest)
        expect(verdict, what).toMatchObject({ ok: false, code: 'ERR_INVALID_INPUT' })
      }
    })
  }
})

describe('issue 13 item 11: a missing required option is a usage error (2) for every command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apisign-i13-usage-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const run = async (argv: string[]) => {
    const err: string[] = []
    const code = await runCli(argv, { stdout: () => undefined, stderr: (s) => void err.push(s), cwd: dir, env: {} })
    return { code, stderr: err.join('') }
  }
  it('each command with nothing given', async () => {
    for (const argv of [['oauth1', 'sign'], ['keys', 'inspect'], ['encrypt'], ['decrypt'], ['jwe', 'decrypt'], ['verify'], ['mock'], ['generate'], ['ost', 'sign'], ['ost', 'verify-webhook'], ['jwt', 'sign'], ['call']]) {
      const r = await run(argv)
      expect(r.code, argv.join(' ')).toBe(2)
    }
  })
  it('options a command needs for the chosen method', async () => {
    const url = ['--method', 'GET', '--url', 'https://api.example.com/x', '--consumer-key', 'ck']
    for (const argv of [
      ['oauth1', 'sign', ...url],
      ['oauth1', 'sign', ...url, '--signature-method', 'RSA-PSS'],
      ['oauth1', 'sign', ...url, '--dialect', 'rfc5849', '--signature-method', 'HMAC-SHA1'],
      ['oauth1', 'sign', ...url, '--signature-method', 'NONE'],
      ['ost', 'sign', '--method', 'GET', '--resource', '/users', '--api-key', 'k'],
      ['jwt', 'sign', '--payload-json', '{}'],
      ['mock', '--spec', 'x.yaml', '--consumer-key', 'c'],
    ]) {
      const r = await run(argv)
      expect(r.code, argv.join(' ')).toBe(2)
      expect(JSON.parse(r.stderr).error.code).toBe('ERR_CLI_USAGE')
    }
  })
})
