import { execFileSync } from 'node:child_process'
import { chmodSync, copyFileSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { rmSync } from 'node:fs'
import { runCli } from '../../src/cli/run.js'
import { REPO_ROOT, readSharedJson, sharedPath } from '../helpers/shared.js'

interface Vector {
  id: string
  input: {
    method: string
    url: string
    body: string | null
    bodyBase64?: string
    contentType?: string
    consumerKey: string
    nonce: string
    timestamp: number | string
    signatureMethod: string
  }
  expected: Record<string, string | boolean | undefined>
  mastercardDialect: { signatureBaseString: string | null; signature?: string }
  rfc5849Strict: { signatureBaseString: string }
}

const vectors = readSharedJson<{ vectors: Vector[] }>('vectors/oauth1-vectors.json').vectors
const dir = mkdtempSync(join(tmpdir(), 'apisign-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
// A key file as it should be on disk: mode 0600 (the shared test keys are 0444, which the CLI refuses).
const KEY = join(dir, 'private-key.pem')
copyFileSync(sharedPath('keys/oauth1/private-key.pem'), KEY)
chmodSync(KEY, 0o600)
const P12 = join(dir, 'keystore.p12')
copyFileSync(sharedPath('keys/oauth1/keystore.p12'), P12)
chmodSync(P12, 0o600)

async function run(argv: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(argv, { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s) })
  return { code, stdout: out.join(''), stderr: err.join('') }
}

function argsFor(v: Vector, dialect: string): string[] {
  const args = ['oauth1', 'sign', '--method', v.input.method, '--url', v.input.url, '--consumer-key', v.input.consumerKey,
    '--key', KEY, '--nonce', v.input.nonce, '--timestamp', String(v.input.timestamp),
    '--signature-method', v.input.signatureMethod === 'RSA-PSS-SHA256' ? 'RSA-PSS' : v.input.signatureMethod,
    '--dialect', dialect, '--json']
  if (v.input.bodyBase64 !== undefined || v.input.body !== null) {
    const file = join(dir, `${v.id}.body`)
    writeFileSync(file, v.input.bodyBase64 !== undefined ? Buffer.from(v.input.bodyBase64, 'base64') : Buffer.from(v.input.body as string, 'utf8'))
    args.push('--body-file', file)
  }
  if (v.input.contentType !== undefined) args.push('--content-type', v.input.contentType)
  if (dialect === 'rfc5849') args.push('--body-hash')
  return args
}

describe('apisign oauth1 sign: every vector through the CLI', () => {
  for (const v of vectors) {
    it(v.id, async () => {
      const compat = await run(argsFor(v, 'compat'))
      expect(compat.stderr).toBe('')
      expect(compat.code).toBe(0)
      const c = JSON.parse(compat.stdout) as Record<string, string>
      expect(Object.keys(c)).toEqual(['baseUri', 'parameterString', 'signatureBaseString', 'bodyHash', 'signature', 'authorizationHeader'])
      expect(c.baseUri).toBe(v.expected.baseUri)
      expect(c.parameterString).toBe(v.expected.paramString)
      expect(c.signatureBaseString).toBe(v.expected.signatureBaseString)
      expect(c.bodyHash).toBe(v.expected.bodyHash)
      if (v.expected.signatureDeterministic) {
        expect(c.signature).toBe(v.expected.signature)
        expect(c.authorizationHeader).toBe(v.expected.authorizationHeader)
      }
      const mc = JSON.parse((await run(argsFor(v, 'mastercard'))).stdout) as Record<string, string>
      if (v.mastercardDialect.signatureBaseString !== null) {
        expect(mc.signatureBaseString).toBe(v.mastercardDialect.signatureBaseString)
      }
      if (v.mastercardDialect.signature !== undefined) expect(mc.signature).toBe(v.mastercardDialect.signature)
      const rfc = JSON.parse((await run(argsFor(v, 'rfc5849'))).stdout) as Record<string, string>
      expect(rfc.signatureBaseString).toBe(v.rfc5849Strict.signatureBaseString)
    })
  }

  it('reports a bad URL as a JSON error on stderr with a non-zero exit', async () => {
    const r = await run(['oauth1', 'sign', '--method', 'GET', '--url', '/relative', '--consumer-key', 'ck', '--key', KEY, '--json'])
    expect(r.code).not.toBe(0)
    expect(r.stdout).toBe('')
    expect(JSON.parse(r.stderr)).toEqual({ error: { code: 'ERR_INVALID_URL', message: expect.any(String) } })
  })

  it('reports a missing key file with ERR_FILE_NOT_FOUND', async () => {
    const r = await run(['oauth1', 'sign', '--method', 'GET', '--url', 'https://a.example.com/', '--consumer-key', 'ck', '--key', join(dir, 'nope.pem'), '--json'])
    expect((JSON.parse(r.stderr) as { error: { code: string } }).error.code).toBe('ERR_FILE_NOT_FOUND')
  })

  it('runs as the built `apisign` binary', () => {
    const v = vectors.find((x) => x.id === 'get-simple-query') as Vector
    const stdout = execFileSync(process.execPath, [join(REPO_ROOT, 'dist/cli/main.js'), ...argsFor(v, 'compat')], { encoding: 'utf8' })
    expect((JSON.parse(stdout) as { authorizationHeader: string }).authorizationHeader).toBe(v.expected.authorizationHeader)
  })

  it('signs with a PKCS#12 keystore, alias and a password from the environment', async () => {
    const v = vectors.find((x) => x.id === 'get-simple-query') as Vector
    const args = argsFor(v, 'compat').map((a) => (a === KEY ? P12 : a))
    const out: string[] = []
    const code = await runCli([...args, '--key-alias', 'keyalias', '--key-password-env', 'P12_PASSWORD'], {
      stdout: (s) => void out.push(s),
      stderr: () => undefined,
      env: { P12_PASSWORD: 'keystorepassword' },
    })
    expect(code).toBe(0)
    expect((JSON.parse(out.join('')) as { signature: string }).signature).toBe(v.expected.signature)
  })

  it('refuses a world-readable key file unless told, then warns on stderr', async () => {
    const shared = sharedPath('keys/oauth1/private-key.pem') // mode 0444
    const base = ['oauth1', 'sign', '--method', 'GET', '--url', 'https://a.example.com/', '--consumer-key', 'ck', '--key', shared, '--json']
    const refused = await run(base)
    expect((JSON.parse(refused.stderr) as { error: { code: string } }).error.code).toBe('ERR_KEY_FILE_PERMISSIONS')
    const warned = await run([...base, '--insecure-key-permissions'])
    expect(warned.code).toBe(0)
    expect(warned.stderr).toContain('chmod 600')
  })

  it('prints help for oauth1 sign', async () => {
    const r = await run(['oauth1', 'sign', '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('--consumer-key')
  })
})
