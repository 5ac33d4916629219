import { spawn } from 'node:child_process'
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPrivateKey } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/run.js'
import { loadSpec } from '../../src/codegen/index.js'
import { createClient } from '../../src/http/index.js'
import { authForSpec } from '../../src/schemes/index.js'
import { signRequest } from '../../src/oauth1/index.js'
import { REPO_ROOT, readShared, sharedPath } from '../helpers/shared.js'

const dir = mkdtempSync(join(tmpdir(), 'apisign-verify-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const key = createPrivateKey(readShared('keys/oauth1/private-key.pem'))

async function run(argv: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(argv, { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), cwd: dir })
  return { code, stdout: out.join(''), stderr: err.join('') }
}

describe('apisign verify', () => {
  const url = 'https://sandbox.api.example.com/v1/payments?mode=sync'
  const body = '{"amount":1}'
  const signed = signRequest({ method: 'POST', url, body, consumerKey: 'ck!cli', key, timestamp: 1_800_000_000, nonce: 'n1' })
  writeFileSync(join(dir, 'headers.json'), JSON.stringify({ Authorization: signed.authorizationHeader }))
  writeFileSync(join(dir, 'body.json'), body)
  const base = ['verify', '--method', 'POST', '--url', url, '--headers-file', 'headers.json', '--consumer-key', 'ck!cli', '--public-key', sharedPath('keys/oauth1/public-key.pem'), '--now-ms', '1800000000000', '--json']
  it('accepts a captured request', async () => {
    const r = await run([...base, '--body-file', 'body.json'])
    expect(JSON.parse(r.stdout)).toEqual({ valid: true, code: null, consumerKey: 'ck!cli' })
    expect(r.code).toBe(0)
  })
  it('a headers file with a non-string header is a typed input error, not a crash', async () => {
    writeFileSync(join(dir, 'bad-headers.json'), JSON.stringify({ Authorization: 42 }))
    const r = await run(['verify', '--method', 'GET', '--url', url, '--headers-file', 'bad-headers.json', '--consumer-key', 'ck!cli', '--public-key', sharedPath('keys/oauth1/public-key.pem'), '--json'])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stderr)).toMatchObject({ error: { code: 'ERR_INVALID_INPUT' } })
  })
  it('rejects a tampered body with its code', async () => {
    writeFileSync(join(dir, 'tampered.json'), '{"amount":2}')
    const r = await run([...base, '--body-file', 'tampered.json'])
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: false, code: 'ERR_BODY_HASH_MISMATCH' })
    expect(r.code).toBe(1)
  })
})

describe('apisign mock (the built binary)', () => {
  it('serves the spec on 127.0.0.1 and verifies a signed call', async () => {
    const keyFile = join(dir, 'signing.pem')
    copyFileSync(sharedPath('keys/oauth1/private-key.pem'), keyFile)
    chmodSync(keyFile, 0o600)
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/cli/main.js'), 'mock', '--spec', join(REPO_ROOT, 'openapi/payments-mini.yaml'), '--consumer-key', 'ck!bin', '--public-key', sharedPath('keys/oauth1/public-key.pem'), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { url: string }).url))
        child.once('exit', (c) => reject(new Error(`mock exited ${c}`)))
      })
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mini$/)
      const api = createClient({ baseURL: url, auth: { scheme: 'oauth1', consumerKey: 'ck!bin', key: keyFile } })
      const r = await api.get('/payments/pay_123')
      expect(r.data).toMatchObject({ id: 'pay_123', status: 'AUTHORIZED' })
    } finally {
      child.kill('SIGTERM')
    }
  })

  it('--security serves the OST spec: OST HMAC and JWT bearer + X-Api-Key, secrets from the environment', async () => {
    const securityFile = join(dir, 'security.json')
    writeFileSync(
      securityFile,
      JSON.stringify({ ostHmac: { keys: { k1: { env: 'OST_SECRET' } } }, jwtBearer: { keys: { k1: { env: 'JWT_SECRET' } } }, apiKey: { keys: ['k1'] } }),
    )
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/cli/main.js'), 'mock', '--spec', join(REPO_ROOT, 'openapi/ost.yaml'), '--security', securityFile, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OST_SECRET: 'ost-secret', JWT_SECRET: 'jwt-secret-jwt-secret-jwt-secret!' },
    })
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { url: string }).url))
        child.once('exit', (c) => reject(new Error(`mock exited ${c}`)))
      })
      const spec = await loadSpec(join(REPO_ROOT, 'openapi/ost.yaml'))
      const api = createClient({
        baseURL: url,
        auth: authForSpec(spec, { ostHmac: { apiKey: 'k1', apiSecret: 'ost-secret' }, jwtBearer: { apiKey: 'k1', secret: 'jwt-secret-jwt-secret-jwt-secret!' }, apiKey: { key: 'k1' } }),
      })
      expect((await api.get('/users/u-1/balance')).status).toBe(200)
      expect((await api.get('/reports/daily', { params: { date: '2026-11-24' } })).data).toEqual({ date: '2026-11-24', total: 42 })
      const wrong = createClient({ baseURL: url, auth: authForSpec(spec, { ostHmac: { apiKey: 'k1', apiSecret: 'wrong' } }), retry: false })
      await expect(wrong.get('/users/u-1/balance')).rejects.toMatchObject({ code: 'ERR_GATEWAY_REJECTED' })
    } finally {
      child.kill('SIGTERM')
    }
  })
})
