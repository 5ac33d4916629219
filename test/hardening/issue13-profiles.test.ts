// Issue 13 items 5 and 6: production means https whatever the spelling; secret files and config modules
// are treated like private keys.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runDoctor } from '../../src/cli/doctor.js'
import { isApisignError } from '../../src/errors.js'
import { loadProfile } from '../../src/profiles/index.js'
import { sharedPath } from '../helpers/shared.js'

const dir = mkdtempSync(join(tmpdir(), 'apisign-i13-profiles-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
mkdirSync(join(dir, 'keys'))
copyFileSync(sharedPath('keys/oauth1/private-key.pem'), join(dir, 'keys/signing.pem'))
chmodSync(join(dir, 'keys/signing.pem'), 0o600)
const oauth1 = { scheme: 'oauth1', consumerKey: 'ck', key: { path: './keys/signing.pem' } }
const write = (profiles: Record<string, unknown>) => writeFileSync(join(dir, 'apisign.config.json'), JSON.stringify({ profiles }))
async function failure(p: Promise<unknown>): Promise<{ code: string; message: string } | 'loaded'> {
  try {
    await p
    return 'loaded'
  } catch (e) {
    if (isApisignError(e)) return { code: e.code, message: e.message }
    throw e
  }
}

describe('issue 13 item 5: production means https, whatever the spelling', () => {
  it('environment names are compared case-insensitively: Production, PROD, live, prd are production', async () => {
    for (const environment of ['Production', 'PROD', 'live', 'Prd', ' production ']) {
      write({ eu: { environment, baseURL: 'http://api.example.com', auth: oauth1 } })
      const f = await failure(loadProfile('eu', { cwd: dir, env: {} }))
      expect(f, environment).toMatchObject({ code: 'ERR_PROFILE_INVALID', message: expect.stringMatching(/must use https/) })
      write({ eu: { environment, baseURL: 'https://api.example.com', auth: oauth1 } })
      expect((await loadProfile('eu', { cwd: dir, env: {} })).environment).toBe('production')
    }
  })
  it('unknown environment names are refused; a name that says neither must set one', async () => {
    for (const environment of ['prodution', 'europe', 'live-ish', 42]) {
      write({ eu: { environment, baseURL: 'https://api.example.com', auth: oauth1 } })
      expect(await failure(loadProfile('eu', { cwd: dir, env: {} })), String(environment)).toMatchObject({ code: 'ERR_PROFILE_INVALID' })
    }
    write({ partner: { baseURL: 'https://api.example.com', auth: oauth1 } })
    expect(await failure(loadProfile('partner', { cwd: dir, env: {} }))).toMatchObject({ code: 'ERR_PROFILE_INVALID', message: expect.stringMatching(/set "environment"/) })
    write({ 'eu-Live': { baseURL: 'http://api.example.com', auth: oauth1 } })
    expect(await failure(loadProfile('eu-Live', { cwd: dir, env: {} }))).toMatchObject({ message: expect.stringMatching(/must use https/) })
  })
  it('http:// is refused for any non-loopback host unless the profile opts out by name', async () => {
    write({ sandbox: { environment: 'uat', baseURL: 'http://sandbox.api.example.com', auth: oauth1 } })
    expect(await failure(loadProfile('sandbox', { cwd: dir, env: {} }))).toMatchObject({ code: 'ERR_PROFILE_INVALID', message: expect.stringMatching(/non-loopback/) })
    write({ sandbox: { environment: 'uat', baseURL: 'http://sandbox.api.example.com', allowInsecureHttp: true, auth: oauth1 } })
    expect((await loadProfile('sandbox', { cwd: dir, env: {} })).environment).toBe('sandbox')
    for (const host of ['127.0.0.1:8080', 'localhost', '[::1]:9000']) {
      write({ sandbox: { environment: 'sandbox', baseURL: `http://${host}`, auth: oauth1 } })
      expect((await loadProfile('sandbox', { cwd: dir, env: {} })).baseURL, host).toMatch(/^http:\/\//)
    }
    // The opt-out never covers production.
    write({ prd: { environment: 'prd', baseURL: 'http://api.example.com', allowInsecureHttp: true, auth: oauth1 } })
    expect(await failure(loadProfile('prd', { cwd: dir, env: {} }))).toMatchObject({ message: expect.stringMatching(/must use https/) })
  })
})

describe('issue 13 item 6: secret files are treated like private keys', () => {
  const ost = (file: string) => ({ sandbox: { environment: 'sandbox', baseURL: 'https://sandbox.api.example.com/v2', auth: { scheme: 'ost', apiKey: 'k1', apiSecret: { file } } } })
  it('a {file} secret reference readable by group or others is refused (same policy and option as key files)', async () => {
    writeFileSync(join(dir, 'secret-open'), 'secret-value\n', { mode: 0o644 })
    chmodSync(join(dir, 'secret-open'), 0o644)
    write(ost('./secret-open'))
    const f = await failure(loadProfile('sandbox', { cwd: dir, env: {} }))
    expect(f).toMatchObject({ code: 'ERR_KEY_FILE_PERMISSIONS', message: expect.stringMatching(/secret file .*secret-open is readable by group or others/) })
    expect(JSON.stringify(f)).not.toContain('secret-value')
    expect((await loadProfile('sandbox', { cwd: dir, env: {}, keyFilePermissions: 'ignore' })).auth.scheme).toBe('ost')
    chmodSync(join(dir, 'secret-open'), 0o600)
    expect((await loadProfile('sandbox', { cwd: dir, env: {} })).auth.scheme).toBe('ost')
  })
  it('a keystore password file is a secret file too', async () => {
    copyFileSync(sharedPath('keys/oauth1/keystore.p12'), join(dir, 'keys/k.p12'))
    chmodSync(join(dir, 'keys/k.p12'), 0o600)
    writeFileSync(join(dir, 'p12-password'), 'keystorepassword\n')
    chmodSync(join(dir, 'p12-password'), 0o640)
    write({ sandbox: { environment: 'sandbox', baseURL: 'https://sandbox.api.example.com', auth: { scheme: 'oauth1', consumerKey: 'ck', key: { path: './keys/k.p12', alias: 'keyalias', passwordFile: './p12-password' } } } })
    expect(await failure(loadProfile('sandbox', { cwd: dir, env: {} }))).toMatchObject({ code: 'ERR_KEY_FILE_PERMISSIONS' })
  })
  it('symlinks are resolved (the target is judged) and reported by doctor', async () => {
    writeFileSync(join(dir, 'secret-target'), 'secret-value\n')
    chmodSync(join(dir, 'secret-target'), 0o644)
    symlinkSync(join(dir, 'secret-target'), join(dir, 'secret-link'))
    write(ost('./secret-link'))
    expect(await failure(loadProfile('sandbox', { cwd: dir, env: {} }))).toMatchObject({ code: 'ERR_KEY_FILE_PERMISSIONS' })
    const report = await runDoctor({ profile: 'sandbox', cwd: dir, env: {} })
    const check = report.checks.find((c) => c.id.startsWith('secret-file-permissions'))
    expect(check).toMatchObject({ status: 'fail', message: expect.stringContaining(`is a symlink to ${join(dir, 'secret-target')}`) })
    chmodSync(join(dir, 'secret-target'), 0o600)
    const again = await runDoctor({ profile: 'sandbox', cwd: dir, env: {} })
    expect(again.checks.find((c) => c.id.startsWith('secret-file-permissions'))).toMatchObject({ status: 'pass' })
  })
  it('a config .mjs that group or others may write is refused before it is imported', async () => {
    const moduleDir = mkdtempSync(join(dir, 'mjs-'))
    const marker = join(moduleDir, 'imported')
    writeFileSync(
      join(moduleDir, 'apisign.config.mjs'),
      `import { writeFileSync } from 'node:fs'\nwriteFileSync(${JSON.stringify(marker)}, 'ran')\nexport default { profiles: { sandbox: { environment: 'sandbox', baseURL: 'https://sandbox.api.example.com', auth: { scheme: 'api-key', key: { env: 'K' } } } } }\n`,
    )
    chmodSync(join(moduleDir, 'apisign.config.mjs'), 0o666)
    expect(await failure(loadProfile('sandbox', { cwd: moduleDir, env: { K: 'v' } }))).toMatchObject({ code: 'ERR_CONFIG_INVALID', message: expect.stringMatching(/writable by group or others/) })
    const { existsSync } = await import('node:fs')
    expect(existsSync(marker)).toBe(false)
    chmodSync(join(moduleDir, 'apisign.config.mjs'), 0o644)
    await loadProfile('sandbox', { cwd: moduleDir, env: { K: 'v' } })
    expect(existsSync(marker)).toBe(true)
  })
})
