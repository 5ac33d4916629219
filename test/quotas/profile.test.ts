// A profile's `rateLimit` (issue 18, item 1): validated when the profile loads, the Redis URL inline or
// from the environment (never a password in the file), and enforced by createClient(profile).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createClient } from '../../src/http/index.js'
import { loadProfile } from '../../src/profiles/index.js'
import { createKeyStore } from '../../src/quotas/index.js'
import { startMockGateway } from '../../src/testing/index.js'
import { QUOTA_SPEC } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'apisign-profile-quota-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const write = (rateLimit: unknown, baseURL = 'https://sandbox.api.example.com/v2') =>
  writeFileSync(join(dir, 'apisign.config.json'), JSON.stringify({ profiles: { sandbox: { environment: 'sandbox', baseURL, auth: { scheme: 'ost', apiKey: 'k1', apiSecret: { env: 'OST_SECRET' } }, rateLimit } } }))
const load = (env: Record<string, string> = {}) => loadProfile('sandbox', { cwd: dir, env: { OST_SECRET: 'x'.repeat(32), ...env } })

describe('profiles: rateLimit', () => {
  it.each([
    ['a fractional request count', { windows: [{ requests: 1.5, perMs: 1000 }] }],
    ['a negative window', { windows: [{ requests: 5, perMs: -1000 }] }],
    ['a typo in a window', { windows: ['5/1sec'] }],
    ['no windows', {}],
    ['local without fleetSize', { windows: ['5/1s'], redis: 'redis://127.0.0.1:6379', onRedisDown: 'local' }],
    ['not an object', '5/1s'],
  ])('%s is ERR_PROFILE_INVALID at load', async (_name, rateLimit) => {
    write(rateLimit)
    await expect(load()).rejects.toMatchObject({ code: 'ERR_PROFILE_INVALID' })
  })

  it('a Redis password is never written in the file: { env } instead', async () => {
    write({ windows: ['5/1s'], redis: 'redis://:hunter2@127.0.0.1:6379' })
    const error = await load().catch((e: Error) => e)
    expect(error).toMatchObject({ code: 'ERR_PROFILE_INVALID' })
    expect(String((error as Error).message)).not.toContain('hunter2')
    write({ windows: ['5/1s'], redis: { env: 'QUOTA_REDIS' } })
    await expect(load()).rejects.toMatchObject({ code: 'ERR_PROFILE_INVALID' })
    const profile = await load({ QUOTA_REDIS: 'redis://:pw@127.0.0.1:6379' })
    expect(profile.rateLimit).toMatchObject({ windows: ['5/1s'], redis: 'redis://:pw@127.0.0.1:6379' })
  })

  it('createClient(profile) waits for the quota and fails past the deadline with ERR_RATE_LIMITED', async () => {
    const keyStore = createKeyStore()
    await keyStore.issue({ kind: 'secret', keyId: 'k1', secret: 'x'.repeat(32) })
    const gateway = await startMockGateway({ spec: QUOTA_SPEC, keyStore })
    try {
      write({ windows: ['2/1s', '3/1d'], queue: { maxWaitMs: 2000 } }, gateway.url)
      const api = createClient(await load())
      await Promise.all([api.get('/items'), api.get('/items'), api.get('/items')])
      await expect(api.get('/items')).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED', details: { window: '3/1d' } })
      expect(gateway.requests).toHaveLength(3)
    } finally {
      await gateway.close()
    }
  })
})
