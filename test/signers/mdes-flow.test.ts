// The whole MDES-style flow with both keys in SoftHSM: `apisign keys import-p12` puts the signing key into
// the token, a profile names it and the decryption key as `{ pkcs11 }`, the client signs (OAuth1) in the
// token and encrypts the card with the partner's certificate, the mock gateway verifies and decrypts, answers
// with an encrypted token detail, and the client decrypts it with the key in the token. `keys inspect
// --pkcs11` and `doctor` run on the same set-up, and no output carries the PIN.
import { spawn } from 'node:child_process'
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runDoctor } from '../../src/cli/doctor.js'
import { runCli } from '../../src/cli/run.js'
import { createEncryption } from '../../src/encryption/index.js'
import { isApisignError } from '../../src/errors.js'
import { createClient, createFetch } from '../../src/http/index.js'
import { loadProfile } from '../../src/profiles/index.js'
import { importPkcs11Key } from '../../src/signers/index.js'
import { type MockGateway, startMockGateway } from '../../src/testing/index.js'
import { REPO_ROOT, readShared, sharedPath } from '../helpers/shared.js'
import { type SoftHsm, createSoftHsm } from '../helpers/softhsm.js'

const TOKEN = 'mdes-sandbox'
const tokenizePath = '/digitization/static/1/0/tokenize'
const tokenDetail = { tokenNumber: '5480981500100002', expiryMonth: '12', expiryYear: '30', paymentAccountReference: '5001a9f027e5629d11e3949a0800a' }
const spec = {
  openapi: '3.0.3',
  info: { title: 'MDES-style tokenization (test)', version: '1.0.0' },
  servers: [{ url: 'https://sandbox.api.example.com/mdes' }],
  paths: {
    [tokenizePath]: {
      post: {
        operationId: 'tokenize',
        requestBody: { content: { 'application/json': { schema: { type: 'object' } } } },
        responses: { '200': { description: 'ok', content: { 'application/json': { example: { decision: 'APPROVED', tokenUniqueReference: 'DWSPMC000000000132d72d4fcb2f4136a0532d3093ff1a45', tokenDetail } } } } },
      },
    },
  },
}
// MDES's own mapping forms: the card goes in place into fundingAccountInfo.encryptedPayload.encryptedData,
// the answer's tokenDetail comes back as { encryptedData }.
const mapping = {
  path: `${tokenizePath}$`,
  toEncrypt: [{ element: 'fundingAccountInfo.encryptedPayload.encryptedData', obj: 'fundingAccountInfo.encryptedPayload' }],
  toDecrypt: [{ element: 'tokenDetail.encryptedData', obj: 'tokenDetail' }],
}
const partnerKey = createPrivateKey(readShared('keys/encryption/private-key-pkcs8.pem'))
const clientDecryptionKey = createPrivateKey(readShared('keys/encryption/other-private-key-pkcs8.pem'))
const clientDecryptionCert = new X509Certificate(readShared('keys/encryption/other-certificate.pem'))

let hsm: SoftHsm
let dir: string
let gateway: MockGateway
// stdout of the CLI runs, and everything any run printed (both checked for the PIN at the end).
const out: string[] = []
const everything: string[] = []
const io = () => ({
  cwd: dir,
  env: { ...hsm.env, P12_PASSWORD: 'keystorepassword' },
  stdout: (t: string) => void (out.push(t), everything.push(t)),
  stderr: (t: string) => void everything.push(t),
})

beforeAll(async () => {
  hsm = createSoftHsm()
  hsm.initToken(TOKEN)
  dir = mkdtempSync(join(tmpdir(), 'apisign-mdes-'))
  gateway = await startMockGateway({
    spec,
    consumers: { 'ck!mdes': { key: createPublicKey(readShared('keys/oauth1/public-key.pem')) } },
    // The partner's side: decrypts what the client encrypted to it, encrypts the answer to the client's
    // certificate (the key in the client's token).
    encryption: createEncryption({
      mode: 'JWE',
      encryptedValueFieldName: 'encryptedData',
      paths: [{ path: mapping.path, toEncrypt: mapping.toDecrypt.map(({ element, obj }) => ({ element: obj, obj: element })), toDecrypt: mapping.toEncrypt.map(({ element, obj }) => ({ element: obj, obj: element })) }],
      encryptionCertificate: clientDecryptionCert,
      privateKey: partnerKey,
    }),
  })
})

