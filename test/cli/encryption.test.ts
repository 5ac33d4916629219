import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/run.js'
import { compactEncrypt } from '../../src/encryption/index.js'
import { loadCertificate } from '../../src/keys/index.js'
import { sortKeys } from '../encryption/helpers.js'
import { readSharedJson, sharedPath } from '../helpers/shared.js'

const dir = mkdtempSync(join(tmpdir(), 'apisign-enc-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
for (const f of ['certificate.pem', 'private-key-pkcs8.pem']) {
  copyFileSync(sharedPath('keys/encryption', f), join(dir, f))
  chmodSync(join(dir, f), 0o600)
}

async function run(argv: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(argv, { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), cwd: dir })
  return { code, stdout: out.join(''), stderr: err.join('') }
}

interface Vector { id: string; endpoint: string; config: Record<string, unknown>; plain: { header: object; body: unknown }; encrypted: { header: object; body: unknown }; knownReferenceBugs: string[] }
const vectors = readSharedJson<{ vectors: Vector[] }>('vectors/encryption-vectors.json').vectors

function writeConfig(v: Vector): string {
  // Key paths relative to the config file, as users write them.
  const config = Object.fromEntries(
    Object.entries(v.config).map(([k, val]) => [k, typeof val === 'string' && val.startsWith('@keys/') ? `./${val.slice(6)}` : val]),
  )
  const path = join(dir, `${v.id}.config.json`)
  writeFileSync(path, JSON.stringify(config))
  return path
}

describe('apisign encrypt / decrypt', () => {
  for (const id of ['jwe-03-readme-nested', 'fle-body-01-readme-hex-sha256', 'fle-hdr-01-root-hex-sha256']) {
    it(`${id}: decrypts the reference output and round-trips its own`, async () => {
      const v = vectors.find((x) => x.id === id) as Vector
      const config = writeConfig(v)
      writeFileSync(join(dir, 'enc.json'), JSON.stringify(v.encrypted.body))
      writeFileSync(join(dir, 'enc-headers.json'), JSON.stringify(v.encrypted.header))
      const d = await run(['decrypt', '--config', config, '--endpoint', v.endpoint, '--body-file', 'enc.json', '--headers-file', 'enc-headers.json', '--json'])
      expect(d.stderr).toBe('')
      expect(sortKeys((JSON.parse(d.stdout) as { body: unknown }).body)).toEqual(sortKeys(v.plain.body))

      writeFileSync(join(dir, 'plain.json'), JSON.stringify(v.plain.body))
      const e = await run(['encrypt', '--config', config, '--endpoint', v.endpoint, '--body-file', 'plain.json', '--json'])
      const encrypted = JSON.parse(e.stdout) as { headers: object; body: unknown }
      expect(JSON.stringify(encrypted)).not.toContain('this is a secret')
      writeFileSync(join(dir, 'ours.json'), JSON.stringify(encrypted.body))
      writeFileSync(join(dir, 'ours-headers.json'), JSON.stringify(encrypted.headers))
      const back = await run(['decrypt', '--config', config, '--endpoint', v.endpoint, '--body-file', 'ours.json', '--headers-file', 'ours-headers.json', '--json'])
      expect(sortKeys((JSON.parse(back.stdout) as { body: unknown }).body)).toEqual(sortKeys(v.plain.body))
    })
  }

  it('reports a config mistake as ERR_ENCRYPTION_CONFIG', async () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ mode: 'JWE', paths: [] }))
    writeFileSync(join(dir, 'plain.json'), '{}')
    const r = await run(['encrypt', '--config', 'bad.json', '--endpoint', '/x', '--body-file', 'plain.json', '--json'])
    expect(r.code).toBe(1)
    expect((JSON.parse(r.stderr) as { error: { code: string } }).error.code).toBe('ERR_ENCRYPTION_CONFIG')
  })
})

describe('apisign jwe decrypt', () => {
  it('prints the protected header and plaintext', async () => {
    const cert = loadCertificate(sharedPath('keys/encryption/certificate.pem'))
    const token = compactEncrypt(JSON.stringify({ pan: '5123456789012345678' }), cert, { kid: 'k1' })
    const r = await run(['jwe', 'decrypt', '--key', 'private-key-pkcs8.pem', '--token', token, '--json'])
    expect(JSON.parse(r.stdout)).toEqual({
      header: { kid: 'k1', cty: 'application/json', alg: 'RSA-OAEP-256', enc: 'A256GCM' },
      plaintext: { pan: '5123456789012345678' },
    })
  })
  it('fails with one uniform code for a tampered token', async () => {
    const cert = loadCertificate(sharedPath('keys/encryption/certificate.pem'))
    const parts = compactEncrypt('{"a":1}', cert).split('.')
    parts[3] = `${parts[3]?.slice(0, -2)}AA`
    const r = await run(['jwe', 'decrypt', '--key', 'private-key-pkcs8.pem', '--token', parts.join('.'), '--json'])
    expect((JSON.parse(r.stderr) as { error: { code: string } }).error.code).toBe('ERR_JWE_DECRYPTION_FAILED')
  })
})
