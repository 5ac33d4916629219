// An OAuth 2.0 profile whose client assertion key is in SoftHSM (`auth.key: { pkcs11: { ... } }`): the
// profile opens a Signer at load (ES256 for a P-256 key, PS256 for RSA, or the profile's `algorithm`),
// refuses a bad reference there, drives createClient against the mock gateway's authorization server, is
// checked by the doctor (probe signature in the token), and registers its public half with `apisign mock
// --profile` (the built binary).
import { spawn } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runDoctor } from '../../src/cli/doctor.js'
import { createClient } from '../../src/http/index.js'
import { loadProfile } from '../../src/profiles/index.js'
import { importPkcs11Key, isSigner } from '../../src/signers/index.js'
import { type MockGateway, startMockGateway } from '../../src/testing/index.js'
import { REPO_ROOT } from '../helpers/shared.js'
import { type SoftHsm, createSoftHsm } from '../helpers/softhsm.js'

const TOKEN = 'oauth2-profiles'
const esKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
const psKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
let hsm: SoftHsm
let gateway: MockGateway
let dir: string

beforeAll(async () => {
  hsm = createSoftHsm()
  hsm.initToken(TOKEN)
  const common = { module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv }
  await importPkcs11Key({ ...common, label: 'client-es', id: '01', privateKey: esKey })
  await importPkcs11Key({ ...common, label: 'client-ps', id: '02', privateKey: psKey, usage: ['sign'] })
  gateway = await startMockGateway({
    spec: join(REPO_ROOT, 'openapi/payments-oauth2.yaml'),
    security: { oauth2: {} },
    authorizationServer: {
      clients: { 'hsm-es': { keys: { 'es-1': esKey }, scopes: ['payments:read'] }, 'hsm-ps': { keys: { 'ps-1': psKey }, scopes: ['payments:read'] } },
    },
  })
  dir = mkdtempSync(join(tmpdir(), 'apisign-oauth2-hsm-'))
})

afterAll(async () => {
  await gateway?.close()
  rmSync(dir, { recursive: true, force: true })
  hsm.cleanup()
})

const pkcs11 = (label: string, extra: Record<string, unknown> = {}) => ({ pkcs11: { module: hsm.module, token: TOKEN, label, pinEnv: hsm.pinEnv, ...extra } })

function writeConfig(baseURL: string, auth: Record<string, unknown>): string {
  writeFileSync(join(dir, 'apisign.config.json'), JSON.stringify({ defaultProfile: 'sandbox', profiles: { sandbox: { environment: 'sandbox', baseURL, auth } } }))
  return dir
}

async function closeKey(key: unknown): Promise<void> {
  await (key as { close?: () => Promise<void> }).close?.()
}

