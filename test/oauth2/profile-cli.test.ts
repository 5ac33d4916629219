// OAuth 2.0 in profiles (`auth: { scheme: 'oauth2', ... }`), `apisign oauth2 token --profile P` and the
// doctor's OAuth 2.0 checks, against the mock gateway's authorization server.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createClient } from '../../src/http/index.js'
import { loadProfile } from '../../src/profiles/index.js'
import type { MockGateway } from '../../src/testing/index.js'
import { ES_CLIENT, esKey, gateway } from './helpers.js'

let dir: string
let gw: MockGateway | undefined
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'apisign-oauth2-'))
  const pem = join(dir, 'client-es256.pem')
  writeFileSync(pem, esKey.export({ type: 'pkcs8', format: 'pem' }))
  chmodSync(pem, 0o600)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))
afterEach(async () => {
  await gw?.close()
  gw = undefined
})

function writeConfig(auth: Record<string, unknown>, baseURL = 'http://127.0.0.1:9/mini') {
  writeFileSync(join(dir, 'apisign.config.json'), JSON.stringify({ defaultProfile: 'sandbox', profiles: { sandbox: { environment: 'sandbox', baseURL, auth } } }))
  return dir
}

describe('oauth2 profiles', () => {
  it('loads the key once, and the profile drives a client end to end', async () => {
    gw = await gateway()
    const issuer = new URL(gw.url).origin
    const cwd = writeConfig({ scheme: 'oauth2', issuer, clientIdEnv: 'OAUTH2_CLIENT_ID', kid: 'es-1', key: { path: './client-es256.pem' }, scopes: ['payments:read'] }, gw.url)
    const profile = await loadProfile(undefined, { cwd, env: { OAUTH2_CLIENT_ID: ES_CLIENT } })
    expect(profile.auth).toMatchObject({ scheme: 'oauth2', clientId: ES_CLIENT, kid: 'es-1', scopes: ['payments:read'] })
    const { data } = await createClient(profile).get('/payments/pay_123')
    expect(data).toMatchObject({ id: 'pay_123' })
  })

  it.each([
    ['a password written in the file', { key: { path: './client-es256.pem', password: 'x' } }, 'ERR_PROFILE_INVALID'],
    ['a missing key file', { key: { path: './nope.pem' } }, 'ERR_FILE_NOT_FOUND'],
    ['no client id', { clientIdEnv: 'UNSET_VAR' }, 'ERR_PROFILE_INVALID'],
    ['no kid', { kid: '' }, 'ERR_SCHEME_CONFIG'],
    ['a plain-http issuer', { issuer: 'http://auth.example.com' }, 'ERR_CONFIG_INVALID'],
  ])('refuses %s', async (_name, change, code) => {
    const cwd = writeConfig({ scheme: 'oauth2', issuer: 'https://auth.example.com', clientIdEnv: 'OAUTH2_CLIENT_ID', kid: 'es-1', key: { path: './client-es256.pem' }, ...change })
    await expect(loadProfile(undefined, { cwd, env: { OAUTH2_CLIENT_ID: ES_CLIENT } })).rejects.toMatchObject({ code })
  })
})

async function cli(argv: string[], env: Record<string, string> = {}) {
  const { runCli } = await import('../../src/cli/run.js')
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(argv, { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), cwd: dir, env: { OAUTH2_CLIENT_ID: ES_CLIENT, ...env } })
  return { code, out: out.join(''), err: err.join('') }
}

describe('apisign oauth2 token', () => {
  it("shows the token's claims, scopes and expiry, never the token unless --show-token (with a warning)", async () => {
    gw = await gateway()
    const issuer = new URL(gw.url).origin
    writeConfig({ scheme: 'oauth2', issuer, clientIdEnv: 'OAUTH2_CLIENT_ID', kid: 'es-1', key: { path: './client-es256.pem' }, scopes: ['payments:read'] }, gw.url)
    const plain = await cli(['oauth2', 'token', '--json'])
    expect(plain.code).toBe(0)
    const shown = JSON.parse(plain.out) as Record<string, unknown>
    expect(shown).toMatchObject({ profile: 'sandbox', tokenType: 'DPoP', scopes: ['payments:read'], claims: { client_id: ES_CLIENT, scope: 'payments:read', iss: issuer, cnf: { jkt: shown['dpopJkt'] } } })
    expect(shown['expiresInSec']).toBeGreaterThan(290)
    expect(shown['accessToken']).toBeUndefined()
    expect(plain.out).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/)

    const scoped = await cli(['oauth2', 'token', '--scope', 'accounts:read', '--scope', 'payments:write', '--show-token', '--json'])
    expect(scoped.err).toContain('warning: the access token is a credential')
    expect(JSON.parse(scoped.out)).toMatchObject({ scopes: ['accounts:read', 'payments:write'], accessToken: expect.stringMatching(/^eyJ/) })
  })

  it('a refused grant exits non-zero with the typed code, and a non-oauth2 profile is a usage error', async () => {
    gw = await gateway()
    const issuer = new URL(gw.url).origin
    writeConfig({ scheme: 'oauth2', issuer, clientIdEnv: 'OAUTH2_CLIENT_ID', kid: 'es-unknown', key: { path: './client-es256.pem' } }, gw.url)
    const refused = await cli(['oauth2', 'token'])
    expect(refused.code).not.toBe(0)
    expect(refused.err).toContain('ERR_OAUTH2_TOKEN_REQUEST')
    writeConfig({ scheme: 'basic', username: 'u', password: { env: 'PW' } })
    const usage = await cli(['oauth2', 'token'], { PW: 'x' })
    expect(usage.err).toContain('ERR_CLI_USAGE')
  })
})

