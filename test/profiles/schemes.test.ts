// Profiles for the other schemes: secrets as { env } / { file } references turned into credential
// providers, so a rotated secret is used by the next request without reloading the profile.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createClient } from '../../src/http/index.js'
import { loadProfile } from '../../src/profiles/index.js'
import { startMockGateway } from '../../src/testing/index.js'
import { REPO_ROOT } from '../helpers/shared.js'

const dir = mkdtempSync(join(tmpdir(), 'apisign-profile-schemes-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const write = (profiles: object) => writeFileSync(join(dir, 'apisign.config.json'), JSON.stringify({ profiles }))
const code = (p: Promise<unknown>) => p.then(() => 'resolved', (e: { code?: string }) => e.code)

describe('profiles with other schemes', () => {
  it('an OST profile signs through createClient; the secret file is re-read when rotated', async () => {
    writeFileSync(join(dir, 'ost-secret'), 'secret-1\n', { mode: 0o600 })
    const gateway = await startMockGateway({
      spec: join(REPO_ROOT, 'openapi/ost.yaml'),
      security: { ostHmac: { keys: { k1: ['secret-2', { secret: 'secret-1', notAfter: Date.now() + 60_000 }] } }, jwtBearer: { keys: {} }, apiKey: { keys: [] } },
    })
    try {
      write({ sandbox: { environment: 'sandbox', baseURL: gateway.url, auth: { scheme: 'ost', apiKey: 'k1', apiSecret: { file: './ost-secret' } } } })
      const profile = await loadProfile('sandbox', { cwd: dir, env: {} })
      expect(profile.auth.scheme).toBe('ost')
      const api = createClient(profile)
      await api.get('/users/u-1/balance')
      writeFileSync(join(dir, 'ost-secret'), 'secret-2\n')
      await api.get('/users/u-1/balance')
      expect(gateway.requests.map((r) => [r.status, r.principal])).toEqual([[200, 'k1'], [200, 'k1']])
    } finally {
      await gateway.close()
    }
  })

  it('an env secret is read per attempt from the live environment', async () => {
    const env: Record<string, string | undefined> = { JWT_SECRET: 'first-secret-first-secret-first!!' }
    write({ sandbox: { environment: 'sandbox', baseURL: 'https://sandbox.api.example.com', auth: { scheme: 'jwt-bearer', apiKey: 'app', secret: { env: 'JWT_SECRET' } } } })
    const profile = await loadProfile('sandbox', { cwd: dir, env })
    if (profile.auth.scheme !== 'jwt-bearer') throw new Error('expected jwt-bearer')
    const secret = profile.auth.secret as { get(): Promise<string> }
    expect(await secret.get()).toBe('first-secret-first-secret-first!!')
    env['JWT_SECRET'] = 'second-secret-second-secret-second'
    expect(await secret.get()).toBe('second-secret-second-secret-second')
  })

  it('refuses inline secrets, unknown schemes, unset variables, missing files and incomplete options', async () => {
    const base = { environment: 'sandbox', baseURL: 'https://sandbox.api.example.com' }
    write({ sandbox: { ...base, auth: { scheme: 'ost', apiKey: 'k', apiSecret: 'inline-secret' } } })
    expect(await code(loadProfile('sandbox', { cwd: dir, env: {} }))).toBe('ERR_PROFILE_INVALID')
    write({ sandbox: { ...base, auth: { scheme: 'kerberos' } } })
    expect(await code(loadProfile('sandbox', { cwd: dir, env: {} }))).toBe('ERR_PROFILE_INVALID')
    write({ sandbox: { ...base, auth: { scheme: 'basic', username: 'u', password: { env: 'NOPE' } } } })
    expect(await code(loadProfile('sandbox', { cwd: dir, env: {} }))).toBe('ERR_PROFILE_INVALID')
    write({ sandbox: { ...base, auth: { scheme: 'basic', username: 'u', password: { file: './missing' } } } })
    expect(await code(loadProfile('sandbox', { cwd: dir, env: {} }))).toBe('ERR_FILE_NOT_FOUND')
    write({ sandbox: { ...base, auth: { scheme: 'basic', username: 'a:b', password: { env: 'P' } } } })
    expect(await code(loadProfile('sandbox', { cwd: dir, env: { P: 'x' } }))).toBe('ERR_PROFILE_INVALID')
    write({ sandbox: { ...base, auth: { scheme: 'sigv4', region: 'eu-west-1', service: 'execute-api', credentials: { accessKeyId: 'AKID', secretAccessKey: { env: 'AWS_SECRET' } } } } })
    expect((await loadProfile('sandbox', { cwd: dir, env: { AWS_SECRET: 's' } })).auth.scheme).toBe('sigv4')
  })
})
