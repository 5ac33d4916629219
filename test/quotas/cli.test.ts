// `apisign mock` as a provider (issue 18, item 2): --key-store, --quota, --usage-log and --admin-port, run
// as the built binary.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createClient } from '../../src/http/index.js'
import { runCli } from '../../src/cli/run.js'
import { REPO_ROOT } from '../helpers/shared.js'

const dir = mkdtempSync(join(tmpdir(), 'apisign-mock-quota-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const TOKEN = 'admin-token-for-the-test-0123456789'

if (!existsSync(join(REPO_ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run npm run build (npm test does it first)')

describe('apisign mock --key-store --quota --usage-log --admin-port', () => {
  it('keys issued and revoked through the admin API, the quota answered with 429, usage in JSON and NDJSON', async () => {
    const log = join(dir, 'usage.ndjson')
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'dist/cli/main.js'), 'mock', '--spec', join(REPO_ROOT, 'openapi/ost.yaml'), '--key-store', 'memory', '--quota', '2/1m', '--usage-log', log, '--admin-port', '0', '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, APISIGN_ADMIN_TOKEN: TOKEN } },
    )
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()))
    try {
      const { url, adminUrl } = await new Promise<{ url: string; adminUrl: string }>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => resolve(JSON.parse(d.toString()) as { url: string; adminUrl: string }))
        child.once('exit', (c) => reject(new Error(`mock exited ${c}: ${stderr}`)))
      })
      expect(adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(stderr).not.toContain(TOKEN)
      const admin = (path: string, init: RequestInit = {}) => fetch(`${adminUrl}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}` } })
      const issued = (await (await admin('/keys', { method: 'POST', body: JSON.stringify({ kind: 'secret', keyId: 'ost-k1' }) })).json()) as { secret: string }
      const api = createClient({ baseURL: url, auth: { scheme: 'ost', apiKey: 'ost-k1', apiSecret: issued.secret }, retry: false })
      expect((await api.get('/users/u-1/balance')).headers['x-ratelimit-remaining']).toBe('1')
      await api.get('/users/u-1/balance')
      const refused = await api.get('/users/u-1/balance').catch((e: { response?: { status: number; headers: Record<string, string> } }) => e.response)
      expect(refused?.status).toBe(429)
      expect(Number(refused?.headers['retry-after'])).toBeGreaterThan(50)
      const usage = (await (await admin('/usage')).json()) as Record<string, { requests: number; rejectedByCode: Record<string, number> }>
      expect(usage['ost-k1']).toMatchObject({ requests: 3, rejectedByCode: { ERR_RATE_LIMITED: 1 } })
      expect((await admin('/keys/ost-k1/roll', { method: 'POST', body: JSON.stringify({ graceHours: 0 }) })).status).toBe(200)
      await expect(api.get('/users/u-1/balance')).rejects.toMatchObject({ details: { status: 401 } })
      expect((await admin('/keys/ost-k1', { method: 'DELETE' })).status).toBe(204)
      expect((await admin('/keys/nobody/roll', { method: 'POST' })).status).toBe(404)
      expect((await admin('/keys', { method: 'POST', body: JSON.stringify({ kind: 'nonsense' }) })).status).toBe(400)
      const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
      expect(lines.map((l) => [l['key'], l['status'], l['code'] ?? null])).toEqual([
        ['ost-k1', 200, null],
        ['ost-k1', 200, null],
        ['ost-k1', 429, 'ERR_RATE_LIMITED'],
        ['unauthenticated', 401, 'ERR_SIGNATURE_INVALID'],
      ])
      expect(lines[0]).toMatchObject({ operation: 'GET /users/{userId}/balance', method: 'GET', bytesIn: 0 })
      expect(readFileSync(log, 'utf8')).not.toContain(issued.secret)
    } finally {
      child.kill('SIGTERM')
    }
  })

  it('bad provider flags are usage errors', async () => {
    const run = async (argv: string[]) => {
      const err: string[] = []
      const code = await runCli(argv, { stdout: () => undefined, stderr: (s) => void err.push(s), cwd: dir, env: {} })
      return { code, stderr: err.join('') }
    }
    const spec = join(REPO_ROOT, 'openapi/ost.yaml')
    for (const flags of [['--quota', '5 per second'], ['--quota', '5/1s', '--quota-redis', 'nope'], ['--key-store', 'postgres://x'], ['--key-store', 'memory', '--admin-port', '-1']]) {
      const r = await run(['mock', '--spec', spec, '--key-store', 'memory', ...flags])
      expect(r.code, flags.join(' ')).toBe(2)
      expect(r.stderr).toMatch(/ERR_CLI_USAGE/)
    }
  })

  it('--admin-port without APISIGN_ADMIN_TOKEN is a usage error, never a token printed on stderr', async () => {
    const err: string[] = []
    const code = await runCli(['mock', '--spec', join(REPO_ROOT, 'openapi/ost.yaml'), '--key-store', 'memory', '--admin-port', '0'], { stdout: () => undefined, stderr: (s) => void err.push(s), cwd: dir, env: {} })
    expect(code).toBe(2)
    expect(err.join('')).toMatch(/ERR_CLI_USAGE.*APISIGN_ADMIN_TOKEN/)
  })
})