describe('apisign doctor, oauth2 profiles', () => {
  it('offline: key permissions, the client key and its thumbprint, the kid; --online: a token and the clock against the token endpoint', async () => {
    gw = await gateway()
    const issuer = new URL(gw.url).origin
    writeConfig({ scheme: 'oauth2', issuer, clientIdEnv: 'OAUTH2_CLIENT_ID', kid: 'es-1', key: { path: './client-es256.pem' }, scopes: ['payments:read'] }, gw.url)
    const { runDoctor } = await import('../../src/cli/doctor.js')
    const offline = await runDoctor({ cwd: dir, env: { OAUTH2_CLIENT_ID: ES_CLIENT } })
    expect(offline.checks.map((c) => [c.id, c.status])).toEqual(expect.arrayContaining([['key-permissions', 'pass'], ['client-key', 'pass'], ['client-kid', 'pass']]))
    expect(offline.checks.find((c) => c.id === 'client-key')?.message).toMatch(/EC .*ES256.*JWK thumbprint [\w-]{43}/)
    const online = await runDoctor({ cwd: dir, env: { OAUTH2_CLIENT_ID: ES_CLIENT }, online: true, probePath: '/payments/pay_123' })
    expect(online.checks.map((c) => [c.id, c.status])).toEqual(expect.arrayContaining([['token-endpoint', 'pass'], ['token-clock', 'pass'], ['probe', 'pass']]))
    expect(online.ok).toBe(true)
  })

  it('--online with a kid the server does not know: token-endpoint fails with the fix naming the kid', async () => {
    gw = await gateway()
    const issuer = new URL(gw.url).origin
    writeConfig({ scheme: 'oauth2', issuer, clientIdEnv: 'OAUTH2_CLIENT_ID', kid: 'es-9', key: { path: './client-es256.pem' } }, gw.url)
    const { runDoctor } = await import('../../src/cli/doctor.js')
    const report = await runDoctor({ cwd: dir, env: { OAUTH2_CLIENT_ID: ES_CLIENT }, online: true })
    const check = report.checks.find((c) => c.id === 'token-endpoint')
    expect(check).toMatchObject({ status: 'fail', fix: expect.stringContaining('kid') })
    expect(report.ok).toBe(false)
  })
})

describe('apisign mock (the built binary) as an OAuth 2.0 partner', () => {
  it('--oauth2-clients registers clients by kid; the spec oauth2 scheme accepts its tokens', async () => {
    const { spawn } = await import('node:child_process')
    const { createPublicKey } = await import('node:crypto')
    const { REPO_ROOT } = await import('../helpers/shared.js')
    const { loadSpec } = await import('../../src/codegen/index.js')
    const { authForSpec } = await import('../../src/schemes/index.js')
    writeFileSync(join(dir, 'client-public.pem'), createPublicKey(esKey).export({ type: 'spki', format: 'pem' }))
    writeFileSync(join(dir, 'clients.json'), JSON.stringify({ [ES_CLIENT]: { keys: { 'es-1': './client-public.pem' }, scopes: ['payments:read'] } }))
    const spec = join(REPO_ROOT, 'openapi/payments-oauth2.yaml')
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/cli/main.js'), 'mock', '--spec', spec, '--oauth2-clients', join(dir, 'clients.json'), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { url: string }).url))
        child.once('exit', (c) => reject(new Error(`mock exited ${c}`)))
      })
      const api = createClient({ baseURL: url, retry: false, auth: authForSpec(await loadSpec(spec), { oauth2: { clientId: ES_CLIENT, issuer: new URL(url).origin, key: esKey, kid: 'es-1' } }) })
      expect((await api.get('/payments/pay_123')).status).toBe(200)
      await expect(api.get('/accounts/acc-1/balance')).rejects.toMatchObject({ code: 'ERR_OAUTH2_TOKEN_REQUEST', details: { error: 'invalid_scope' } })
    } finally {
      child.kill('SIGTERM')
    }
  })
})