describe('an oauth2 profile with its client assertion key in SoftHSM', () => {
  for (const [clientId, kid, label, algorithm] of [['hsm-es', 'es-1', 'client-es', 'ES256'], ['hsm-ps', 'ps-1', 'client-ps', 'PS256']] as const) {
    it(`${clientId}: the key type picks ${algorithm}; the token comes from the authorization server and the API answers`, async () => {
      const issuer = new URL(gateway.url).origin
      const cwd = writeConfig(gateway.url, { scheme: 'oauth2', issuer, clientId, kid, key: pkcs11(label), scopes: ['payments:read'] })
      const before = gateway.requests.filter((r) => r.path === '/oauth2/token' && r.status === 200).length
      const profile = await loadProfile(undefined, { cwd, env: hsm.env })
      try {
        expect(profile.auth.scheme).toBe('oauth2')
        const key = (profile.auth as { key: unknown }).key
        expect(isSigner(key)).toBe(true)
        expect((key as { algorithm: string }).algorithm).toBe(algorithm)
        const { data } = await createClient(profile).get('/payments/pay_123')
        expect(data).toMatchObject({ id: 'pay_123' })
        // The assertion the server accepted was signed in the token (the server only knows this key's public half).
        expect(gateway.requests.filter((r) => r.path === '/oauth2/token' && r.status === 200).length).toBeGreaterThan(before)
      } finally {
        await closeKey((profile.auth as { key: unknown }).key)
      }
    })
  }

  it('the profile\'s algorithm is honoured and checked against the key in the token', async () => {
    const issuer = new URL(gateway.url).origin
    const ok = await loadProfile(undefined, { cwd: writeConfig(gateway.url, { scheme: 'oauth2', issuer, clientId: 'hsm-ps', kid: 'ps-1', key: pkcs11('client-ps'), algorithm: 'PS256' }), env: hsm.env })
    expect((ok.auth as { key: { algorithm: string } }).key.algorithm).toBe('PS256')
    await closeKey((ok.auth as { key: unknown }).key)
  })

  it.each([
    ['an EC key asked to sign PS256', () => ({ key: pkcs11('client-es'), algorithm: 'PS256' }), 'ERR_KEY_WRONG_TYPE'],
    ['RS256 (FAPI 2.0 allows PS256 and ES256)', () => ({ key: pkcs11('client-ps'), algorithm: 'RS256' }), 'ERR_ALG_NOT_ALLOWED'],
    ['a PIN written in the file', () => ({ key: pkcs11('client-es', { pin: '1234' }) }), 'ERR_PROFILE_INVALID'],
    ['an unset PIN variable', () => ({ key: pkcs11('client-es', { pinEnv: 'APISIGN_UNSET_PIN' }) }), 'ERR_PROFILE_INVALID'],
    ['neither label nor id', () => ({ key: { pkcs11: { module: hsm.module, token: TOKEN, pinEnv: hsm.pinEnv } } }), 'ERR_PROFILE_INVALID'],
    ['a label the token lacks', () => ({ key: pkcs11('no-such-key') }), 'ERR_HSM_KEY_NOT_FOUND'],
    ['a token that is not there', () => ({ key: { pkcs11: { module: hsm.module, token: 'absent', label: 'client-es', pinEnv: hsm.pinEnv } } }), 'ERR_HSM_UNAVAILABLE'],
  ])('refuses at load: %s', async (_name, change, code) => {
    const cwd = writeConfig(gateway.url, { scheme: 'oauth2', issuer: new URL(gateway.url).origin, clientId: 'hsm-es', kid: 'es-1', ...change() })
    const error = await loadProfile(undefined, { cwd, env: hsm.env }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code, message: expect.stringContaining('profile sandbox') })
    expect(String((error as Error).message)).not.toContain(hsm.pin)
  })

  it('doctor: module, token, PIN, key and a probe signature verified with the public half; a bad label is a failed check, not a crash', async () => {
    writeConfig(gateway.url, { scheme: 'oauth2', issuer: new URL(gateway.url).origin, clientId: 'hsm-es', kid: 'es-1', key: pkcs11('client-es') })
    const report = await runDoctor({ cwd: dir, env: hsm.env })
    const status = Object.fromEntries(report.checks.map((c) => [c.id, c.status]))
    expect(status).toMatchObject({ profile: 'pass', 'pkcs11-module': 'pass', 'pkcs11-token': 'pass', 'pkcs11-pin': 'pass', 'pkcs11-sign': 'pass', 'client-key': 'pass', 'client-kid': 'pass' })
    expect(report.checks.find((c) => c.id === 'pkcs11-sign')?.message).toMatch(/ES256/)
    expect(report.checks.find((c) => c.id === 'client-key')?.message).toMatch(/ES256.*JWK thumbprint/)
    expect(report.checks.some((c) => c.id === 'key-permissions')).toBe(false)

    writeConfig(gateway.url, { scheme: 'oauth2', issuer: new URL(gateway.url).origin, clientId: 'hsm-es', kid: 'es-1', key: pkcs11('no-such-key') })
    const broken = await runDoctor({ cwd: dir, env: hsm.env })
    expect(broken.ok).toBe(false)
    expect(broken.checks.find((c) => c.id === 'signing-key')).toMatchObject({ status: 'fail', message: expect.stringContaining('ERR_HSM_KEY_NOT_FOUND') })
    expect(JSON.stringify(broken)).not.toContain(hsm.pin)
  })
})

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('apisign mock --profile (the built binary) with the oauth2 client key in SoftHSM', () => {
  it('registers the profile\'s client by the public half in the token; the same profile then gets a token and calls the API', async () => {
    const main = join(REPO_ROOT, 'dist/cli/main.js')
    expect(existsSync(main), 'dist/ is built by `npm test` (pretest); run `npm run build`').toBe(true)
    const port = await freePort()
    const baseURL = `http://127.0.0.1:${port}`
    const cwd = writeConfig(baseURL, { scheme: 'oauth2', issuer: `http://127.0.0.1:${port}`, clientId: 'profile-client', kid: 'hsm-1', key: pkcs11('client-ps'), scopes: ['payments:read'] })
    const spec = join(REPO_ROOT, 'openapi/payments-oauth2.yaml')
    const child = spawn(process.execPath, [main, 'mock', '--spec', spec, '--profile', 'sandbox', '--port', String(port), '--json'], { cwd, env: hsm.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()))
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { url: string }).url))
        child.once('exit', (c) => reject(new Error(`mock exited ${c}: ${stderr}`)))
      })
      const profile = await loadProfile(undefined, { cwd, env: hsm.env })
      try {
        const api = createClient({ ...profile, baseURL: url })
        expect((await api.get('/payments/pay_123')).status).toBe(200)
      } finally {
        await closeKey((profile.auth as { key: unknown }).key)
      }
    } finally {
      child.kill('SIGTERM')
    }
  })
})
