import { readFileSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { FILES, makeCerts } from '../../certs-example/make-certs.mjs'
import { keyMatchesCertificate, loadCertificate, loadKeyStore, loadPrivateKey, loadSigningKey } from '../../src/keys/index.js'

const dir = mkdtempSync(join(tmpdir(), 'apisign-certs-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('certs-example/make-certs.mjs', () => {
  const made = makeCerts({ outDir: dir })

  it('writes every file, private ones with mode 0600', () => {
    expect(made.created).toBe(true)
    for (const name of Object.values(FILES)) statSync(join(dir, name))
    for (const path of [made.signingKey, made.keystore, made.keystorePassword, made.encryptionKey]) {
      expect(statSync(path).mode & 0o777).toBe(0o600)
    }
  })

  it('makes a keystore that loads with its alias and password, and matching pairs', () => {
    const password = readFileSync(made.keystorePassword, 'utf8').trim()
    const store = loadKeyStore({ p12: made.keystore, alias: made.alias, password })
    const key = loadSigningKey(made.signingKey)
    expect(keyMatchesCertificate(store.privateKey, loadCertificate(made.signingCert))).toBe(true)
    expect(keyMatchesCertificate(key, loadCertificate(made.signingCert))).toBe(true)
    expect(keyMatchesCertificate(loadPrivateKey(made.encryptionKey), loadCertificate(made.encryptionCert))).toBe(true)
    expect(readFileSync(made.signingCsr, 'utf8')).toContain('BEGIN CERTIFICATE REQUEST')
  })

  it('keeps existing material unless forced', () => {
    const before = readFileSync(made.signingKey, 'utf8')
    expect(makeCerts({ outDir: dir }).created).toBe(false)
    expect(readFileSync(made.signingKey, 'utf8')).toBe(before)
    expect(makeCerts({ outDir: dir, force: true }).created).toBe(true)
    expect(readFileSync(made.signingKey, 'utf8')).not.toBe(before)
  })
})
