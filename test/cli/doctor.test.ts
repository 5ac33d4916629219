// apisign doctor against each broken set-up integrators report (issue 9), and apisign call against the
// mock gateway. Keys are the shared test keys; the expired certificate is made here with node-forge.
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import forge from 'node-forge'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runDoctor } from '../../src/cli/doctor.js'
import { runCli } from '../../src/cli/run.js'
import { type MockGateway, startMockGateway } from '../../src/testing/index.js'
import { REPO_ROOT, readShared, sharedPath } from '../helpers/shared.js'

const dir = mkdtempSync(join(tmpdir(), 'apisign-doctor-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const SIGNING_PEM = readShared('keys/oauth1/private-key.pem').toString()

function privateFile(name: string, content: string | Buffer, mode = 0o600): string {
  const path = join(dir, name)
  writeFileSync(path, content)
  chmodSync(path, mode)
  return path
}

function certificate(keyPem: string, notBefore: Date, notAfter: Date, cn: string): string {
  const key = createPrivateKey(keyPem)
  const cert = forge.pki.createCertificate()
  cert.publicKey = forge.pki.publicKeyFromPem(createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString())
  cert.serialNumber = '01'
  cert.validity.notBefore = notBefore
  cert.validity.notAfter = notAfter
  cert.setSubject([{ name: 'commonName', value: cn }])
  cert.setIssuer([{ name: 'commonName', value: cn }])
  cert.sign(forge.pki.privateKeyFromPem(key.export({ type: 'pkcs1', format: 'pem' }).toString()), forge.md.sha256.create())
  return forge.pki.certificateToPem(cert)
}

interface Setup {
  environment?: string
  baseURL?: string
  keyMode?: number
  certificate?: string
  encryptionCertificate?: string
}
function writeProfile(setup: Setup = {}): void {
  privateFile('signing.pem', SIGNING_PEM, setup.keyMode ?? 0o600)
  writeFileSync(join(dir, 'signing-cert.pem'), setup.certificate ?? readShared('keys/oauth1/certificate.pem'))
  writeFileSync(join(dir, 'enc-cert.pem'), setup.encryptionCertificate ?? readShared('keys/encryption/certificate.pem'))
  privateFile('dec-key.pem', readShared('keys/encryption/private-key-pkcs8.pem'))
  writeFileSync(
    join(dir, 'encryption.json'),
    JSON.stringify({ mode: 'jwe', encryptionCertificate: './enc-cert.pem', decryptionKey: './dec-key.pem', endpoints: [{ path: '/payments', encrypt: [{ from: 'card', to: 'encryptedCard' }] }] }),
  )
  writeFileSync(
    join(dir, 'apisign.config.json'),
    JSON.stringify({
      defaultProfile: 'p',
      profiles: {
        p: {
          environment: setup.environment ?? 'sandbox',
          baseURL: setup.baseURL ?? 'https://sandbox.api.example.com',
          auth: { scheme: 'oauth1', consumerKeyEnv: 'CK', certificate: './signing-cert.pem', key: { path: './signing.pem' } },
          encryption: { configFile: './encryption.json' },
        },
      },
    }),
  )
}
const env = { CK: 'ck!doctor' }
const statusOf = (report: Awaited<ReturnType<typeof runDoctor>>, id: string) => report.checks.find((c) => c.id === id)?.status

async function cli(argv: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(argv, { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), cwd: dir, env })
  return { code, stdout: out.join(''), stderr: err.join('') }
}

describe('apisign doctor', () => {
  it('a healthy profile passes every check and exits 0', async () => {
    writeProfile()
    const r = await cli(['doctor', '--json'])
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: Array<{ id: string; status: string; message: string }> }
    expect(r.code).toBe(0)
    expect(report.ok).toBe(true)
    expect(Object.fromEntries(report.checks.map((c) => [c.id, c.status]))).toEqual({
      environment: 'pass', profile: 'pass', host: 'pass', 'key-permissions': 'pass', 'signing-key': 'pass', 'key-certificate': 'pass', 'signing-certificate': 'pass',
      'encryption-certificate': 'pass', 'decryption-key-permissions': 'pass', 'decryption-key': 'pass',
    })
    expect(report.checks.find((c) => c.id === 'encryption-certificate')?.message).toMatch(/kid [0-9a-f]{64}/)
    const human = await cli(['doctor'])
    expect(human.stdout).toMatch(/^PASS {2}profile/m)
    expect(human.stdout).toContain('no failures')
  })

  it('a key that does not match the certificate the partner holds: fail, with both fingerprints', async () => {
    writeProfile({ certificate: readShared('keys/encryption/other-certificate.pem').toString() })
    const r = await cli(['doctor', '--json'])
    expect(r.code).toBe(1)
    const check = (JSON.parse(r.stdout) as { checks: Array<{ id: string; status: string; message: string; fix: string }> }).checks.find((c) => c.id === 'key-certificate')
    expect(check).toMatchObject({ status: 'fail', message: expect.stringContaining('does not match'), fix: expect.stringContaining('CSR') })
    // --cert overrides the profile's certificate
    expect((await cli(['doctor', '--cert', sharedPath('keys/oauth1/certificate.pem')])).code).toBe(0)
  })

  it('an expired encryption certificate: fail; one expiring within 30 days: warn', async () => {
    const encKey = readShared('keys/encryption/private-key-pkcs8.pem').toString()
    writeProfile({ encryptionCertificate: certificate(encKey, new Date('2024-01-01'), new Date('2025-01-01'), 'partner-encryption') })
    let report = await runDoctor({ cwd: dir, env })
    expect(statusOf(report, 'encryption-certificate')).toBe('fail')
    expect(report.checks.find((c) => c.id === 'encryption-certificate')?.message).toContain('expired on 2025-01-01')
    expect(report.ok).toBe(false)
    writeProfile({ encryptionCertificate: certificate(encKey, new Date(Date.now() - 86_400_000), new Date(Date.now() + 10 * 86_400_000), 'partner-encryption') })
    report = await runDoctor({ cwd: dir, env })
    expect(statusOf(report, 'encryption-certificate')).toBe('warn')
    expect(report.ok).toBe(true)
    // Time is injected: the healthy certificate, eleven years on.
    writeProfile()
    expect(statusOf(await runDoctor({ cwd: dir, env, now: () => Date.parse('2037-01-01') }), 'encryption-certificate')).toBe('fail')
  })

  it('the decryption key against the certificate the partner encrypts responses to (encryption.decryptionCertificate)', async () => {
    writeProfile()
    const config = JSON.parse(readFileSync(join(dir, 'apisign.config.json'), 'utf8'))
    config.profiles.p.encryption.decryptionCertificate = sharedPath('keys/encryption/certificate.pem')
    writeFileSync(join(dir, 'apisign.config.json'), JSON.stringify(config))
    expect(statusOf(await runDoctor({ cwd: dir, env }), 'decryption-certificate')).toBe('pass')
    config.profiles.p.encryption.decryptionCertificate = sharedPath('keys/encryption/other-certificate.pem')
    writeFileSync(join(dir, 'apisign.config.json'), JSON.stringify(config))
    const report = await runDoctor({ cwd: dir, env })
    expect(report.checks.find((c) => c.id === 'decryption-certificate')).toMatchObject({ status: 'fail', message: expect.stringContaining('ERR_JWE_DECRYPTION_FAILED') })
    expect(report.ok).toBe(false)
  })

  it('a world-readable key file: fail with the chmod fix (and the key is still inspected)', async () => {
    writeProfile({ keyMode: 0o644 })
    const report = await runDoctor({ cwd: dir, env })
    expect(report.checks.find((c) => c.id === 'key-permissions')).toMatchObject({ status: 'fail', fix: `chmod 600 ${join(dir, 'signing.pem')}` })
    expect(statusOf(report, 'signing-key')).toBe('pass')
    expect((await cli(['doctor'])).code).toBe(1)
  })

  it('a sandbox host in a production profile: fail; http in production: fail', async () => {
    writeProfile({ environment: 'production', baseURL: 'https://sandbox.api.example.com' })
    expect((await runDoctor({ cwd: dir, env })).checks.find((c) => c.id === 'host')).toMatchObject({ status: 'fail', message: expect.stringContaining('sandbox/test host') })
    writeProfile({ environment: 'production', baseURL: 'http://api.example.com' })
    expect(statusOf(await runDoctor({ cwd: dir, env }), 'host')).toBe('fail')
    writeProfile({ environment: 'sandbox', baseURL: 'https://api.example.com' })
    expect(statusOf(await runDoctor({ cwd: dir, env }), 'host')).toBe('warn')
  })

  it('a malformed config or a missing profile: fail with the code, no crash', async () => {
    writeFileSync(join(dir, 'apisign.config.json'), '{ not json')
    const r = await cli(['doctor', '--json'])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, checks: [{ id: 'profile', status: 'fail', message: expect.stringContaining('ERR_CONFIG_INVALID') }] })
    writeProfile()
    expect((await runDoctor({ cwd: dir, env, profile: 'nope' })).checks[0]).toMatchObject({ id: 'profile', status: 'fail', message: expect.stringContaining('ERR_PROFILE_NOT_FOUND') })
    expect(statusOf(await runDoctor({ cwd: dir, env: {} }), 'profile')).toBe('fail') // CK unset
  })

  it('a profile of another scheme: each secret reference must resolve (values never shown)', async () => {
    writeFileSync(join(dir, 'apisign.config.json'), JSON.stringify({ profiles: { ost: { environment: 'sandbox', baseURL: 'https://sandbox.api.example.com/ost/v2', auth: { scheme: 'ost', apiKey: 'k1', apiSecret: { env: 'OST_SECRET' } } } } }))
    const good = await runDoctor({ cwd: dir, env: { OST_SECRET: 'the-ost-secret' }, profile: 'ost' })
    expect(good.ok).toBe(true)
    expect(good.checks.find((c) => c.id === 'credential-apiSecret')).toMatchObject({ status: 'pass' })
    expect(JSON.stringify(good)).not.toContain('the-ost-secret')
    const unset = await runDoctor({ cwd: dir, env: {}, profile: 'ost' })
    expect(unset.checks.find((c) => c.id === 'profile')).toMatchObject({ status: 'fail', message: expect.stringContaining('OST_SECRET') })
  })

  it('never prints a secret or key material', async () => {
    writeProfile({ keyMode: 0o644, certificate: readShared('keys/encryption/other-certificate.pem').toString() })
    const r = await cli(['doctor'])
    const all = r.stdout + r.stderr
    expect(all).not.toContain('PRIVATE KEY')
    expect(all).not.toMatch(/MII[A-Za-z0-9+/]{20}/)
  })
})

