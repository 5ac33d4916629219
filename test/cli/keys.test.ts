import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/run.js'
import { sharedPath } from '../helpers/shared.js'

const dir = mkdtempSync(join(tmpdir(), 'apisign-keys-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
function privateCopy(rel: string): string {
  const path = join(dir, rel.replaceAll('/', '_'))
  copyFileSync(sharedPath(rel), path)
  chmodSync(path, 0o600)
  return path
}

async function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(argv, { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), env })
  const stdout = out.join('')
  const stderr = err.join('')
  // Never any key material or password on either stream.
  for (const text of [stdout, stderr]) {
    expect(text).not.toMatch(/PRIVATE KEY|keystorepassword|MIIE/)
  }
  return { code, stdout, stderr }
}



describe('apisign keys inspect', () => {
  it('describes a PEM private key with fingerprints and a matching certificate', async () => {
    const r = await run(['keys', 'inspect', '--key', privateCopy('keys/oauth1/private-key.pem'), '--cert', sharedPath('keys/oauth1/certificate.pem'), '--json'])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as Record<string, any>
    expect(out).toMatchObject({ type: 'private', algorithm: 'rsa', bits: 2048, source: 'pem' })
    expect(out.publicKeyFingerprint.hex).toMatch(/^[0-9a-f]{64}$/)
    expect(out.certificate.matchesKey).toBe(true)
    expect(out.certificate.subject).toContain('oauth1-test-vectors')
  })

  it('gives the same fingerprint for the PKCS#12, the public key and the certificate', async () => {
    const pem = JSON.parse((await run(['keys', 'inspect', '--key', privateCopy('keys/oauth1/private-key.pem'), '--json'])).stdout)
    const p12 = JSON.parse((await run(['keys', 'inspect', '--key', privateCopy('keys/oauth1/keystore.p12'), '--key-alias', 'keyalias', '--key-password-env', 'PW', '--json'], { PW: 'keystorepassword' })).stdout)
    const pub = JSON.parse((await run(['keys', 'inspect', '--key', sharedPath('keys/oauth1/public-key.pem'), '--json'])).stdout)
    const cert = JSON.parse((await run(['keys', 'inspect', '--key', sharedPath('keys/oauth1/certificate.pem'), '--json'])).stdout)
    expect(p12.source).toBe('pkcs12')
    expect(p12.certificate.matchesKey).toBe(true)
    expect(pub.type).toBe('public')
    for (const x of [p12, pub, cert]) expect(x.publicKeyFingerprint).toEqual(pem.publicKeyFingerprint)

  })

  it('reports a key that does not match the certificate', async () => {
    const r = await run(['keys', 'inspect', '--key', privateCopy('keys/oauth1/private-key.pem'), '--cert', sharedPath('keys/encryption/other-certificate.pem'), '--json'])
    expect((JSON.parse(r.stdout) as { certificate: { matchesKey: boolean } }).certificate.matchesKey).toBe(false)
  })

  it('fails with a typed error for a wrong keystore password', async () => {
    const r = await run(['keys', 'inspect', '--key', privateCopy('keys/oauth1/keystore.p12'), '--key-password-env', 'PW', '--json'], { PW: 'wrong' })
    expect(r.code).toBe(1)
    expect((JSON.parse(r.stderr) as { error: { code: string } }).error.code).toBe('ERR_KEY_PASSWORD')
  })

  it('has help', async () => {
    const r = await run(['keys', '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('inspect')
  })
})
