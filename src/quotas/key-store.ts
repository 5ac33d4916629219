// The provider's store of API keys and their secrets (issue 18, item 2): issue, roll with a grace period
// (the old credential valid 24 h more by default, as OST's RotateSecret does: reference/other-schemes.md
// §1.2, §1.9), revoke at once, list with last use. In memory, or on Redis so that every gateway instance
// sees a roll or a revocation on its next request (no cache to go stale).
import { KeyObject, createHash, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import { ApisignError } from '../errors.js'
import { type RedisConnection, connectRedis, firstConnection, nonNegativeInteger } from './windows.js'

/**
 * What a key authenticates with: a shared `secret` (OST, JWT bearer, Basic, SigV4), a `key-pair` the store
 * generates (OAuth 1.0a: the caller gets the private key once, the store keeps the public key), a
 * `public-key` the caller brings (its CSR's key), or an `api-key` that is itself the credential.
 */
export type KeyKind = 'secret' | 'key-pair' | 'public-key' | 'api-key'

/** A credential as the verifiers see it: a secret (or API key value) or a public key, until `notAfter`. */
export interface StoredCredential {
  readonly secret?: string
  /** SPKI PEM. */
  readonly publicKey?: string
  readonly createdAt: number
  readonly notAfter?: number
}

/** A key as listed (never a secret or key material). */
export interface KeyInfo {
  readonly keyId: string
  readonly kind: KeyKind
  readonly label?: string
  readonly createdAt: number
  /** Live credentials: the current one and any still in their grace period. */
  readonly credentials: ReadonlyArray<{ readonly createdAt: number; readonly notAfter?: number; readonly fingerprint: string }>
  readonly revokedAt?: number
  readonly lastUsedAt?: number
}

/** What `issue` and `roll` hand out, once: the new secret, API key value or private key. */
export interface IssuedKey {
  readonly keyId: string
  readonly kind: KeyKind
  /** The shared secret (`secret`) or the API key value (`api-key`). */
  readonly secret?: string
  /** PKCS#8 PEM (`key-pair`). */
  readonly privateKey?: string
  /** SPKI PEM (`key-pair`, `public-key`). */
  readonly publicKey?: string
  /** When the credential it replaced stops working (`roll`). */
  readonly graceEndsAt?: number
}

/** Options of {@link KeyStore.issue}. */
export interface IssueKeyOptions {
  readonly kind: KeyKind
  /** The key id (consumer key, API key name, access key id, user). Default a random `key_…`. */
  readonly keyId?: string
  readonly label?: string
  /** `public-key`: the caller's public key (PEM or KeyObject). */
  readonly publicKey?: string | KeyObject
  /** `secret` / `api-key`: a value to store instead of a generated one (importing existing keys). */
  readonly secret?: string
}

/** Options of {@link KeyStore.roll}. */
export interface RollKeyOptions {
  /** How long the credential being replaced stays valid, ms. Default the store's (24 h). 0 ends it at once. */
  readonly graceMs?: number
  readonly publicKey?: string | KeyObject
  readonly secret?: string
}

/** The provider's key store. */
export interface KeyStore {
  issue(options: IssueKeyOptions): Promise<IssuedKey>
  roll(keyId: string, options?: RollKeyOptions): Promise<IssuedKey>
  /** Revoke every credential of the key, at once. */
  revoke(keyId: string): Promise<void>
  list(): Promise<KeyInfo[]>
  get(keyId: string): Promise<KeyInfo | undefined>
  /** Live secrets of a key (undefined: unknown or revoked), as the verifiers' `SecretsByKeyId` lookups take them. */
  secrets(keyId: string): Promise<Array<{ secret: string; notAfter?: number }> | undefined>
  /** Live public keys of a key, as the OAuth 1.0a verifier's `consumers` lookup takes them. */
  publicKeys(keyId: string): Promise<Array<{ key: string; notAfter?: number }> | undefined>
  /** The key id whose live `api-key` value this is (constant work: looked up by its SHA-256). */
  keyIdOfValue(value: string): Promise<string | undefined>
  /** Record a use (listed as `lastUsedAt`). */
  touch(keyId: string): Promise<void>
  close(): Promise<void>
}

/** Options of {@link createKeyStore}. */
export interface KeyStoreOptions {
  /** Keep the keys on Redis (shared by every gateway instance). Default in memory. */
  readonly redis?: RedisConnection
  /** Default `apisign:keys`. */
  readonly keyPrefix?: string
  /** Grace period of a rolled credential, ms. Default 24 h. */
  readonly graceMs?: number
  /** Clock, ms. Default `Date.now`. */
  readonly now?: () => number
  /** Randomness (tests). Default `crypto.randomBytes`. */
  readonly random?: (size: number) => Buffer
}

interface KeyRecord {
  keyId: string
  kind: KeyKind
  label?: string
  createdAt: number
  revokedAt?: number
  credentials: StoredCredential[]
}

interface Backend {
  read(keyId: string): Promise<KeyRecord | undefined>
  write(record: KeyRecord, valueHashes: readonly string[]): Promise<void>
  ids(): Promise<string[]>
  byHash(hash: string): Promise<string | undefined>
  touch(keyId: string, at: number): Promise<void>
  lastUsed(ids: readonly string[]): Promise<Array<number | undefined>>
}

const KINDS: readonly KeyKind[] = ['secret', 'key-pair', 'public-key', 'api-key']
const sha256 = (v: string) => createHash('sha256').update(v, 'utf8').digest('hex')
const fingerprintOf = (c: StoredCredential) => sha256(c.publicKey ?? c.secret ?? '').slice(0, 16)

function memoryBackend(): Backend {
  const records = new Map<string, string>()
  const hashes = new Map<string, string>()
  const used = new Map<string, number>()
  return {
    async read(keyId) {
      const text = records.get(keyId)
      return text === undefined ? undefined : (JSON.parse(text) as KeyRecord)
    },
    async write(record, valueHashes) {
      records.set(record.keyId, JSON.stringify(record))
      for (const h of valueHashes) hashes.set(h, record.keyId)
    },
    async ids() {
      return [...records.keys()]
    },
    async byHash(hash) {
      return hashes.get(hash)
    },
    async touch(keyId, at) {
      used.set(keyId, at)
    },
    async lastUsed(ids) {
      return ids.map((id) => used.get(id))
    },
  }
}

function redisBackend(redis: Redis, prefix: string): Backend {
  const recordKey = (id: string) => `${prefix}:key:${id}`
  const connected = firstConnection(redis)
  return {
    async read(keyId) {
      await connected()
      const text = await redis.get(recordKey(keyId))
      return text === null ? undefined : (JSON.parse(text) as KeyRecord)
    },
    async write(record, valueHashes) {
      await connected()
      const multi = redis.multi().set(recordKey(record.keyId), JSON.stringify(record)).sadd(`${prefix}:ids`, record.keyId)
      for (const h of valueHashes) multi.set(`${prefix}:value:${h}`, record.keyId)
      await multi.exec()
    },
    async ids() {
      await connected()
      return redis.smembers(`${prefix}:ids`)
    },
    async byHash(hash) {
      await connected()
      return (await redis.get(`${prefix}:value:${hash}`)) ?? undefined
    },
    async touch(keyId, at) {
      await redis.hset(`${prefix}:used`, keyId, String(at))
    },
    async lastUsed(ids) {
      if (ids.length === 0) return []
      const values = await redis.hmget(`${prefix}:used`, ...ids)
      return values.map((v) => (v === null ? undefined : Number(v)))
    },
  }
}

const validKeyId = (keyId: unknown, what: string): string => {
  if (typeof keyId !== 'string' || !/^[A-Za-z0-9._~!@:-]{1,128}$/.test(keyId)) throw new TypeError(`${what} must be 1-128 characters of A-Z a-z 0-9 . _ ~ ! @ : -`)
  return keyId
}

/**
 * A key store for the provider side: issue a secret, an API key or a key pair; roll it with a grace period
 * (24 h by default; the old credential keeps working until then, and not after); revoke at once; list with
 * last use. The scheme verifiers read it through lookups (`secrets`, `publicKeys`, `keyIdOfValue`) on every
 * request, so a roll or a revocation takes effect at once on every instance sharing the store.
 *
 * @example
 * ```ts
 * const store = createKeyStore({ redis: 'redis://127.0.0.1:6379' })
 * const { keyId, secret } = await store.issue({ kind: 'secret' })
 * const rolled = await store.roll(keyId) // the old secret works 24 h more
 * await store.revoke(keyId) // refused everywhere from the next request
 * ```
 */
export function createKeyStore(options: KeyStoreOptions = {}): KeyStore {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object')
  const graceDefault = nonNegativeInteger(options.graceMs ?? 86_400_000, 'graceMs')
  const now = options.now ?? Date.now
  if (typeof now !== 'function') throw new TypeError('now must be a function')
  const random = options.random ?? randomBytes
  const prefix = options.keyPrefix ?? 'apisign:keys'
  if (typeof prefix !== 'string' || prefix === '') throw new TypeError('keyPrefix must be a non-empty string')
  const connection = options.redis === undefined ? undefined : connectRedis(options.redis)
  const backend = connection === undefined ? memoryBackend() : redisBackend(connection.redis, prefix)
  const live = (c: StoredCredential, t: number) => c.notAfter === undefined || c.notAfter > t

  const newCredential = (kind: KeyKind, given: { publicKey?: string | KeyObject; secret?: string }): { credential: StoredCredential; issued: Partial<IssuedKey> } => {
    const createdAt = now()
    if (kind === 'secret' || kind === 'api-key') {
      if (given.secret !== undefined && (typeof given.secret !== 'string' || given.secret.length < 16)) throw new TypeError('secret must be a string of at least 16 characters')
      const secret = given.secret ?? `${kind === 'api-key' ? 'ak_' : ''}${random(32).toString('base64url')}`
      return { credential: { secret, createdAt }, issued: { secret } }
    }
    if (kind === 'key-pair') {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
      const spki = publicKey.export({ type: 'spki', format: 'pem' }).toString()
      return { credential: { publicKey: spki, createdAt }, issued: { publicKey: spki, privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() } }
    }
    if (given.publicKey === undefined) throw new TypeError('publicKey is required for a public-key credential')
    if ((given.publicKey instanceof KeyObject && given.publicKey.type !== 'public') || (typeof given.publicKey === 'string' && /PRIVATE KEY/.test(given.publicKey))) throw new TypeError('publicKey must be a public key (the store never takes a private key it did not generate)')
    let spki: string
    try {
      const key = given.publicKey instanceof KeyObject ? given.publicKey : createPublicKey(given.publicKey)
      spki = key.export({ type: 'spki', format: 'pem' }).toString()
    } catch (cause) {
      throw new ApisignError('ERR_KEY_INVALID', 'publicKey is not a readable public key (PEM or KeyObject)', { cause })
    }
    return { credential: { publicKey: spki, createdAt }, issued: { publicKey: spki } }
  }
  const hashesOf = (record: KeyRecord) => (record.kind === 'api-key' ? record.credentials.map((c) => sha256(c.secret as string)) : [])
  const liveRecord = async (keyId: string) => {
    if (typeof keyId !== 'string') return undefined
    const record = await backend.read(keyId)
    return record === undefined || record.revokedAt !== undefined ? undefined : record
  }
  const info = (record: KeyRecord, lastUsedAt: number | undefined): KeyInfo => {
    const t = now()
    return {
      keyId: record.keyId,
      kind: record.kind,
      ...(record.label === undefined ? {} : { label: record.label }),
      createdAt: record.createdAt,
      credentials: record.revokedAt !== undefined ? [] : record.credentials.filter((c) => live(c, t)).map((c) => ({ createdAt: c.createdAt, ...(c.notAfter === undefined ? {} : { notAfter: c.notAfter }), fingerprint: fingerprintOf(c) })),
      ...(record.revokedAt === undefined ? {} : { revokedAt: record.revokedAt }),
      ...(lastUsedAt === undefined ? {} : { lastUsedAt }),
    }
  }

  return {
    async issue(o) {
      if (o === null || typeof o !== 'object' || !KINDS.includes(o.kind)) throw new TypeError(`kind must be one of ${KINDS.join(', ')}`)
      const keyId = validKeyId(o.keyId ?? `key_${random(8).toString('hex')}`, 'keyId')
      if (o.label !== undefined && (typeof o.label !== 'string' || o.label.length > 200)) throw new TypeError('label must be a string of at most 200 characters')
      if ((await backend.read(keyId)) !== undefined) throw new ApisignError('ERR_CONFIG_INVALID', `key ${keyId} already exists; roll it instead`)
      const { credential, issued } = newCredential(o.kind, o)
      const record: KeyRecord = { keyId, kind: o.kind, ...(o.label === undefined ? {} : { label: o.label }), createdAt: credential.createdAt, credentials: [credential] }
      await backend.write(record, hashesOf(record))
      return { keyId, kind: o.kind, ...issued }
    },
    async roll(keyId, o = {}) {
      const graceMs = nonNegativeInteger(o.graceMs ?? graceDefault, 'graceMs')
      const record = await liveRecord(keyId)
      if (record === undefined) throw new ApisignError('ERR_CREDENTIALS_UNKNOWN', `no live key ${String(keyId).slice(0, 128)} to roll`)
      const t = now()
      const graceEndsAt = t + graceMs
      const { credential, issued } = newCredential(record.kind, o)
      // Credentials already past their grace are dropped; the ones still current end at graceEndsAt.
      const kept = record.credentials.filter((c) => live(c, t)).map((c) => ({ ...c, notAfter: Math.min(c.notAfter ?? graceEndsAt, graceEndsAt) }))
      const next: KeyRecord = { ...record, credentials: [credential, ...kept] }
      await backend.write(next, hashesOf(next))
      return { keyId, kind: record.kind, ...issued, graceEndsAt }
    },
    async revoke(keyId) {
      const record = await backend.read(keyId)
      if (record === undefined) throw new ApisignError('ERR_CREDENTIALS_UNKNOWN', `no key ${String(keyId).slice(0, 128)} to revoke`)
      if (record.revokedAt !== undefined) return
      await backend.write({ ...record, revokedAt: now(), credentials: [] }, [])
    },
    async list() {
      const ids = (await backend.ids()).sort()
      const records = (await Promise.all(ids.map((id) => backend.read(id)))).filter((r): r is KeyRecord => r !== undefined)
      const used = await backend.lastUsed(records.map((r) => r.keyId))
      return records.map((r, i) => info(r, used[i]))
    },
    async get(keyId) {
      const record = await backend.read(keyId)
      if (record === undefined) return undefined
      return info(record, (await backend.lastUsed([keyId]))[0])
    },
    async secrets(keyId) {
      const record = await liveRecord(keyId)
      if (record === undefined || (record.kind !== 'secret' && record.kind !== 'api-key')) return undefined
      return record.credentials.map((c) => ({ secret: c.secret as string, ...(c.notAfter === undefined ? {} : { notAfter: c.notAfter }) }))
    },
    async publicKeys(keyId) {
      const record = await liveRecord(keyId)
      if (record === undefined || (record.kind !== 'key-pair' && record.kind !== 'public-key')) return undefined
      return record.credentials.map((c) => ({ key: c.publicKey as string, ...(c.notAfter === undefined ? {} : { notAfter: c.notAfter }) }))
    },
    async keyIdOfValue(value) {
      if (typeof value !== 'string' || value === '') return undefined
      const hash = sha256(value)
      const keyId = await backend.byHash(hash)
      const record = keyId === undefined ? undefined : await liveRecord(keyId)
      if (record === undefined || record.kind !== 'api-key') return undefined
      const t = now()
      return record.credentials.some((c) => live(c, t) && sha256(c.secret as string) === hash) ? record.keyId : undefined
    },
    async touch(keyId) {
      await backend.touch(keyId, now())
    },
    async close() {
      if (connection?.own === true) connection.redis.disconnect()
    },
  }
}
