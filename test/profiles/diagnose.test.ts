// Issue 14 item 7: errors a person can act on. Line and column of a malformed config file, the nearest
// known key for a misspelt one, every missing environment variable at once with the fix spelt out, the
// clock blamed when the partner blames the time, sandbox credentials caught in a production profile.
import { copyFileSync, chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type DoctorCheck, runDoctor } from '../../src/cli/doctor.js'
import { runCli } from '../../src/cli/run.js'
import { loadProfile } from '../../src/profiles/index.js'
import { jsonErrorLocation, nearestKey } from '../../src/profiles/diagnose.js'
import { failure } from '../helpers/failure.js'
import { sharedPath } from '../helpers/shared.js'

const root = mkdtempSync(join(tmpdir(), 'apisign-diagnose-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const keyA = join(root, 'a.pem')
const keyB = join(root, 'b.pem')
copyFileSync(sharedPath('keys/oauth1/private-key.pem'), keyA)
copyFileSync(sharedPath('keys/encryption/private-key-pkcs8.pem'), keyB)
chmodSync(keyA, 0o600)
chmodSync(keyB, 0o600)

function project(config: unknown, raw?: string): string {
  const dir = mkdtempSync(join(root, 'p-'))
  writeFileSync(join(dir, 'apisign.config.json'), raw ?? JSON.stringify(config, null, 2))
  return dir
}
const checksOf = async (dir: string, profile: string, env: Record<string, string> = {}) =>
  Object.fromEntries((await runDoctor({ profile, cwd: dir, env })).checks.map((c) => [c.id, c])) as Record<string, DoctorCheck>

describe('a malformed config file: line and column', () => {
  it('the profiles file', async () => {
    const dir = project(undefined, '{\n  "profiles": {\n    sandbox: {}\n  }\n}\n')
    expect(failure(await loadProfile('sandbox', { cwd: dir, env: {} }).then(() => undefined, (e: unknown) => () => { throw e }) as () => never)).toEqual({
      code: 'ERR_CONFIG_INVALID',
      message: `${join(dir, 'apisign.config.json')} is not valid JSON (line 3, column 5)`,
    })
  })
  it('the encryption config file, and a file cut short', async () => {
    const dir = project({ profiles: { sandbox: { environment: 'sandbox', baseURL: 'https://sandbox.example.com', auth: { scheme: 'oauth1', consumerKey: 'ck', key: { path: keyA } }, encryption: { configFile: './enc.json' } } } })
    writeFileSync(join(dir, 'enc.json'), '{ "mode": "JWE",\n  "paths": [ }')
    const error = (await loadProfile('sandbox', { cwd: dir, env: {} }).catch((e: unknown) => e)) as Error
    expect(error.message).toMatch(/encryption\.configFile .*enc\.json is not valid JSON \(line 2, column 14\)$/)
    expect(jsonErrorLocation('{"a": [1,', new SyntaxError('Unexpected end of JSON input'))).toBe('line 1, column 10')
    expect(jsonErrorLocation('x', new Error('something else'))).toBe('line 1, column 1')
    expect(jsonErrorLocation('{"a":1}', new Error('something else'))).toBeUndefined()
  })
})

describe('unknown keys name the nearest known one', () => {
  it('basURL -> baseURL; consumerKeyEnvv -> consumerKeyEnv; passwordENV -> passwordEnv; defaultProfle', async () => {
    const dir = project({
      defaultProfle: 'sandbox',
      profiles: { sandbox: { environment: 'sandbox', basURL: 'https://sandbox.example.com', auth: { scheme: 'oauth1', consumerKeyEnvv: 'CK', key: { path: keyA, passwordENV: 'P' } } } },
    })
    const error = (await loadProfile('sandbox', { cwd: dir, env: {} }).catch((e: unknown) => e)) as { code: string; message: string }
    expect(error.code).toBe('ERR_PROFILE_INVALID')
    expect(error.message.split('; ')).toEqual([
      'config file: unknown key "defaultProfle" (did you mean "defaultProfile"?)',
      'profile sandbox: unknown key "basURL" (did you mean "baseURL"?)',
      'profile sandbox: auth: unknown key "consumerKeyEnvv" (did you mean "consumerKeyEnv"?)',
      'profile sandbox: auth.key: unknown key "passwordENV" (did you mean "passwordEnv"?)',
    ])
  })
  it('a key that resembles nothing lists the known ones; secrets written inline keep their own message', async () => {
    const dir = project({ profiles: { sandbox: { environment: 'sandbox', baseURL: 'https://sandbox.example.com', auth: { scheme: 'oauth1', consumerKey: 'ck', key: { path: keyA } }, zzzzzzzz: 1 } } })
    expect(((await loadProfile('sandbox', { cwd: dir, env: {} }).catch((e: unknown) => e)) as Error).message).toMatch(/unknown key "zzzzzzzz" \(known: environment, baseURL, auth/)
    const secret = project({ profiles: { sandbox: { environment: 'sandbox', baseURL: 'https://sandbox.example.com', auth: { scheme: 'oauth1', consumerKey: 'ck', key: { path: keyA, password: 'x' } } } } })
    expect(((await loadProfile('sandbox', { cwd: secret, env: {} }).catch((e: unknown) => e)) as Error).message).toMatch(/secrets must not be written in the config file/)
    expect(nearestKey('TIMEOUTMS', ['timeoutMs'])).toBe('timeoutMs')
  })
})

describe('apisign doctor: what to do', () => {
  it('every missing environment variable at once, with the export line', async () => {
    const dir = project({ profiles: { sandbox: { environment: 'sandbox', baseURL: 'https://sandbox.example.com', auth: { scheme: 'oauth1', consumerKeyEnv: 'MC_CONSUMER_KEY', key: { pathEnv: 'MC_KEY_PATH', passwordEnv: 'MC_P12_PASSWORD' } } } } })
    const checks = await checksOf(dir, 'sandbox', { MC_KEY_PATH: keyA })
    expect(checks['environment']).toEqual({
      id: 'environment',
      status: 'fail',
      message: 'not set: MC_CONSUMER_KEY (auth.consumerKeyEnv), MC_P12_PASSWORD (auth.key.passwordEnv)',
      fix: `export MC_CONSUMER_KEY MC_P12_PASSWORD, or add them to ${join(dir, '.env')} (NAME=value; never commit it)`,
    })
    expect((await checksOf(dir, 'sandbox', { MC_KEY_PATH: keyA, MC_CONSUMER_KEY: 'ck', MC_P12_PASSWORD: 'p' }))['environment']?.status).toBe('pass')
  })
  it('a production profile with the sandbox consumer key or signing key', async () => {
    const profiles = (prodKey: string) => ({
      profiles: {
        sandbox: { environment: 'sandbox', baseURL: 'https://sandbox.api.example.com', auth: { scheme: 'oauth1', consumerKey: 'ck!sandbox', key: { path: keyA } } },
        production: { environment: 'production', baseURL: 'https://api.example.com', auth: { scheme: 'oauth1', consumerKeyEnv: 'PROD_CK', key: { path: prodKey } } },
      },
    })
    const same = await checksOf(project(profiles(keyA)), 'production', { PROD_CK: 'ck!sandbox' })
    expect(same['production-credentials']).toMatchObject({ status: 'fail', message: 'profile production (production) uses the consumer key of sandbox profile sandbox' })
    expect(same['production-key']).toMatchObject({ status: 'fail', message: expect.stringContaining('signs with the same key as sandbox profile sandbox') })
    const distinct = await checksOf(project(profiles(keyB)), 'production', { PROD_CK: 'ck!production' })
    expect(distinct['production-credentials']?.status).toBe('pass')
    expect(distinct['production-key']).toBeUndefined()
  })
  it('the probe rejected for its time: the clock is blamed, with the NTP fix', async () => {
    const server: Server = createServer((req, res) => {
      res.sendDate = false // no Date header to compare with, so only the rejection tells
      if (req.method === 'HEAD') return void res.writeHead(200).end()
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ Errors: { Error: [{ Source: 'Gateway', ReasonCode: 'INVALID_TIMESTAMP', Description: 'oauth_timestamp is outside the time window', Recoverable: false }] } }))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      const dir = project({ profiles: { sandbox: { environment: 'sandbox', baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, auth: { scheme: 'oauth1', consumerKey: 'ck', key: { path: keyA } } } } })
      const report = await runDoctor({ profile: 'sandbox', cwd: dir, env: {}, online: true })
      const clock = report.checks.filter((c) => c.id === 'clock')
      expect(clock.at(-1)).toMatchObject({ status: 'fail', message: expect.stringContaining('INVALID_TIMESTAMP'), fix: expect.stringContaining('NTP') })
      expect(report.checks.some((c) => c.id === 'probe')).toBe(false)
    } finally {
      await new Promise<void>((r) => server.close(() => r()))
    }
  })
})

describe('the CLI for a newcomer', () => {
  const run = async (argv: string[]) => {
    const out: string[] = []
    const code = await runCli(argv, { stdout: (s) => void out.push(s), stderr: () => undefined, cwd: root })
    return { code, stdout: out.join('') }
  }
  it('--version, no arguments, (required) in help; a command\'s own --version option still works', async () => {
    expect((await run(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
    const help = await run([])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/Usage: apisign[\s\S]*generate/)
    expect((await run(['oauth1', 'sign', '--help'])).stdout).toMatch(/--method <method>\s+\(required\)/)
    expect((await run(['ost', 'verify-webhook', '--help'])).stdout).toMatch(/--version <v/)
  })
})
