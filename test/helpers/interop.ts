// The live reference implementations in other languages (issue 19), as test/interop/setup.mjs installed
// them (.cache/interop/status.json, written by the vitest global set-up): one driver process per batch of
// cases. Absent ones are skipped loudly; under CI=true their absence fails the run.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'vitest'
import { REPO_ROOT, sharedPath } from './shared.js'

export type Reference = 'java' | 'python'
interface Status {
  readonly ok: boolean
  readonly command?: string
  readonly args?: readonly string[]
  readonly reason?: string
}

const STATUS = join(REPO_ROOT, '.cache/interop/status.json')

export function referenceStatus(name: Reference): Status {
  if (!existsSync(STATUS)) return { ok: false, reason: `${STATUS} is missing: run node test/interop/setup.mjs (the vitest global set-up does)` }
  const all = JSON.parse(readFileSync(STATUS, 'utf8')) as Record<string, Status>
  return all[name] ?? { ok: false, reason: `${name} was not set up` }
}

/** `describe` when the reference is installed; else a loud skip, or a failing test under CI=true. */
export function describeReference(name: Reference, title: string, body: () => void): void {
  const status = referenceStatus(name)
  describeWhen(status.ok, `${name} reference unavailable: ${status.reason ?? 'unknown'}`, title, body)
}

/** `describe` when `available`; else a loud skip locally, and a failing test under CI=true (CI installs it all). */
export function describeWhen(available: boolean, why: string, title: string, body: () => void): void {
  if (available) {
    describe(title, body)
    return
  }
  if (process.env['CI'] === 'true') {
    describe(title, () => {
      it('has what it needs (CI installs it: .ci/run)', () => {
        throw new Error(why)
      })
    })
    return
  }
  console.warn(`\n*** SKIPPED "${title}": ${why}\n`)
  describe.skip(title, body)
}

/** The keys every driver loads: the shared test keys (PKCS#12 for signing, PEM for encryption). */
export const DRIVER_KEYS = {
  p12: sharedPath('keys/oauth1/keystore.p12'),
  alias: 'keyalias',
  password: 'keystorepassword',
  certificate: sharedPath('keys/encryption/certificate.pem'),
  decryptionKey: sharedPath('keys/encryption/private-key-pkcs8.pem'),
}

/** Run one driver over `cases` (one process), returning one result per case. */
export async function runDriver<R = Record<string, unknown>>(name: Reference, cases: readonly object[]): Promise<R[]> {
  const status = referenceStatus(name)
  if (!status.ok || status.command === undefined) throw new Error(`${name} reference unavailable: ${status.reason ?? ''}`)
  const child = spawn(status.command, [...(status.args ?? [])], { stdio: ['pipe', 'pipe', 'pipe'] })
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout.on('data', (b: Buffer) => out.push(b))
  child.stderr.on('data', (b: Buffer) => err.push(b))
  const done = new Promise<number>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve(code ?? -1))
  })
  child.stdin.end(JSON.stringify({ keys: DRIVER_KEYS, cases }))
  const code = await done
  if (code !== 0) throw new Error(`${name} driver exited ${code}: ${Buffer.concat(err).toString().slice(-2000)}`)
  const results = JSON.parse(Buffer.concat(out).toString('utf8')) as R[]
  if (results.length !== cases.length) throw new Error(`${name} driver answered ${results.length} results for ${cases.length} cases`)
  return results
}
