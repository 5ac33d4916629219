import type { KeyObject } from 'node:crypto'
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isApisignError } from '../../src/errors.js'
import { createClient } from '../../src/http/index.js'
import { loadProfile } from '../../src/profiles/index.js'
import { sharedPath } from '../helpers/shared.js'
import { startVerifyingServer, verifyingResponder } from '../helpers/verifying-server.js'

/** The OAuth1 part of a profile (these tests load oauth1 profiles). */
function oauth1(profile: Awaited<ReturnType<typeof loadProfile>>) {
  if (profile.auth.scheme !== 'oauth1') throw new Error('expected an oauth1 profile')
  return profile.auth
}

const dir = mkdtempSync(join(tmpdir(), 'apisign-profiles-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
mkdirSync(join(dir, 'keys'))
for (const [from, to] of [['keys/oauth1/keystore.p12', 'keys/sandbox.p12'], ['keys/oauth1/private-key.pem', 'keys/production.pem']] as const) {
  copyFileSync(sharedPath(from), join(dir, to))
  chmodSync(join(dir, to), 0o600)
}
const sandbox = {
  environment: 'sandbox',
  baseURL: 'https://sandbox.api.example.com',
  auth: { scheme: 'oauth1', consumerKeyEnv: 'SBX_CK', key: { path: './keys/sandbox.p12', alias: 'keyalias', passwordEnv: 'SBX_P12_PASSWORD' } },
}
const production = {
  baseURL: 'https://api.example.com',
  auth: { scheme: 'oauth1', consumerKey: 'prod-ck', key: { path: './keys/production.pem' } },
  timeoutMs: 5000,
}
function write(profiles: Record<string, unknown>, extra: Record<string, unknown> = {}, file = 'apisign.config.json') {
  writeFileSync(join(dir, file), JSON.stringify({ profiles, ...extra }))
}
const env = { SBX_CK: 'sbx-ck', SBX_P12_PASSWORD: 'keystorepassword' }
async function code(p: Promise<unknown>) {
  try {
    await p
  } catch (e) {
    return isApisignError(e) ? e.code : String(e)
  }
  return 'no error'
}

describe('loadProfile', () => {
  it('loads sandbox and production; APISIGN_PROFILE picks; the result is frozen', async () => {
    write({ sandbox, production }, { defaultProfile: 'sandbox' })
    const s = await loadProfile(undefined, { cwd: dir, env })
    expect(s).toMatchObject({ name: 'sandbox', environment: 'sandbox', baseURL: 'https://sandbox.api.example.com', timeout: 30000 })
    expect(oauth1(s).consumerKey).toBe('sbx-ck')
    expect((oauth1(s).key as KeyObject).type).toBe('private')
    expect(Object.isFrozen(s) && Object.isFrozen(s.auth)).toBe(true)
    const p = await loadProfile(undefined, { cwd: dir, env: { ...env, APISIGN_PROFILE: 'production' } })
    expect(p).toMatchObject({ name: 'production', environment: 'production', baseURL: 'https://api.example.com', timeout: 5000 })
  })

  it('reads secrets from a .env file without overriding the environment', async () => {
    write({ sandbox })
    writeFileSync(join(dir, '.env'), 'SBX_CK=from-dotenv\nSBX_P12_PASSWORD=keystorepassword\n')
    const p = await loadProfile('sandbox', { cwd: dir, env: { SBX_CK: 'from-env' } })
    expect(oauth1(p).consumerKey).toBe('from-env')
    rmSync(join(dir, '.env'))
  })

  it('loads an .mjs config', async () => {
    writeFileSync(join(dir, 'apisign.config.mjs'), `export default ${JSON.stringify({ profiles: { production } })}`)
    const p = await loadProfile('production', { cwd: dir, configPath: 'apisign.config.mjs', env })
    expect(p.baseURL).toBe('https://api.example.com')
  })

  it('gives a precise error per mistake', async () => {
    write({ sandbox, production })
    expect(await code(loadProfile('staging', { cwd: dir, env }))).toBe('ERR_PROFILE_NOT_FOUND')
    write({ sandbox: { ...sandbox, auth: { ...sandbox.auth, key: { ...sandbox.auth.key, path: './keys/missing.p12' } } } })
    expect(await code(loadProfile('sandbox', { cwd: dir, env }))).toBe('ERR_FILE_NOT_FOUND')
    write({ production: { ...production, baseURL: 'https://sandbox.api.example.com' } })
    expect(await code(loadProfile('production', { cwd: dir, env }))).toBe('ERR_PROFILE_INVALID')
    write({ sandbox: { ...sandbox, baseURL: 'https://api.example.com' } })
    expect(await code(loadProfile('sandbox', { cwd: dir, env }))).toBe('ERR_PROFILE_INVALID')
    write({ production: { ...production, baseURL: 'http://api.example.com' } })
    expect(await code(loadProfile('production', { cwd: dir, env }))).toBe('ERR_PROFILE_INVALID')
    write({ sandbox: { ...sandbox, auth: { ...sandbox.auth, key: { ...sandbox.auth.key, password: 'inline' } } } })
    expect(await code(loadProfile('sandbox', { cwd: dir, env }))).toBe('ERR_PROFILE_INVALID')
    write({ sandbox })
    expect(await code(loadProfile('sandbox', { cwd: dir, env: { SBX_CK: 'x' } }))).toBe('ERR_PROFILE_INVALID')
    expect(await code(loadProfile('sandbox', { cwd: dir, env: { ...env, SBX_P12_PASSWORD: 'wrong' } }))).toBe('ERR_KEY_PASSWORD')
    expect(await code(loadProfile('sandbox', { cwd: join(dir, 'keys'), env }))).toBe('ERR_CONFIG_INVALID')
    // Mastercard's pre-production test facility is not production.
    write({ production: { ...production, baseURL: 'https://mtf.api.mastercard.com' } })
    expect(await code(loadProfile('production', { cwd: dir, env }))).toBe('ERR_PROFILE_INVALID')
  })

  it('refuses a signing key that does not match auth.certificate, before the first request', async () => {
    copyFileSync(sharedPath('keys/oauth1/certificate.pem'), join(dir, 'keys/partner-holds.pem'))
    copyFileSync(sharedPath('keys/encryption/other-certificate.pem'), join(dir, 'keys/someone-else.pem'))
    write({ production: { ...production, auth: { ...production.auth, certificate: './keys/partner-holds.pem' } } })
    expect((await loadProfile('production', { cwd: dir, env })).name).toBe('production')
    write({ production: { ...production, auth: { ...production.auth, certificate: './keys/someone-else.pem' } } })
    expect(await code(loadProfile('production', { cwd: dir, env }))).toBe('ERR_KEY_MISMATCH')
    expect((await loadProfile('production', { cwd: dir, env, checks: 'report' })).name).toBe('production')
    write({ production: { ...production, auth: { ...production.auth, certificate: './keys/absent.pem' } } })
    expect(await code(loadProfile('production', { cwd: dir, env }))).toBe('ERR_FILE_NOT_FOUND')
  })

  it('drives createClient: switching profile changes base URL and key, nothing else', async () => {
    const server = await startVerifyingServer(verifyingResponder)
    try {
      write({
        sandbox: { ...sandbox, baseURL: `${server.origin}/sandbox`, skipHostCheck: true },
        local: { ...production, environment: 'local', baseURL: `${server.origin}/prod` },
      })
      for (const name of ['sandbox', 'local']) {
        const api = createClient(await loadProfile(name, { cwd: dir, env }))
        await api.get('/v1/items')
      }
      expect(server.received.map((r) => [r.url, r.valid])).toEqual([['/sandbox/v1/items', true], ['/prod/v1/items', true]])
    } finally {
      await server.close()
    }
  })
})
