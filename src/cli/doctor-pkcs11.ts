// `apisign doctor` for a signing key in an HSM: the binding and module load, the token is present, the PIN
// works, the key is there and may sign, and a probe signature verifies with the key's public half. The
// key/certificate match is the doctor's own check, fed with the signer's public key.
import { constants, publicEncrypt, randomBytes, verify } from 'node:crypto'
import { isApisignError } from '../errors.js'
import { type ProfileSignerAlgorithm, isPkcs11Reference, openProfileSigner, withPkcs11Decrypter } from '../profiles/pkcs11.js'
import type { Pkcs11Signer } from '../signers/pkcs11.js'
import { loadBinding } from '../signers/pkcs11-binding.js'
import { moduleFor } from '../signers/pkcs11-pool.js'
import type { DoctorCheck } from './doctor.js'

interface Context {
  readonly profile: string
  readonly baseDir: string
  readonly env: Readonly<Record<string, string | undefined>>
}

const describe = (error: unknown) => (isApisignError(error) ? `${error.code}: ${error.message}` : 'unexpected error')

/**
 * Run the HSM checks for `auth.key.pkcs11`; returns the opened signer (for the key/certificate check), or
 * undefined when a check failed before it could be opened.
 *
 * @example
 * ```ts
 * const signer = await pkcs11Checks(spec.auth.key.pkcs11, 'RS256', { profile, baseDir, env }, add)
 * ```
 */
export async function pkcs11Checks(ref: unknown, algorithm: ProfileSignerAlgorithm, c: Context, add: (check: DoctorCheck) => void): Promise<Pkcs11Signer | undefined> {
  const r = (ref ?? {}) as { module?: unknown; token?: unknown; label?: unknown; id?: unknown }
  if (typeof r.module !== 'string' || r.module === '') {
    add({ id: 'pkcs11-module', status: 'fail', message: 'auth.key.pkcs11.module is missing', fix: 'set auth.key.pkcs11.module to the path of the HSM vendor\'s PKCS#11 library' })
    return undefined
  }
  try {
    loadBinding()
    moduleFor(r.module).ensure()
    add({ id: 'pkcs11-module', status: 'pass', message: `the PKCS#11 module ${String(r.module)} loads and initialises` })
  } catch (error) {
    add({
      id: 'pkcs11-module',
      status: 'fail',
      message: describe(error),
      fix: isApisignError(error, 'ERR_PKCS11_UNAVAILABLE') && /pkcs11js/.test(error.message) ? 'npm install pkcs11js' : 'check auth.key.pkcs11.module (the HSM vendor\'s PKCS#11 library) and that its token store or device is reachable',
    })
    return undefined
  }
  let signer: Pkcs11Signer
  try {
    signer = await openProfileSigner(ref, algorithm, { ...c, where: 'auth.key.pkcs11' })
  } catch (error) {
    const code = isApisignError(error) ? error.code : 'ERR_INTERNAL'
    if (code === 'ERR_PROFILE_INVALID') {
      add({ id: 'signing-key', status: 'fail', message: describe(error), fix: 'fix auth.key.pkcs11 as the message says (module, token, label or id, pinEnv or pinFile)' })
      return undefined
    }
    if (code === 'ERR_HSM_UNAVAILABLE') {
      add({ id: 'pkcs11-token', status: 'fail', message: describe(error), fix: `check that the token labelled ${JSON.stringify(String(r.token))} is present (softhsm2-util --show-slots, or the vendor's tool)` })
      return undefined
    }
    add({ id: 'pkcs11-token', status: 'pass', message: `token ${JSON.stringify(String(r.token))} is present` })
    if (code === 'ERR_HSM_PIN' || code === 'ERR_KEY_FILE_PERMISSIONS') {
      add({ id: 'pkcs11-pin', status: 'fail', message: describe(error), fix: code === 'ERR_KEY_FILE_PERMISSIONS' ? 'chmod 600 the PIN file' : 'set the PIN variable (pinEnv) or file (pinFile) to the token\'s user PIN' })
      return undefined
    }
    add({ id: 'pkcs11-pin', status: 'pass', message: 'the PIN logs in' })
    add({ id: 'signing-key', status: 'fail', message: describe(error), fix: 'point auth.key.pkcs11 at the label or id of a private key the token holds (apisign keys inspect --pkcs11 lists them)' })
    return undefined
  }
  add({ id: 'pkcs11-token', status: 'pass', message: `token ${JSON.stringify(signer.key.token)} is present` })
  add({ id: 'pkcs11-pin', status: 'pass', message: 'the PIN logs in' })
  const probe = Buffer.from('apisign doctor probe')
  try {
    const started = performance.now()
    const signature = await signer.sign(probe)
    const ms = performance.now() - started
    const options = signer.algorithm === 'PS256' ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : signer.algorithm === 'ES256' ? { dsaEncoding: 'ieee-p1363' as const } : {}
    const ok = signer.publicKey !== undefined && verify('sha256', probe, { key: signer.publicKey, ...options }, signature)
    add(
      ok
        ? { id: 'pkcs11-sign', status: 'pass', message: `the key signs ${signer.algorithm} in the token (${ms.toFixed(1)} ms) and the signature verifies with its public key` }
        : { id: 'pkcs11-sign', status: 'fail', message: 'the token signed, but the signature does not verify with the key\'s public half', fix: 'check the token\'s key objects (the public key or certificate under the same id may belong to another key)' },
    )
  } catch (error) {
    add({ id: 'pkcs11-sign', status: 'fail', message: describe(error), fix: 'check that the key may sign (CKA_SIGN) with the mechanism this algorithm needs' })
  }
  return signer
}

