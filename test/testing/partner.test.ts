// Issue 14 item 4: the mock gateway as the partner: its own key pair, a clock offset to rehearse skew,
// typed errors for what a newcomer gets wrong (a spec path, a port in use), and `apisign mock --profile`.
import { spawn } from 'node:child_process'
import { createPublicKey } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { makeCerts } from '../../certs-example/make-certs.mjs'
import { parseClockOffset } from '../../src/cli/mock-partner.js'
import { runCli } from '../../src/cli/run.js'
import { createClient } from '../../src/http/index.js'
import { loadSigningKey } from '../../src/keys/index.js'
import { partnerView, startMockGateway } from '../../src/testing/index.js'
import { failure } from '../helpers/failure.js'
import { REPO_ROOT } from '../helpers/shared.js'

const dir = mkdtempSync(join(tmpdir(), 'apisign-partner-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const certs = makeCerts({ outDir: dir })
const spec = join(REPO_ROOT, 'openapi/payments-mini.yaml')
const key = loadSigningKey(certs.signingKey)
const consumers = { 'ck!p': { key: createPublicKey(key) } }
const auth = { scheme: 'oauth1', consumerKey: 'ck!p', key } as const
// The client's view: it encrypts the card to the partner's certificate and decrypts with its own key.
const clientEncryption = {
  mode: 'JWE', encryptedValueFieldName: 'encryptedData',
  paths: [{ path: '/payments$', toEncrypt: [{ element: 'card', obj: 'encryptedCard' }], toDecrypt: [] }, { path: '/payments/[^/]+$', toEncrypt: [], toDecrypt: [{ element: 'status', obj: 'status' }] }],
  encryptionCertificate: certs.partnerEncryptionCert, privateKey: certs.encryptionKey,
}

describe('the partner\'s own keys', () => {
  it('decrypts requests with its key and encrypts answers to the client\'s certificate', async () => {
    const gateway = await startMockGateway({ spec, consumers, encryption: clientEncryption, partnerKeys: { decryptionKey: certs.partnerEncryptionKey, encryptionCertificate: certs.encryptionCert } })
    try {
      const api = createClient({ baseURL: gateway.url, auth, encryption: clientEncryption })
      const card = { pan: '5123456789012345', expiry: '12/30' }
      expect((await api.post('/payments', { amount: 1, currency: 'EUR', card })).status).toBe(201)
      expect((gateway.requests.at(-1)?.body as { card: unknown }).card).toEqual(card)
      const got = await api.get('/payments/pay_1')
      expect(typeof (got.data as { status: unknown }).status).toBe('string')
      // Without the client's decryption, the status field is a JWE for the client's certificate.
      const raw = await createClient({ baseURL: gateway.url, auth }).get('/payments/pay_1')
      expect((raw.data as { status: { encryptedData: string } }).status.encryptedData.split('.')).toHaveLength(5)
    } finally {
      await gateway.close()
    }
  })
  it('without them, a client that encrypts to the partner cannot be read (400), which is why the CLI asks for them', async () => {
    const gateway = await startMockGateway({ spec, consumers, encryption: clientEncryption })
    try {
      const error = await createClient({ baseURL: gateway.url, auth, encryption: clientEncryption, retry: false }).post('/payments', { amount: 1, card: { pan: '1' } }).catch((e: unknown) => e)
      expect((error as { details?: { status?: number } }).details?.status).toBe(400)
    } finally {
      await gateway.close()
    }
  })
  it('partnerView swaps the client\'s keys for the partner\'s in both config forms, and checks them', () => {
    const keys = { decryptionKey: 'partner.pem', encryptionCertificate: 'client.crt' }
    const mce = partnerView({ ...clientEncryption, publicKeyFingerprint: 'kid-of-partner', keyStore: 'x.p12', keyStorePassword: 'p' }, keys)
    expect(mce).toMatchObject({ privateKey: 'partner.pem', encryptionCertificate: 'client.crt' })
    expect(mce).not.toHaveProperty('keyStore')
    expect(mce).not.toHaveProperty('publicKeyFingerprint')
    expect((mce['paths'] as Array<{ toDecrypt: unknown }>)[0]?.toDecrypt).toEqual([{ element: 'encryptedCard', obj: 'card' }])
    const typed = partnerView({ endpoints: [{ path: '/p', encrypt: [{ from: 'a', to: 'b' }] }], encryptionCertificate: 'partner.crt', decryptionKey: 'mine.pem', kid: 'k' }, keys)
    expect(typed).toEqual({ endpoints: [{ path: '/p', encrypt: [], decrypt: [{ from: 'b', to: 'a' }] }], encryptionCertificate: 'client.crt', decryptionKey: 'partner.pem' })
    expect(() => partnerView(clientEncryption, { decryptionKey: 'x' } as never)).toThrow(TypeError)
  })
})

describe('clock offset', () => {
  it('a partner clock 600 s ahead: the first call is refused as stale, the client learns the skew from Date and the retry passes', async () => {
    const gateway = await startMockGateway({ spec, consumers, clockOffsetMs: 600_000 })
    try {
      const response = await createClient({ baseURL: gateway.url, auth }).get('/payments/pay_1')
      expect(response.status).toBe(200)
      expect(gateway.requests.map((r) => r.status)).toEqual([401, 200])
      expect(gateway.requests[0]?.code).toBe('ERR_OAUTH1_TIMESTAMP_STALE')
      expect(Math.abs(Date.parse(String(response.headers['date'])) - (Date.now() + 600_000))).toBeLessThan(5_000)
    } finally {
      await gateway.close()
    }
  })
  it('NaN or a string is a TypeError; the CLI reads 600s, -90s, 10m, 1500ms', async () => {
    await expect(startMockGateway({ spec, consumers, clockOffsetMs: Number.NaN })).rejects.toThrow(TypeError)
    await expect(startMockGateway({ spec, consumers, clockOffsetMs: '600s' as never })).rejects.toThrow(TypeError)
    expect([parseClockOffset('600s', 'x'), parseClockOffset('-90s', 'x'), parseClockOffset('10m', 'x'), parseClockOffset('1500ms', 'x'), parseClockOffset('5', 'x')]).toEqual([600_000, -90_000, 600_000, 1500, 5000])
    expect(failure(() => parseClockOffset('soon', '--clock-offset')).code).toBe('ERR_CLI_USAGE')
  })
})

describe('typed errors a newcomer can act on', () => {
  it('a missing spec file, a folder as the spec: the code names the file', async () => {
    const missing = join(dir, 'nope.yaml')
    const e1 = await startMockGateway({ spec: missing, consumers }).catch((e: unknown) => e)
    expect({ code: (e1 as { code?: string }).code, named: (e1 as Error).message.includes(missing) }).toEqual({ code: 'ERR_FILE_NOT_FOUND', named: true })
    const e2 = await startMockGateway({ spec: dir, consumers }).catch((e: unknown) => e)
    expect({ code: (e2 as { code?: string }).code, named: (e2 as Error).message.includes(dir) }).toEqual({ code: 'ERR_FILE_UNREADABLE', named: true })
  })
  it('apisign mock with a missing spec or a bad port: the typed error on stderr, exit 1/2, no ERR_INTERNAL', async () => {
    const err: string[] = []
    const missing = join(dir, 'missing.yaml')
    const code = await runCli(['mock', '--spec', missing, '--consumer-key', 'ck', '--public-key', certs.signingCert, '--json'], { stdout: () => undefined, stderr: (s) => void err.push(s), cwd: dir })
    expect(code).toBe(1)
    expect(JSON.parse(err.join(''))).toEqual({ error: { code: 'ERR_FILE_NOT_FOUND', message: `spec file ${missing} cannot be read (ENOENT)` } })
    const err2: string[] = []
    expect(await runCli(['mock', '--spec', spec, '--consumer-key', 'ck', '--public-key', certs.signingCert, '--port', 'http', '--json'], { stdout: () => undefined, stderr: (s) => void err2.push(s), cwd: dir })).toBe(2)
    expect(JSON.parse(err2.join('')).error.code).toBe('ERR_CLI_USAGE')
  })
  it('a port in use is ERR_PORT_IN_USE naming the port; a bad port a TypeError', async () => {
    const first = await startMockGateway({ spec, consumers })
    try {
      const port = Number(new URL(first.url).port)
      const e = await startMockGateway({ spec, consumers, port }).catch((error: unknown) => error)
      expect(failure(() => { throw e })).toEqual({ code: 'ERR_PORT_IN_USE', message: `port ${port} on 127.0.0.1 is in use; pick another with port (or 0 for a free one)` })
      await expect(startMockGateway({ spec, consumers, port: 70_000 })).rejects.toThrow(TypeError)
    } finally {
      await first.close()
    }
  })
})

describe('apisign mock --profile (the built binary) is the profile\'s partner', () => {
  it('encryption config from the profile, partner keys, HTTPS with mTLS, a clock offset', async () => {
    const cfg = mkdtempSync(join(dir, 'cli-'))
    writeFileSync(join(cfg, 'encryption.json'), JSON.stringify({ ...clientEncryption, encryptionCertificate: certs.partnerEncryptionCert, privateKey: certs.encryptionKey }))
    const profileFile = (baseURL: string) =>
      JSON.stringify({ profiles: { sandbox: { environment: 'sandbox', baseURL, auth: { scheme: 'oauth1', consumerKey: 'ck!p', key: { path: certs.signingKey } }, encryption: { configFile: './encryption.json' }, tls: { ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey } } } })
    writeFileSync(join(cfg, 'apisign.config.json'), profileFile('https://127.0.0.1:1/mini'))
    const args = ['mock', '--spec', spec, '--profile', 'sandbox', '--partner-key', certs.partnerEncryptionKey, '--client-certificate', certs.encryptionCert, '--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--tls-client-ca', certs.caCert, '--clock-offset', '-90s', '--json']
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/cli/main.js'), ...args], { cwd: cfg, stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { url: string }).url))
        child.once('exit', (c) => reject(new Error(`mock exited ${c}`)))
      })
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/mini$/)
      const { loadProfile } = await import('../../src/profiles/index.js')
      writeFileSync(join(cfg, 'apisign.config.json'), profileFile(url))
      const profile = await loadProfile('sandbox', { cwd: cfg, env: {} })
      const created = await createClient(profile).post('/payments', { amount: 1, currency: 'EUR', card: { pan: '5123456789012345', expiry: '12/30' } })
      expect(created.status).toBe(201)
      expect(Math.abs(Date.parse(String(created.headers['date'])) - (Date.now() - 90_000))).toBeLessThan(5_000)
    } finally {
      child.kill('SIGTERM')
    }
  })
})
