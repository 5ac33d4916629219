// Issue 14 item 5: TLS and mTLS as production uses them. The mock gateway serves HTTPS with a certificate
// from the local test CA that `npm run certs` makes, optionally requiring client certificates; the client
// (createClient's tls, a profile's tls) trusts that CA and presents its certificate.
import { createPublicKey } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { inspect } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeCerts } from '../../certs-example/make-certs.mjs'
import { createClient, createFetch, createHttpsAgent, resolveClientTls, streamBody } from '../../src/http/index.js'
import { loadSigningKey } from '../../src/keys/index.js'
import { loadProfile } from '../../src/profiles/index.js'
import { type MockGateway, startMockGateway } from '../../src/testing/index.js'
import { failure } from '../helpers/failure.js'
import { REPO_ROOT } from '../helpers/shared.js'

const dir = mkdtempSync(join(tmpdir(), 'apisign-tls-'))
const other = mkdtempSync(join(tmpdir(), 'apisign-tls-other-'))
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
  rmSync(other, { recursive: true, force: true })
})
const certs = makeCerts({ outDir: dir })
const stranger = makeCerts({ outDir: other }) // another CA: its client certificate must be refused
const spec = join(REPO_ROOT, 'openapi/payments-mini.yaml')
const key = loadSigningKey(certs.signingKey)
const consumers = { 'ck!tls': { key: createPublicKey(key) } }
const auth = { scheme: 'oauth1', consumerKey: 'ck!tls', key } as const
const p12Password = readFileSync(certs.clientKeystorePassword, 'utf8').trim()

describe('HTTPS mock gateway with a certificate from the local test CA', () => {
  let gateway: MockGateway
  beforeAll(async () => {
    gateway = await startMockGateway({ spec, consumers, tls: { cert: certs.serverCert, key: certs.serverKey } })
  })
  afterAll(() => gateway.close())

  it('serves https; a client trusting the CA gets a verified, signed answer', async () => {
    expect(gateway.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/mini$/)
    const api = createClient({ baseURL: gateway.url, auth, tls: { ca: certs.caCert } })
    const { status } = await api.get('/payments/p1')
    expect(status).toBe(200)
    expect(gateway.requests.at(-1)).toMatchObject({ status: 200, principal: 'ck!tls' })
  })
  it('a client that does not trust the CA refuses the connection (validation is never off)', async () => {
    const api = createClient({ baseURL: gateway.url, auth, retry: false })
    const error = (await api.get('/payments/p1').catch((e: unknown) => e)) as { code?: string }
    expect(error.code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/)
  })
})