afterAll(async () => {
  await gateway?.close()
  expect(everything.length).toBeGreaterThan(3)
  expect(everything.join('')).not.toContain(hsm.pin)
  rmSync(dir, { recursive: true, force: true })
  hsm.cleanup()
})

describe('MDES-style flow with the signing and decryption keys in SoftHSM', () => {
  it('apisign keys import-p12 puts the sandbox keystore into the token', async () => {
    const args = ['keys', 'import-p12', '--p12', sharedPath('keys/oauth1/keystore.p12'), '--alias', 'keyalias', '--p12-password-env', 'P12_PASSWORD', '--pkcs11', hsm.module, '--token', TOKEN, '--pin-env', hsm.pinEnv, '--label', 'mdes-signing', '--id', '01', '--usage', 'sign', '--insecure-key-permissions', '--json']
    const before = out.length
    expect(await runCli(args, io())).toBe(0)
    const result = JSON.parse(out.slice(before).join(''))
    expect(result).toMatchObject({ token: TOKEN, label: 'mdes-signing', id: '01', keyType: 'rsa', objects: ['private-key', 'public-key', 'certificate'] })
    // Again without --replace: refused, named.
    const again = everything.length
    expect(await runCli(args, io())).toBe(1)
    expect(everything.slice(again).join('')).toContain('ERR_CONFIG_INVALID')
    // The decryption key (no PKCS#12 of it here): through the library.
    await importPkcs11Key({ module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv, label: 'mdes-decryption', id: '02', privateKey: clientDecryptionKey, certificate: clientDecryptionCert, usage: ['decrypt'] })
  })

  it('apisign keys inspect --pkcs11 lists the keys and certificates, never key material', async () => {
    const before = out.length
    expect(await runCli(['keys', 'inspect', '--pkcs11', hsm.module, '--token', TOKEN, '--pin-env', hsm.pinEnv, '--json'], io())).toBe(0)
    const listing = JSON.parse(out.slice(before).join(''))
    expect(listing.token.label).toBe(TOKEN)
    const labels = listing.objects.map((o: { class: string; label: string }) => `${o.class}:${o.label}`).sort()
    expect(labels).toEqual(['certificate:mdes-decryption', 'certificate:mdes-signing', 'private-key:mdes-decryption', 'private-key:mdes-signing', 'public-key:mdes-decryption', 'public-key:mdes-signing'])
    const signing = listing.objects.find((o: { class: string; label: string }) => o.class === 'private-key' && o.label === 'mdes-signing')
    expect(signing).toMatchObject({ keyType: 'rsa', bits: 2048, sign: true, decrypt: false })
    const usage = everything.length
    expect(await runCli(['keys', 'inspect', '--pkcs11', hsm.module, '--token', TOKEN, '--json'], io())).toBe(2)
    expect(everything.slice(usage).join('')).toContain('--pin-env')
  })

  it('signs in the token, encrypts to the partner, and decrypts the answer with the key in the token, through a profile', async () => {
    const pkcs11 = { module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv }
    writeFileSync(join(dir, 'encryption.json'), JSON.stringify({ mode: 'JWE', encryptedValueFieldName: 'encryptedData', paths: [mapping], encryptionCertificate: sharedPath('keys/encryption/certificate.pem') }))
    writeFileSync(
      join(dir, 'apisign.config.json'),
      JSON.stringify({
        defaultProfile: 'sandbox',
        profiles: {
          sandbox: {
            environment: 'sandbox',
            baseURL: gateway.url,
            auth: { scheme: 'oauth1', consumerKey: 'ck!mdes', certificate: sharedPath('keys/oauth1/certificate.pem'), key: { pkcs11: { ...pkcs11, label: 'mdes-signing' } } },
            encryption: {
              configFile: './encryption.json',
              decryptionCertificate: sharedPath('keys/encryption/other-certificate.pem'),
              decryptionKey: { pkcs11: { ...pkcs11, label: 'mdes-decryption', rawOaepHashes: ['sha256'] } },
            },
          },
          broken: { environment: 'sandbox', baseURL: gateway.url, auth: { scheme: 'oauth1', consumerKey: 'ck!mdes', key: { pkcs11: { ...pkcs11, label: 'mdes-signing', pin: '1234' } } } },
        },
      }),
    )
    const profile = await loadProfile(undefined, { cwd: dir, env: hsm.env })
    const api = createClient(profile)
    const card = { cardAccountData: { accountNumber: '5123456789012345', expiryMonth: '12', expiryYear: '30' }, source: 'ACCOUNT_ON_FILE' }
    const responses = await Promise.all(
      [1, 2, 3, 4].map((i) => api.post(tokenizePath, { requestId: `req-${i}`, tokenType: 'CLOUD', fundingAccountInfo: { encryptedPayload: { encryptedData: card } } })),
    )
    for (const r of responses) {
      expect(r.status).toBe(200)
      expect(r.data).toEqual({ decision: 'APPROVED', tokenUniqueReference: 'DWSPMC000000000132d72d4fcb2f4136a0532d3093ff1a45', tokenDetail })
    }
    // The same profile over the fetch transport: the same pipeline, the same keys in the token.
    const signedFetch = createFetch(profile)
    const viaFetch = await signedFetch(`${gateway.url}${tokenizePath}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ requestId: 'req-fetch', fundingAccountInfo: { encryptedPayload: { encryptedData: card } } }) })
    expect(viaFetch.status).toBe(200)
    expect(((await viaFetch.json()) as { tokenDetail: unknown }).tokenDetail).toEqual(tokenDetail)
    // The gateway verified every signature and decrypted the card the client encrypted.
    const seen = gateway.requests.filter((r) => r.path.endsWith(tokenizePath))
    expect(seen.length).toBe(5)
    for (const r of seen) {
      expect(r.status).toBe(200)
      expect((r.body as { fundingAccountInfo: unknown }).fundingAccountInfo).toEqual({ encryptedPayload: { encryptedData: card } })
    }
    // A PIN in the config file is refused by name, never echoed.
    const broken = await loadProfile('broken', { cwd: dir, env: hsm.env }).catch((e: unknown) => e)
    expect(isApisignError(broken, 'ERR_PROFILE_INVALID')).toBe(true)
    expect((broken as Error).message).toContain('pinEnv or pinFile')
    expect((broken as Error).message).not.toContain('1234')
  })

  it('apisign decrypt --config with "privateKey": { "pkcs11": ... } decrypts with the key in the token', async () => {
    const partner = createEncryption({ mode: 'JWE', encryptedValueFieldName: 'encryptedData', paths: [{ path: mapping.path, toEncrypt: [{ element: 'tokenDetail', obj: 'tokenDetail.encryptedData' }] }], encryptionCertificate: clientDecryptionCert })
    writeFileSync(join(dir, 'response.json'), JSON.stringify(partner.encrypt({ url: tokenizePath, body: { decision: 'APPROVED', tokenDetail } }).body))
    writeFileSync(join(dir, 'client-encryption.json'), JSON.stringify({ mode: 'JWE', encryptedValueFieldName: 'encryptedData', paths: [{ path: mapping.path, toDecrypt: mapping.toDecrypt }], privateKey: { pkcs11: { module: hsm.module, token: TOKEN, label: 'mdes-decryption', pinEnv: hsm.pinEnv, rawOaepHashes: ['sha256'] } } }))
    const before = out.length
    expect(await runCli(['decrypt', '--config', 'client-encryption.json', '--endpoint', tokenizePath, '--body-file', 'response.json', '--json'], io())).toBe(0)
    expect(JSON.parse(out.slice(before).join('')).body).toEqual({ decision: 'APPROVED', tokenDetail })
  })

  it('apisign doctor: module, token, PIN, key, probe signature and the key/certificate pairs all pass', async () => {
    const report = await runDoctor({ cwd: dir, env: hsm.env })
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]))
    for (const id of ['pkcs11-module', 'pkcs11-token', 'pkcs11-pin', 'signing-key', 'pkcs11-sign', 'key-certificate', 'decryption-key', 'pkcs11-decrypt', 'decryption-certificate']) {
      expect(byId[id]?.status, `${id}: ${byId[id]?.message}`).toBe('pass')
    }
    expect(byId['signing-key']?.message).toContain('in the token')
    expect(report.ok).toBe(true)
    everything.push(JSON.stringify(report))
    // The wrong certificate for the key in the token is caught.
    const wrong = await runDoctor({ cwd: dir, env: hsm.env, certificate: sharedPath('keys/encryption/other-certificate.pem') })
    expect(wrong.checks.find((c) => c.id === 'key-certificate')?.status).toBe('fail')
    // SoftHSM lacks OAEP with SHA-256: without rawOaepHashes the probe unwrap fails, and the fix says so.
    const config = JSON.parse(readFileSync(join(dir, 'apisign.config.json'), 'utf8'))
    delete config.profiles.sandbox.encryption.decryptionKey.pkcs11.rawOaepHashes
    writeFileSync(join(dir, 'apisign.config.json'), JSON.stringify(config))
    const noRaw = await runDoctor({ cwd: dir, env: hsm.env })
    expect(noRaw.checks.find((c) => c.id === 'pkcs11-decrypt')).toMatchObject({ status: 'fail', fix: expect.stringContaining('rawOaepHashes') })
    everything.push(JSON.stringify(noRaw))
    // A token that is not there: the token check fails with a fix, nothing else is claimed.
    writeFileSync(join(dir, 'apisign.config.json'), JSON.stringify({ profiles: { sandbox: { environment: 'sandbox', baseURL: gateway.url, auth: { scheme: 'oauth1', consumerKey: 'ck!mdes', key: { pkcs11: { module: hsm.module, token: 'absent', pinEnv: hsm.pinEnv, label: 'x' } } } } } }))
    const absent = await runDoctor({ cwd: dir, env: hsm.env, profile: 'sandbox' })
    expect(absent.checks.find((c) => c.id === 'pkcs11-token')?.status).toBe('fail')
    expect(absent.ok).toBe(false)
    // A PIN file that is not there, a key that is not there, a reference that is not valid: each named.
    const doctorWith = async (pkcs11: Record<string, unknown>) => {
      writeFileSync(join(dir, 'apisign.config.json'), JSON.stringify({ profiles: { sandbox: { environment: 'sandbox', baseURL: gateway.url, auth: { scheme: 'oauth1', consumerKey: 'ck!mdes', key: { pkcs11 } } } } }))
      const r = await runDoctor({ cwd: dir, env: hsm.env, profile: 'sandbox' })
      everything.push(JSON.stringify(r))
      return Object.fromEntries(r.checks.map((c) => [c.id, c.status]))
    }
    expect(await doctorWith({ module: hsm.module, token: TOKEN, label: 'mdes-signing', pinFile: './no-such-pin' })).toMatchObject({ 'pkcs11-token': 'pass', 'pkcs11-pin': 'fail' })
    expect(await doctorWith({ module: hsm.module, token: TOKEN, label: 'nope', pinEnv: hsm.pinEnv })).toMatchObject({ 'pkcs11-pin': 'pass', 'signing-key': 'fail' })
    const invalid = await doctorWith({ module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv })
    expect(invalid).toMatchObject({ 'pkcs11-module': 'pass', 'signing-key': 'fail' })
    expect(invalid['pkcs11-token']).toBeUndefined()
    expect(await doctorWith({ token: TOKEN, label: 'x', pinEnv: hsm.pinEnv })).toMatchObject({ 'pkcs11-module': 'fail' })
    expect(await doctorWith({ module: '/nonexistent/lib.so', token: TOKEN, label: 'x', pinEnv: hsm.pinEnv })).toMatchObject({ 'pkcs11-module': 'fail' })
    everything.push(JSON.stringify(absent), JSON.stringify(wrong))
  })
  it('apisign mock --profile takes the public half of a key in the token (another process on the same token)', async () => {
    const mockDir = mkdtempSync(join(tmpdir(), 'apisign-mock-hsm-'))
    try {
      const pkcs11 = { module: hsm.module, token: TOKEN, label: 'mdes-signing', pinEnv: hsm.pinEnv }
      writeFileSync(join(mockDir, 'apisign.config.json'), JSON.stringify({ profiles: { sandbox: { environment: 'sandbox', baseURL: 'https://sandbox.api.example.com/mini', auth: { scheme: 'oauth1', consumerKey: 'ck!hsm', key: { pkcs11 } } } } }))
      const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/cli/main.js'), 'mock', '--spec', join(REPO_ROOT, 'openapi/payments-mini.yaml'), '--profile', 'sandbox', '--json'], { cwd: mockDir, env: { ...process.env, ...hsm.env }, stdio: ['ignore', 'pipe', 'pipe'] })
      try {
        const url = await new Promise<string>((resolve, reject) => {
          child.stdout.on('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { url: string }).url))
          child.stderr.on('data', (d: Buffer) => everything.push(d.toString()))
          child.once('exit', (c) => reject(new Error(`mock exited ${c}`)))
        })
        const profile = await loadProfile('sandbox', { cwd: mockDir, env: hsm.env })
        const api = createClient({ ...profile, baseURL: url })
        expect((await api.get('/payments/pay_123')).data).toMatchObject({ id: 'pay_123', status: 'AUTHORIZED' })
      } finally {
        child.kill('SIGTERM')
      }
    } finally {
      rmSync(mockDir, { recursive: true, force: true })
    }
  })

  it('profile references: a PIN file works; every mistake is a named ERR_PROFILE_INVALID', async () => {
    writeFileSync(join(dir, 'pin'), `${hsm.pin}\n`, { mode: 0o600 })
    const base = { module: hsm.module, token: TOKEN, label: 'mdes-signing' }
    const profileWith = (pkcs11: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ environment: 'sandbox', baseURL: gateway.url, ...extra, auth: { scheme: 'oauth1', consumerKey: 'ck!mdes', key: { pkcs11 } } })
    const cases: Record<string, [Record<string, unknown>, RegExp]> = {
      unknownField: [{ ...base, pinEnv: hsm.pinEnv, slot: 1 }, /unknown field "slot"/],
      noModule: [{ token: TOKEN, label: 'x', pinEnv: hsm.pinEnv }, /module is required/],
      noKey: [{ module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv }, /label or id/],
      bothPins: [{ ...base, pinEnv: hsm.pinEnv, pinFile: './pin' }, /exactly one of pinEnv or pinFile/],
      unsetPin: [{ ...base, pinEnv: 'NOT_SET_HERE' }, /NOT_SET_HERE .* is not set/],
      rawOnSigner: [{ ...base, pinEnv: hsm.pinEnv, rawOaepHashes: ['sha256'] }, /rawOaepHashes is for decryption keys/],
      notObject: ['x' as unknown as Record<string, unknown>, /must be an object/],
      badSessions: [{ ...base, pinEnv: hsm.pinEnv, maxSessions: 0 }, /maxSessions/],
    }
    writeFileSync(join(dir, 'loose-pin'), hsm.pin, { mode: 0o644 })
    chmodSync(join(dir, 'loose-pin'), 0o644)
    const profiles: Record<string, unknown> = {
      byFile: profileWith({ ...base, pinFile: './pin' }),
      loosePin: profileWith({ ...base, pinFile: './loose-pin' }),
      mismatch: { environment: 'sandbox', baseURL: gateway.url, auth: { scheme: 'oauth1', consumerKey: 'ck!mdes', certificate: sharedPath('keys/encryption/other-certificate.pem'), key: { pkcs11: { ...base, pinEnv: hsm.pinEnv } } } },
    }
    for (const [name, [ref]] of Object.entries(cases)) profiles[name] = profileWith(ref)
    writeFileSync(join(dir, 'apisign.config.json'), JSON.stringify({ profiles }))
    const byFile = await loadProfile('byFile', { cwd: dir, env: hsm.env })
    expect(byFile.auth.scheme === 'oauth1' && 'kind' in byFile.auth.key && byFile.auth.key.kind).toBe('signer')
    // A PIN file others can read is refused like a key file.
    const loose = await loadProfile('loosePin', { cwd: dir, env: hsm.env }).catch((x: unknown) => x)
    expect(isApisignError(loose, 'ERR_KEY_FILE_PERMISSIONS')).toBe(true)
    expect((loose as Error).message).toContain('PIN file')
    everything.push(String(loose))
    // The key in the token against the certificate the partner holds: refused at load, as for a key file.
    expect(isApisignError(await loadProfile('mismatch', { cwd: dir, env: hsm.env }).catch((x: unknown) => x), 'ERR_KEY_MISMATCH')).toBe(true)
    for (const [name, [, message]] of Object.entries(cases)) {
      const e = await loadProfile(name, { cwd: dir, env: hsm.env }).catch((x: unknown) => x)
      expect(isApisignError(e, 'ERR_PROFILE_INVALID'), `${name}: ${String(e)}`).toBe(true)
      expect((e as Error).message, name).toMatch(message)
      expect((e as Error).message).toContain(`profile ${name}: auth.key.pkcs11`)
      everything.push(String(e))
    }
  })
})