describe('apisign doctor --online', () => {
  let gateway: MockGateway
  beforeAll(async () => {
    gateway = await startMockGateway({ spec: join(REPO_ROOT, 'openapi/payments-mini.yaml'), consumers: { 'ck!doctor': { key: createPublicKey(createPrivateKey(SIGNING_PEM)) } } })
  })
  afterAll(() => gateway.close())

  it('the clock and a signed probe against the mock gateway pass; a wrong key fails the probe', async () => {
    writeProfile({ baseURL: gateway.url })
    const report = await runDoctor({ cwd: dir, env, online: true, probePath: '/payments/pay_1' })
    expect(statusOf(report, 'clock')).toBe('pass')
    expect(statusOf(report, 'probe')).toBe('pass')
    privateFile('signing.pem', readShared('keys/encryption/other-private-key-pkcs8.pem'))
    writeFileSync(join(dir, 'signing-cert.pem'), readShared('keys/encryption/other-certificate.pem'))
    const bad = await runDoctor({ cwd: dir, env, online: true, probePath: '/payments/pay_1' })
    expect(bad.checks.find((c) => c.id === 'probe')).toMatchObject({ status: 'fail', message: expect.stringContaining('ERR_SIGNATURE_MISMATCH') })
    // Without --probe-path the base URL itself is probed: the gateway authenticates before it routes.
    const base = await runDoctor({ cwd: dir, env, online: true })
    expect(base.checks.find((c) => c.id === 'probe')).toMatchObject({ status: 'fail' })
  })

  it('a server whose Date is 10 minutes off: the clock check fails', async () => {
    const server = createServer((_req, res) => res.writeHead(200, { date: new Date(Date.now() + 600_000).toUTCString() }).end())
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      writeProfile({ baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })
      const report = await runDoctor({ cwd: dir, env, online: true })
      expect(report.checks.find((c) => c.id === 'clock')).toMatchObject({ status: 'fail', message: expect.stringMatching(/^this clock is (59\d|60\d)\.\d s behind/) })
      expect(report.ok).toBe(false)
    } finally {
      server.close()
    }
  })
})