describe('mTLS: the gateway requires a client certificate from its CA', () => {
  let gateway: MockGateway
  beforeAll(async () => {
    gateway = await startMockGateway({ spec, consumers, tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.caCert, requireClientCertificate: true } })
  })
  afterAll(() => gateway.close())

  it('cert + key files', async () => {
    const api = createClient({ baseURL: gateway.url, auth, tls: { ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey } })
    expect((await api.get('/payments/p1')).status).toBe(200)
  })
  it('an error from an mTLS client, dumped with every hidden field, shows no key material', async () => {
    const api = createClient({ baseURL: gateway.url, auth, tls: { ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey }, retry: false })
    const error = await api.get('/nowhere').catch((e: unknown) => e)
    const dump = inspect(error, { showHidden: true, depth: 12, maxStringLength: Infinity, maxArrayLength: Infinity })
    const keyBody = readFileSync(certs.clientKey, 'utf8').split('\n')[3] as string
    expect(dump).toContain('404')
    expect(dump).not.toContain('PRIVATE KEY')
    expect(dump).not.toContain(keyBody)
  })
  it('a PKCS#12 keystore with its passphrase, and PEM content instead of paths', async () => {
    const viaP12 = createClient({ baseURL: gateway.url, auth, tls: { ca: readFileSync(certs.caCert, 'utf8'), pfx: readFileSync(certs.clientKeystore), passphrase: p12Password } })
    expect((await viaP12.get('/payments/p1')).status).toBe(200)
  })
  it('no client certificate, or one from another CA: the handshake fails, nothing is served', async () => {
    const before = gateway.requests.length
    for (const tls of [{ ca: certs.caCert }, { ca: certs.caCert, cert: stranger.clientCert, key: stranger.clientKey }]) {
      const api = createClient({ baseURL: gateway.url, auth, tls, retry: false })
      const error = (await api.get('/payments/p1').catch((e: unknown) => e)) as { code?: string; response?: unknown }
      expect(error).toBeInstanceOf(Error)
      expect(error.response).toBeUndefined()
    }
    expect(gateway.requests.length).toBe(before)
  })
  it('createFetch over mTLS (undici with the same secure context); without a certificate it fails', async () => {
    const signedFetch = createFetch({ baseURL: gateway.url, auth, tls: { ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey } })
    const response = await signedFetch('/payments/p1')
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ id: expect.any(String) })
    const bare = createFetch({ baseURL: gateway.url, auth, tls: { ca: certs.caCert }, retry: false })
    await expect(bare('/payments/p1')).rejects.toThrow()
    expect(() => createFetch({ baseURL: gateway.url, auth, tls: { ca: certs.caCert }, fetch: globalThis.fetch })).toThrow(TypeError)
  })
  it('createFetch over mTLS: a streamed upload (sent through node:https, not fetch) carries the same TLS settings', async () => {
    const signedFetch = createFetch({ baseURL: gateway.url, auth, tls: { ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey }, limits: { streamThreshold: 16 } })
    const json = JSON.stringify({ amount: 1000, currency: 'EUR', reference: 'x'.repeat(64) })
    const response = await signedFetch('/payments', { method: 'POST', headers: { 'content-type': 'application/json' }, body: streamBody(() => Readable.from([Buffer.from(json)]), { size: Buffer.byteLength(json) }) as unknown as NonNullable<RequestInit["body"]> })
    expect(response.status).toBeLessThan(300)
    const seen = gateway.requests.at(-1)
    expect(seen).toMatchObject({ method: 'POST', status: response.status })
  })
  it('a profile with tls (cert + key, or p12 + passphrase from the environment) calls it', async () => {
    const cfgDir = mkdtempSync(join(dir, 'profile-'))
    const profiles = {
      profiles: {
        sandbox: { environment: 'sandbox', baseURL: gateway.url, auth: { scheme: 'oauth1', consumerKey: 'ck!tls', key: { path: certs.signingKey } }, tls: { ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey } },
        'sandbox-p12': { environment: 'sandbox', baseURL: gateway.url, auth: { scheme: 'oauth1', consumerKey: 'ck!tls', key: { path: certs.signingKey } }, tls: { ca: certs.caCert, p12: certs.clientKeystore, passphrase: { env: 'CLIENT_P12_PASSWORD' } } },
      },
    }
    writeFileSync(join(cfgDir, 'apisign.config.json'), JSON.stringify(profiles))
    for (const name of ['sandbox', 'sandbox-p12']) {
      const profile = await loadProfile(name, { cwd: cfgDir, env: { CLIENT_P12_PASSWORD: p12Password } })
      expect(JSON.stringify(profile)).not.toContain(p12Password)
      expect((await createClient(profile).get('/payments/p1')).status).toBe(200)
      expect((await createFetch(profile)('/payments/p1')).status).toBe(200)
    }
  })
})