/**
 * The decryption key of an encryption config when it is in an HSM (the profile's
 * `encryption.decryptionKey.pkcs11` or the config's `privateKey` / `decryptionKey` `{ pkcs11 }`): opened,
 * and probed with an RSA-OAEP-256 unwrap (what JWE responses need) of a random key encrypted to its public
 * half. Returns the config with the Decrypter in place (closed again: the doctor only reads its public half
 * from here on), `undefined` when no HSM key is named, `null` when it could not be opened.
 *
 * @example
 * ```ts
 * const opened = await pkcs11DecryptionChecks(config, enc.decryptionKey, { profile, env, baseDir, configDir }, add)
 * ```
 */
export async function pkcs11DecryptionChecks(
  config: Record<string, unknown>,
  profileRef: unknown,
  c: Context & { readonly configDir: string },
  add: (check: DoctorCheck) => void,
): Promise<{ config: Record<string, unknown> } | undefined | null> {
  const where = isPkcs11Reference(profileRef) ? 'encryption.decryptionKey.pkcs11' : 'the encryption config\'s pkcs11 key'
  let opened
  try {
    opened = await withPkcs11Decrypter(config, profileRef, { profile: c.profile, configDir: c.configDir, baseDir: c.baseDir, env: c.env })
  } catch (error) {
    add({ id: 'decryption-key', status: 'fail', message: describe(error), fix: `check ${where}: the module, token label, key label or id and the PIN variable or file` })
    return null
  }
  const decrypter = opened.decrypter
  if (decrypter === undefined) return undefined
  try {
    const secret = randomBytes(32)
    if (decrypter.publicKey !== undefined) {
      const wrapped = publicEncrypt({ key: decrypter.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, secret)
      const back = await decrypter.decrypt('sha256', wrapped).catch((error: unknown) => error)
      if (back instanceof Uint8Array && Buffer.from(back).equals(secret)) {
        add({ id: 'pkcs11-decrypt', status: 'pass', message: `the decryption key in token ${JSON.stringify(decrypter.key.token)} unwraps RSA-OAEP-256 (what JWE responses use)` })
      } else {
        add({
          id: 'pkcs11-decrypt',
          status: 'fail',
          message: `the decryption key in the token cannot unwrap RSA-OAEP-256: ${describe(back)}`,
          fix: isApisignError(back, 'ERR_HSM_MECHANISM') ? `add "rawOaepHashes": ["sha256"] to ${where} (the token lacks OAEP with SHA-256)` : 'check the key objects in the token',
        })
      }
    }
    return { config: opened.config }
  } finally {
    await decrypter.close()
  }
}