describe('apisign call', () => {
  let gateway: MockGateway
  beforeAll(async () => {
    gateway = await startMockGateway({ spec: join(REPO_ROOT, 'openapi/payments-mini.yaml'), consumers: { 'ck!doctor': { key: createPublicKey(createPrivateKey(SIGNING_PEM)) } } })
  })
  afterAll(() => gateway.close())

  it('GET with --query, POST with --data @file, --verbose shows the base string, never the Authorization', async () => {
    writeProfile({ baseURL: gateway.url })
    const get = await cli(['call', 'GET', '/payments/pay_9', '--query', 'expand=card', '--verbose'])
    expect(get.code).toBe(0)
    expect(get.stdout).toMatch(/^HTTP 200/)
    expect(get.stdout).toContain(`"id": "pay_123"`)
    expect(get.stderr).toMatch(/> signature base string: GET&http%3A%2F%2F127\.0\.0\.1%3A\d+%2Fmini%2Fpayments%2Fpay_9&expand%3Dcard%26oauth_body_hash/)
    expect(get.stdout + get.stderr).not.toMatch(/oauth_signature="/)
    writeFileSync(join(dir, 'body.json'), JSON.stringify({ amount: 1000, currency: 'EUR' }))
    const post = await cli(['call', 'POST', '/payments', '--data', '@body.json', '--json'])
    expect(post.code).toBe(0)
    expect(JSON.parse(post.stdout)).toMatchObject({ status: 201 })
    expect(gateway.requests.at(-1)).toMatchObject({ method: 'POST', status: 201, body: { amount: 1000, currency: 'EUR' } })
  })

  it('a wrong key: non-zero exit with the gateway status and code', async () => {
    // The profile's key and certificate agree with each other, but the partner holds another key.
    writeProfile({ baseURL: gateway.url, certificate: readShared('keys/encryption/other-certificate.pem').toString() })
    privateFile('signing.pem', readShared('keys/encryption/other-private-key-pkcs8.pem'))
    const r = await cli(['call', 'GET', '/payments/pay_9'])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('HTTP 401')
    expect(JSON.parse(r.stderr.trim().split('\n').at(-1) as string)).toMatchObject({ error: { code: 'ERR_SIGNATURE_MISMATCH' } })
  })

  it('a key that does not match the profile\'s auth.certificate is refused before sending', async () => {
    writeProfile({ baseURL: gateway.url })
    privateFile('signing.pem', readShared('keys/encryption/other-private-key-pkcs8.pem'))
    const sent = gateway.requests.length
    const r = await cli(['call', 'GET', '/payments/pay_9'])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stderr.trim())).toMatchObject({ error: { code: 'ERR_KEY_MISMATCH' } })
    expect(gateway.requests.length).toBe(sent)
  })

  it('no answer at all: ERR_NETWORK naming the origin', async () => {
    writeProfile({ baseURL: 'http://127.0.0.1:9/mini' })
    const r = await cli(['call', 'GET', '/payments/pay_9'])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stderr.trim().split('\n').at(-1) as string)).toMatchObject({ error: { code: 'ERR_NETWORK', message: expect.stringContaining('http://127.0.0.1:9') } })
  })

  it('bad --data and --query are usage errors', async () => {
    writeProfile({ baseURL: gateway.url })
    expect((await cli(['call', 'POST', '/payments', '--data', '{nope'])).code).toBe(2)
    expect((await cli(['call', 'GET', '/payments', '--query', 'novalue'])).code).toBe(2)
    expect((await cli(['call', 'GET', '/payments', '--header', 'Authorization: x'])).code).toBe(2)
  })
})