describe('TLS options are checked when the client is built', () => {
  it('a key that is not the certificate\'s is ERR_KEY_MISMATCH', () => {
    expect(failure(() => resolveClientTls({ cert: certs.clientCert, key: certs.serverKey }))).toEqual({ code: 'ERR_KEY_MISMATCH', message: 'tls: the client key does not match the client certificate' })
  })
  it('a wrong or missing PKCS#12 passphrase is ERR_KEY_PASSWORD, naming no secret', () => {
    const wrong = failure(() => createHttpsAgent({ pfx: certs.clientKeystore, passphrase: 'not-it' }))
    expect(wrong).toEqual({ code: 'ERR_KEY_PASSWORD', message: 'tls: pfx is encrypted and the passphrase is wrong' })
    expect(failure(() => createHttpsAgent({ pfx: certs.clientKeystore })).code).toBe('ERR_KEY_PASSWORD')
  })
  it('cert without key, key without cert, pfx with cert, a missing file, garbage', () => {
    expect(failure(() => resolveClientTls({ cert: certs.clientCert })).message).toBe('tls: cert needs its key')
    expect(failure(() => resolveClientTls({ key: certs.clientKey })).message).toBe('tls: key needs its cert')
    expect(failure(() => resolveClientTls({ pfx: certs.clientKeystore, cert: certs.clientCert })).message).toBe('tls: give either pfx or cert + key, not both')
    expect(failure(() => resolveClientTls({ ca: join(dir, 'nope.pem') })).code).toBe('ERR_FILE_NOT_FOUND')
    expect(failure(() => resolveClientTls({ ca: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' })).code).toBe('ERR_CERT_INVALID')
    expect(failure(() => resolveClientTls({ ca: Buffer.from('not a certificate') })).code).toBe('ERR_CERT_INVALID')
    expect(failure(() => resolveClientTls({ cert: certs.clientCert, key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' })).code).toBe('ERR_CONFIG_INVALID')
    expect(() => resolveClientTls({ ca: 42 as never })).toThrow(TypeError)
  })
  it('a client key file readable by others is refused unless told', () => {
    const loose = join(dir, 'loose-key.pem')
    writeFileSync(loose, readFileSync(certs.clientKey), { mode: 0o644 })
    expect(failure(() => resolveClientTls({ cert: certs.clientCert, key: loose })).code).toBe('ERR_KEY_FILE_PERMISSIONS')
    expect(() => resolveClientTls({ cert: certs.clientCert, key: loose, keyFilePermissions: 'ignore' })).not.toThrow()
  })
  it('tls and axios.httpsAgent together is a TypeError; requireClientCertificate without ca too', async () => {
    expect(() => createClient({ baseURL: 'https://127.0.0.1:1', auth, tls: { ca: certs.caCert }, axios: { httpsAgent: createHttpsAgent({}) } })).toThrow(TypeError)
    await expect(startMockGateway({ spec, consumers, tls: { cert: certs.serverCert, key: certs.serverKey, requireClientCertificate: true } })).rejects.toThrow(TypeError)
  })
  it('profile tls mistakes: unknown option, inline passphrase, unset variable, p12 without passphrase, mismatched pair', async () => {
    const cfgDir = mkdtempSync(join(dir, 'bad-'))
    const base = { environment: 'sandbox', baseURL: 'https://sandbox.example.com', auth: { scheme: 'oauth1', consumerKey: 'ck', key: { path: certs.signingKey } } }
    const cases: Array<[unknown, string, RegExp]> = [
      [{ ca: certs.caCert, certificate: certs.clientCert }, 'ERR_PROFILE_INVALID', /tls\.certificate is not a tls option/],
      [{ p12: certs.clientKeystore, passphrase: 'inline' }, 'ERR_PROFILE_INVALID', /tls\.passphrase must be \{ "env": "NAME" \}/],
      [{ p12: certs.clientKeystore, passphrase: { env: 'UNSET_P12' } }, 'ERR_PROFILE_INVALID', /UNSET_P12 is not set/],
      [{ p12: certs.clientKeystore }, 'ERR_PROFILE_INVALID', /needs tls\.passphrase/],
      [{ cert: certs.clientCert, key: certs.serverKey }, 'ERR_KEY_MISMATCH', /tls\.key does not match tls\.cert/],
      [{ cert: certs.clientCert }, 'ERR_PROFILE_INVALID', /tls\.cert needs tls\.key/],
      [{ ca: join(dir, 'missing-ca.pem') }, 'ERR_FILE_NOT_FOUND', /tls\.ca .*missing-ca\.pem does not exist/],
      [{ p12: certs.clientKeystore, passphrase: { env: 'P' } }, 'ERR_KEY_PASSWORD', /^profile p: tls\.p12: /],
    ]
    for (const [tls, code, message] of cases) {
      writeFileSync(join(cfgDir, 'apisign.config.json'), JSON.stringify({ profiles: { p: { ...base, tls } } }))
      const error = await loadProfile('p', { cwd: cfgDir, env: { P: 'wrong' } }).catch((e: unknown) => e)
      expect({ code: (error as { code?: string }).code, ok: message.test((error as Error).message) }, (error as Error).message).toEqual({ code, ok: true })
    }
  })
})
