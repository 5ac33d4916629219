// A SoftHSM2 token per test file, in a temp directory (SOFTHSM2_CONF), never a mock: softhsm2 is a system
// package (.ci/run installs it). The module reads SOFTHSM2_CONF when it initialises, so a test file (one
// vitest fork) uses one SoftHSM directory; tokens inside it may be added, removed and restored.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const MODULES = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so', '/usr/local/lib/softhsm/libsofthsm2.so']

/** Where Debian (and a local build) put the SoftHSM2 module. */
export function softHsmModule(): string {
  const found = MODULES.find((p) => existsSync(p))
  if (found === undefined) throw new Error('libsofthsm2.so not found: apt-get install softhsm2 (.ci/run does)')
  return found
}

export interface SoftHsm {
  readonly dir: string
  readonly conf: string
  readonly module: string
  /** The random user PIN of this run, and the environment variable that holds it. */
  readonly pin: string
  readonly pinEnv: string
  /** Environment for child processes (SOFTHSM2_CONF and the PIN variable). */
  readonly env: Record<string, string>
  initToken(label: string): void
  /** `softhsm2-util --import` of a PKCS#8 PEM key file. */
  importPem(token: string, file: string, label: string, id: string): void
  /** Take the token directory away (the token disappears for the module) and put it back. */
  remove(): void
  restore(): void
  cleanup(): void
}

/** Create the SoftHSM directory and point this process at it (before the module is first used). */
export function createSoftHsm(): SoftHsm {
  const dir = mkdtempSync(join(tmpdir(), 'apisign-softhsm-'))
  const tokens = join(dir, 'tokens')
  execFileSync('mkdir', ['-p', tokens])
  const conf = join(dir, 'softhsm2.conf')
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`)
  const pin = randomBytes(6).toString('hex')
  const soPin = randomBytes(6).toString('hex')
  const pinEnv = 'APISIGN_TEST_HSM_PIN'
  process.env['SOFTHSM2_CONF'] = conf
  process.env[pinEnv] = pin
  const env = { ...process.env, SOFTHSM2_CONF: conf, [pinEnv]: pin } as Record<string, string>
  const util = (...args: string[]) => execFileSync('softhsm2-util', args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  return {
    dir,
    conf,
    module: softHsmModule(),
    pin,
    pinEnv,
    env,
    initToken: (label) => void util('--init-token', '--free', '--label', label, '--so-pin', soPin, '--pin', pin),
    importPem: (token, file, label, id) => void util('--import', file, '--token', token, '--label', label, '--id', id, '--pin', pin),
    remove: () => renameSync(tokens, `${tokens}.away`),
    restore: () => renameSync(`${tokens}.away`, tokens),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}
