// `apisign doctor` for OAuth 2.0 profiles: the client key (type, size, JWK thumbprint), its `kid`, and
// with --online a real token request (which is what proves the kid and the key are the registered pair)
// and the clock against the token endpoint's Date (a skewed clock makes assertions and proofs "not yet
// valid" or "expired" at the server).
import { isAbsolute, resolve } from 'node:path'
import { isApisignError } from '../errors.js'
import { describeKey } from '../keys/index.js'
import type { Profile } from '../profiles/load.js'
import { type OAuth2ProfileAuth, oauth2SignerAlgorithm } from '../profiles/oauth2.js'
import { isPkcs11Reference } from '../profiles/pkcs11.js'
import { type OAuth2AuthOptions, oauth2Auth } from '../schemes/oauth2-client.js'
import { algorithmOf, jwkThumbprint, publicJwk } from '../schemes/oauth2-jose.js'
import type { Pkcs11Signer } from '../signers/pkcs11.js'
import { isSigner } from '../signers/types.js'
import type { DoctorCheck } from './doctor.js'
import { pkcs11Checks } from './doctor-pkcs11.js'

type Add = (c: DoctorCheck) => void

/**
 * The OAuth 2.0 checks of `apisign doctor` (offline: key file permissions, or for a key in an HSM the
 * module, token, PIN, key and a probe signature verified with its public half; the client key, the kid;
 * `online`: a token request and the clock against the token endpoint).
 *
 * @example
 * ```ts
 * await oauth2Checks(spec.auth, profile, { baseDir, env, online: true, now: Date.now, thresholds: { warn: 5, fail: 60 } }, add, permissionCheck)
 * ```
 */
export async function oauth2Checks(
  auth: OAuth2ProfileAuth,
  profile: Profile | undefined,
  o: { readonly name?: string; readonly baseDir: string; readonly env: Readonly<Record<string, string | undefined>>; readonly online: boolean; readonly now: () => number; readonly thresholds: { readonly warn: number; readonly fail: number } },
  add: Add,
  permissionCheck: (id: string, path: string, what: string) => DoctorCheck,
): Promise<void> {
  if (isPkcs11Reference(auth.key)) {
    // The same module / token / PIN / key / probe-signature checks as an OAuth 1.0a key in an HSM, with the
    // algorithm the profile would sign with (a bad `algorithm` is reported by the profile check).
    let algorithm: ReturnType<typeof oauth2SignerAlgorithm> | undefined
    try {
      algorithm = oauth2SignerAlgorithm(auth.algorithm)
    } catch {
      algorithm = undefined
    }
    const checked: Pkcs11Signer | undefined = algorithm === undefined ? undefined : await pkcs11Checks(auth.key.pkcs11, algorithm, { profile: o.name ?? profile?.name ?? 'profile', baseDir: o.baseDir, env: o.env }, add)
    await checked?.close()
  } else {
    const keyPath = auth.key?.path ?? (auth.key?.pathEnv === undefined ? undefined : o.env[auth.key.pathEnv])
    if (keyPath !== undefined) add(permissionCheck('key-permissions', isAbsolute(keyPath) ? keyPath : resolve(o.baseDir, keyPath), 'client key file'))
  }
  if (profile === undefined || profile.auth.scheme !== 'oauth2') return
  const options = profile.auth as OAuth2AuthOptions & { readonly scheme: 'oauth2' }
  if (isSigner(options.key)) {
    const signer = options.key
    const publicKey = signer.publicKey
    const d = publicKey === undefined ? undefined : describeKey(publicKey)
    add({
      id: 'client-key',
      status: 'pass',
      message: `${d === undefined ? 'a' : `${String(d.algorithm).toUpperCase()} ${d.bits}-bit`} key held by the signer signs ${signer.algorithm} (FAPI 2.0)${publicKey === undefined ? '' : `, JWK thumbprint ${jwkThumbprint(publicJwk(publicKey))}`}`,
    })
  } else {
    const key = options.key as Parameters<typeof describeKey>[0]
    const d = describeKey(key)
    const alg = algorithmOf(key)
    add({ id: 'client-key', status: 'pass', message: `${String(d.algorithm).toUpperCase()} ${d.bits}-bit private key signs ${alg} (FAPI 2.0), JWK thumbprint ${jwkThumbprint(publicJwk(key))}` })
  }
  if (/^\s|\s$/.test(options.kid)) add({ id: 'client-kid', status: 'fail', message: 'auth.kid has leading or trailing spaces', fix: 'copy the key id exactly as the partner portal shows it' })
  else add({ id: 'client-kid', status: 'pass', message: `kid ${JSON.stringify(options.kid)} (the token request proves the server knows it: run with --online)` })
  if (!o.online) return
  const applier = oauth2Auth({ ...options, timeoutMs: 10_000 })
  const started = o.now()
  try {
    const token = await applier.token(undefined, o.now)
    add({ id: 'token-endpoint', status: 'pass', message: `the token endpoint issued a ${token.tokenType} token for [${token.scopes.join(' ')}], valid ${Math.round((token.expiresAtMs - o.now()) / 1000)} s` })
    if (token.serverDateMs === undefined) {
      add({ id: 'token-clock', status: 'warn', message: 'the token endpoint sent no Date header to compare the clock with', fix: 'keep the clock in sync with NTP' })
      return
    }
    const offset = (token.serverDateMs - (started + o.now()) / 2) / 1000
    const abs = Math.abs(offset)
    const status = abs > o.thresholds.fail ? 'fail' : abs > o.thresholds.warn ? 'warn' : 'pass'
    add({
      id: 'token-clock',
      status,
      message: `this clock is ${abs.toFixed(1)} s ${offset > 0 ? 'behind' : 'ahead of'} the token endpoint's Date header`,
      ...(status === 'pass' ? {} : { fix: 'sync the clock with NTP (client assertions and DPoP proofs carry iat/exp the server checks)' }),
    })
  } catch (error) {
    const details = (isApisignError(error) ? error.details : undefined) as { error?: string } | undefined
    const fix =
      details?.error === 'invalid_client'
        ? 'check clientId, kid and that the key is the one registered for this client (and the clock)'
        : details?.error === 'invalid_scope'
          ? 'ask only for scopes the client is registered for (auth.scopes)'
          : 'check tokenUrl / issuer and the network path to the authorization server'
    add({ id: 'token-endpoint', status: 'fail', message: `the token request failed: ${isApisignError(error) ? `${error.code}: ${error.message}` : 'unexpected error'}`, fix })
  }
}
