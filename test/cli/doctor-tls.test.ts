// apisign doctor on a profile's tls (issue 14 item 5): client certificate validity, clientAuth usage, key
// match and chain to tls.ca. Material from certs-example/make-certs.mjs (a local test CA).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { makeCerts } from '../../certs-example/make-certs.mjs'
import { type DoctorCheck, runDoctor } from '../../src/cli/doctor.js'
import { loadSigningKey } from '../../src/keys/index.js'
import { startMockGateway } from '../../src/testing/index.js'
import { REPO_ROOT } from '../helpers/shared.js'
import { createPublicKey } from 'node:crypto'

const dir = mkdtempSync(join(tmpdir(), 'apisign-doctor-tls-'))
const otherDir = mkdtempSync(join(tmpdir(), 'apisign-doctor-tls-other-'))
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
  rmSync(otherDir, { recursive: true, force: true })
})
const certs = makeCerts({ outDir: dir })
const other = makeCerts({ outDir: otherDir })
const password = readFileSync(certs.clientKeystorePassword, 'utf8').trim()

async function doctor(tls: Record<string, unknown>, options: { now?: () => number; env?: Record<string, string> } = {}): Promise<Record<string, DoctorCheck>> {
  const cfg = mkdtempSync(join(dir, 'cfg-'))
  writeFileSync(join(cfg, 'apisign.config.json'), JSON.stringify({ profiles: { sandbox: { environment: 'sandbox', baseURL: 'https://sandbox.api.example.com', auth: { scheme: 'oauth1', consumerKey: 'ck', key: { path: certs.signingKey } }, tls } } }))
  const report = await runDoctor({ profile: 'sandbox', cwd: cfg, env: options.env ?? {}, ...(options.now === undefined ? {} : { now: options.now }) })
  return Object.fromEntries(report.checks.map((c) => [c.id, c]))
}

describe('apisign doctor: tls', () => {
  it('a good client certificate: valid, its key matches, issued by tls.ca', async () => {
    const checks = await doctor({ ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey })
    expect(checks['tls-ca']?.status).toBe('pass')
    expect(checks['tls-client-certificate']).toMatchObject({ status: 'pass', message: expect.stringContaining('apisign-sandbox-client') })
    expect(checks['tls-key']?.status).toBe('pass')
    expect(checks['tls-chain']).toMatchObject({ status: 'pass', message: expect.stringContaining('apisign throwaway test CA') })
    expect(checks['profile']?.status).toBe('pass')
  })
  it('a PKCS#12 client keystore with its passphrase from the environment', async () => {
    const checks = await doctor({ ca: certs.caCert, p12: certs.clientKeystore, passphrase: { env: 'CLIENT_P12_PASSWORD' } }, { env: { CLIENT_P12_PASSWORD: password } })
    expect([checks['tls-client-certificate']?.status, checks['tls-key']?.status, checks['tls-chain']?.status]).toEqual(['pass', 'pass', 'pass'])
  })
  it('the passphrase variable unset: the fix says what to export', async () => {
    const checks = await doctor({ p12: certs.clientKeystore, passphrase: { env: 'CLIENT_P12_PASSWORD' } })
    expect(checks['tls-client-certificate']).toMatchObject({ status: 'fail', fix: expect.stringContaining('export CLIENT_P12_PASSWORD') })
  })
  it('a key that is not the certificate\'s', async () => {
    const checks = await doctor({ cert: certs.clientCert, key: certs.serverKey })
    expect(checks['tls-key']?.status).toBe('fail')
    expect(checks['tls']).toMatchObject({ status: 'fail', message: expect.stringContaining('ERR_KEY_MISMATCH') })
    expect(checks['signing-key']).toBeUndefined()
  })
  it('expired (the clock a year and a half on), and expiring soon', async () => {
    const later = Date.now() + 540 * 86_400_000
    expect((await doctor({ cert: certs.clientCert, key: certs.clientKey }, { now: () => later }))['tls-client-certificate']).toMatchObject({ status: 'fail', message: expect.stringContaining('expired') })
    const soon = Date.now() + 350 * 86_400_000
    expect((await doctor({ cert: certs.clientCert, key: certs.clientKey }, { now: () => soon }))['tls-client-certificate']?.status).toBe('warn')
  })
  it('a client certificate from another CA than tls.ca, and a server certificate used as a client one', async () => {
    expect((await doctor({ ca: certs.caCert, cert: other.clientCert, key: other.clientKey }))['tls-chain']?.status).toBe('warn')
    expect((await doctor({ ca: certs.caCert, cert: certs.serverCert, key: certs.serverKey }))['tls-client-usage']?.status).toBe('fail')
  })
  it('an unreadable CA file', async () => {
    const bad = join(dir, 'bad-ca.pem')
    writeFileSync(bad, 'not a certificate')
    expect((await doctor({ ca: bad }))['tls-ca']?.status).toBe('fail')
  })
  it('--online against an mTLS partner: the clock and the signed probe go over the profile\'s tls', async () => {
    const gateway = await startMockGateway({
      spec: join(REPO_ROOT, 'openapi/payments-mini.yaml'),
      consumers: { ck: { key: createPublicKey(loadSigningKey(certs.signingKey)) } },
      tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.caCert, requireClientCertificate: true },
    })
    try {
      const cfg = mkdtempSync(join(dir, 'online-'))
      writeFileSync(join(cfg, 'apisign.config.json'), JSON.stringify({ profiles: { sandbox: { environment: 'sandbox', baseURL: gateway.url, auth: { scheme: 'oauth1', consumerKey: 'ck', key: { path: certs.signingKey } }, tls: { ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey } } } }))
      const report = await runDoctor({ profile: 'sandbox', cwd: cfg, env: {}, online: true, probePath: '/payments/p1' })
      const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]))
      expect(byId['clock']?.status).toBe('pass')
      expect(byId['probe']).toMatchObject({ status: 'pass', message: expect.stringContaining('HTTP 200') })
    } finally {
      await gateway.close()
    }
  })
})