describe('apisign call with field encryption', () => {
  it('encrypts the card on the wire and prints the decrypted cardToken', async () => {
    const spec = join(REPO_ROOT, 'openapi/payments.yaml')
    const encryption = {
      mode: 'JWE',
      encryptedValueFieldName: 'encryptedData',
      encryptionCertificate: sharedPath('keys/encryption/certificate.pem'),
      privateKey: privateFile('enc-dec.pem', readShared('keys/encryption/private-key-pkcs8.pem')),
      paths: [{ path: '/payments$', toEncrypt: [{ element: 'card', obj: 'card' }], toDecrypt: [{ element: 'cardToken', obj: 'cardToken' }] }],
    }
    const seen: string[] = []
    const gateway = await startMockGateway({
      spec,
      consumers: { 'ck!doctor': { key: createPublicKey(createPrivateKey(SIGNING_PEM)) } },
      encryption: encryption as never,
      log: (line) => void seen.push(line),
    })
    try {
      writeProfile({ baseURL: gateway.url })
      writeFileSync(join(dir, 'encryption.json'), JSON.stringify(encryption))
      writeFileSync(join(dir, 'payment.json'), JSON.stringify({ amount: 2500, currency: 'EUR', card: { pan: '5123456789012345', expiry: '12/30', cvc: '123' } }))
      const r = await cli(['call', 'POST', '/payments', '--data', '@payment.json', '--json'])
      expect(r.code).toBe(0)
      expect(JSON.parse(r.stdout)).toMatchObject({ status: 201, body: { id: 'pay_1001', cardToken: { token: 'tok_5f2c', last4: '2345' } } })
      // The gateway decrypted the card: it travelled encrypted (the client never sends the PAN in clear).
      expect(gateway.requests.at(-1)).toMatchObject({ status: 201, body: { card: { pan: '5123456789012345' } } })
      expect(r.stdout + r.stderr).not.toContain('5123456789012345')
    } finally {
      await gateway.close()
    }
  })
})

