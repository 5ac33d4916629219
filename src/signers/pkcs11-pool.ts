// Sessions with one PKCS#11 token: the module initialised once per process, the token found by label (slot
// ids change when a token is re-initialised), the user logged in once (PKCS#11 §5.6: a login holds for
// every session of the application with that token), a bounded pool of sessions reused across operations,
// and a reconnect after a token reset or removal: a failed operation whose error says the session, the
// object handles or the token are gone drops the whole pool, re-initialises the module when even the slot
// list fails (SoftHSM needs that once its token store is back), and retries once on fresh sessions.
import { createHmac, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ApisignError } from '../errors.js'
import { type FilePermissionPolicy, checkPrivateFilePermissions } from '../keys/source.js'
import { CK, type Handle, type Pkcs11Lib, ckrOf, loadBinding } from './pkcs11-binding.js'

/** Where the user PIN comes from: an environment variable or a file, never a value in code or config. */
export interface PinSource {
  /** Environment variable holding the PIN. */
  readonly pinEnv?: string
  /** File holding the PIN (a trailing newline is dropped). */
  readonly pinFile?: string
  /** The environment `pinEnv` is read from. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** A PIN file readable by group or others: `refuse` (default, `ERR_KEY_FILE_PERMISSIONS`), `warn` or `ignore`. */
  readonly pinFilePermissions?: FilePermissionPolicy
}

// Errors that mean "what you hold is gone": the session, the handles, the login or the token itself.
const GONE = new Set([
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_SESSION_COUNT',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_TOKEN_NOT_RECOGNIZED',
  'CKR_DEVICE_REMOVED',
  'CKR_DEVICE_ERROR',
  'CKR_OBJECT_HANDLE_INVALID',
  'CKR_KEY_HANDLE_INVALID',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_SLOT_ID_INVALID',
  'CKR_CRYPTOKI_NOT_INITIALIZED',
])
const PIN_ERRORS = new Set(['CKR_PIN_INCORRECT', 'CKR_PIN_INVALID', 'CKR_PIN_LEN_RANGE', 'CKR_PIN_LOCKED', 'CKR_PIN_EXPIRED'])

/** Does this binding error mean the pool must reconnect? */
export function isGone(error: unknown): boolean {
  const ckr = ckrOf(error)
  return ckr !== undefined && GONE.has(ckr)
}

/** One loaded module (a `.so`/`.dll`), shared by every pool of the process: C_Initialize holds per process. */
class Module {
  readonly lib: Pkcs11Lib
  generation = 0
  /** Per token label: the digest of the last PIN the token refused (shared by every pool of the process). */
  readonly refusedPins = new Map<string, string>()
  private initialized = false

  constructor(readonly path: string) {
    const { PKCS11 } = loadBinding()
    this.lib = new PKCS11()
    try {
      this.lib.load(path)
    } catch (cause) {
      throw new ApisignError('ERR_PKCS11_UNAVAILABLE', `the PKCS#11 module ${path} cannot be loaded (is the path right and the library installed?)`, {
        cause,
        details: { module: path },
      })
    }
  }

  ensure(): void {
    if (this.initialized) return
    try {
      // CKF_OS_LOCKING_OK: operations run on libuv's threads, several at once (a NULL argument would tell
      // the library that no two threads ever call it, and SoftHSM then drops its locks).
      this.lib.C_Initialize({ flags: CK.CKF_OS_LOCKING_OK })
    } catch (cause) {
      if (ckrOf(cause) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
        throw new ApisignError('ERR_HSM_UNAVAILABLE', `the PKCS#11 module ${this.path} cannot initialise (${ckrOf(cause) ?? 'native error'}): its token store or device is unavailable`, {
          cause,
          details: { module: this.path },
        })
      }
    }
    this.initialized = true
  }

  /** Operations running in the library right now (on libuv's threads), across every pool of the module. */
  private active = 0
  private readonly quiet: Array<() => void> = []

  /** The most operations that were in the library at once (tests read it: the pool does overlap them). */
  peakActive = 0

  enter(): void {
    this.active++
    if (this.active > this.peakActive) this.peakActive = this.active
  }

  leave(): void {
    this.active--
    if (this.active === 0) for (const resolve of this.quiet.splice(0)) resolve()
  }

  /**
   * Finalise and initialise again (once per generation, whoever asks first), after the operations still
   * running in the library have returned: C_Finalize under a call in flight on another thread is undefined
   * behaviour (PKCS#11 v2.40 §5.4).
   */
  async reinitialize(seen: number): Promise<void> {
    if (seen === this.generation && this.active > 0) await new Promise<void>((resolve) => this.quiet.push(resolve))
    if (seen === this.generation) {
      this.generation++
      if (this.initialized) {
        try {
          this.lib.C_Finalize()
        } catch {
          // already finalised or broken: initialise again below either way
        }
      }
      this.initialized = false
    }
    this.ensure()
  }
}

const modules = new Map<string, Module>()

/** The process-wide module for a path (loaded on first use). */
export function moduleFor(path: string): Module {
  let module = modules.get(path)
  if (module === undefined) {
    module = new Module(path)
    modules.set(path, module)
  }
  return module
}

/** Options of a {@link TokenPool}. */
export interface TokenPoolOptions extends PinSource {
  /** Path of the PKCS#11 module, e.g. `/usr/lib/softhsm/libsofthsm2.so`. */
  readonly module: string
  /** The token's label (CKA token info `label`, trailing blanks ignored). */
  readonly token: string
  /** Most sessions open at once, hence most operations in flight. Default 4 (libuv's thread count). */
  readonly maxSessions?: number
}

interface Connection {
  readonly moduleGeneration: number
  readonly slot: Handle
  readonly idle: Handle[]
  readonly all: Set<Handle>
  /** Per-connection cache (object handles found on this connection). */
  readonly cache: Map<string, unknown>
  closed: boolean
}

/** What an operation gets: the library, a session of its own, the connection's cache. */
export interface SessionContext {
  readonly lib: Pkcs11Lib
  readonly session: Handle
  readonly slot: Handle
  readonly cache: Map<string, unknown>
}

// Keyed per process, so the remembered digest of a refused PIN says nothing about the PIN outside it.
const PIN_KEY = randomBytes(32)
const pinDigest = (pin: string) => createHmac('sha256', PIN_KEY).update(pin).digest('base64')

/**
 * A pool of logged-in sessions with one token. `run` lends a session to one operation at a time; at most
 * `maxSessions` run at once, the rest wait in order.
 */
export class TokenPool {
  readonly module: Module
  readonly token: string
  readonly maxSessions: number
  private readonly pin: PinSource
  private connection: Connection | undefined
  private connecting: Promise<Connection> | undefined
  private inUse = 0
  private readonly waiting: Array<() => void> = []
  private closed = false

  constructor(options: TokenPoolOptions) {
    if (typeof options.module !== 'string' || options.module === '') throw new TypeError('pkcs11.module must be the path of the PKCS#11 library')
    if (typeof options.token !== 'string' || options.token === '') throw new TypeError('pkcs11.token must be the token label')
    if ((options.pinEnv === undefined) === (options.pinFile === undefined)) throw new TypeError('pkcs11: give exactly one of pinEnv or pinFile (never the PIN itself)')
    const max = options.maxSessions ?? 4
    if (!Number.isInteger(max) || max < 1 || max > 256) throw new TypeError('pkcs11.maxSessions must be an integer from 1 to 256')
    this.maxSessions = max
    this.token = options.token
    if (options.pinFilePermissions !== undefined && !['refuse', 'warn', 'ignore'].includes(options.pinFilePermissions)) throw new TypeError('pinFilePermissions must be refuse, warn or ignore')
    this.pin = {
      ...(options.pinEnv === undefined ? {} : { pinEnv: options.pinEnv }),
      ...(options.pinFile === undefined ? {} : { pinFile: options.pinFile }),
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.pinFilePermissions === undefined ? {} : { pinFilePermissions: options.pinFilePermissions }),
    }
    this.module = moduleFor(options.module)
  }

  private readPin(): string {
    const file = this.pin.pinFile
    if (file !== undefined) {
      let pin: string
      try {
        pin = readFileSync(file, 'utf8').replace(/\r?\n$/, '')
      } catch (cause) {
        throw new ApisignError('ERR_HSM_PIN', `the PIN file ${file} cannot be read`, { cause })
      }
      // A PIN file is a secret like a key file: others must not read it (issue 13's rule for secret files).
      try {
        checkPrivateFilePermissions(file, this.pin.pinFilePermissions ?? 'refuse', (m) => process.emitWarning(m.replace('private key file', 'PIN file'), { code: 'APISIGN_SECRET_FILE_PERMISSIONS' }))
      } catch (error) {
        if (error instanceof ApisignError) throw new ApisignError(error.code, error.message.replace('private key file', 'PIN file'), { details: error.details ?? {} })
        throw error
      }
      return pin
    }
    const name = this.pin.pinEnv as string
    const value = (this.pin.env ?? process.env)[name]
    if (value === undefined || value === '') throw new ApisignError('ERR_HSM_PIN', `environment variable ${name} (the token PIN) is not set`)
    return value
  }

  private findSlot(): Handle {
    const lib = this.module.lib
    for (const slot of lib.C_GetSlotList(true)) {
      if (lib.C_GetTokenInfo(slot).label.trimEnd() === this.token) return slot
    }
    throw new ApisignError('ERR_HSM_UNAVAILABLE', `no token labelled ${JSON.stringify(this.token)} is present in ${this.module.path}`, { details: { token: this.token } })
  }

  private async connect(): Promise<Connection> {
    const module = this.module
    const generation = module.generation
    module.ensure()
    let slot: Handle
    try {
      slot = this.findSlot()
    } catch (error) {
      if (error instanceof ApisignError) throw error
      // The slot list itself fails: the module lost its token store (SoftHSM after its token directory
      // went away). Initialise it again, once, and look again.
      await module.reinitialize(generation)
      try {
        slot = this.findSlot()
      } catch (again) {
        if (again instanceof ApisignError) throw again
        throw new ApisignError('ERR_HSM_UNAVAILABLE', `token ${JSON.stringify(this.token)} cannot be listed (${ckrOf(again) ?? 'native error'})`, { cause: again })
      }
    }
    const lib = module.lib
    let session: Handle
    try {
      session = lib.C_OpenSession(slot, CK.CKF_SERIAL_SESSION | CK.CKF_RW_SESSION)
    } catch (cause) {
      throw new ApisignError('ERR_HSM_UNAVAILABLE', `a session with token ${JSON.stringify(this.token)} cannot be opened (${ckrOf(cause) ?? 'native error'})`, { cause })
    }
    try {
      this.login(lib, session)
    } catch (error) {
      try {
        lib.C_CloseSession(session)
      } catch {
        // the session goes with the failed login
      }
      throw error
    }
    return { moduleGeneration: module.generation, slot, idle: [session], all: new Set([session]), cache: new Map(), closed: false }
  }

  private login(lib: Pkcs11Lib, session: Handle): void {
    const pin = this.readPin()
    const digest = pinDigest(pin)
    // A PIN the token refused is not tried again until it changes: every retry would count toward the
    // token's lockout.
    if (this.module.refusedPins.get(this.token) === digest) throw new ApisignError('ERR_HSM_PIN', `the token ${JSON.stringify(this.token)} refused this PIN before; not retrying it until it changes`)
    try {
      lib.C_Login(session, CK.CKU_USER, pin)
    } catch (cause) {
      const ckr = ckrOf(cause)
      if (ckr === 'CKR_USER_ALREADY_LOGGED_IN') return
      if (ckr !== undefined && PIN_ERRORS.has(ckr)) {
        this.module.refusedPins.set(this.token, digest)
        throw new ApisignError('ERR_HSM_PIN', `the token ${JSON.stringify(this.token)} refused the PIN (${ckr})`)
      }
      throw new ApisignError('ERR_HSM_UNAVAILABLE', `login to token ${JSON.stringify(this.token)} failed (${ckr ?? 'native error'})`)
    }
    this.module.refusedPins.delete(this.token)
  }

  private async current(): Promise<Connection> {
    if (this.closed) throw new ApisignError('ERR_HSM_UNAVAILABLE', `the PKCS#11 key on token ${JSON.stringify(this.token)} was closed`)
    const c = this.connection
    if (c !== undefined && !c.closed && c.moduleGeneration === this.module.generation) return c
    if (c !== undefined) this.drop(c)
    this.connecting ??= this.connect().then(
      (fresh) => {
        this.connection = fresh
        this.connecting = undefined
        return fresh
      },
      (error: unknown) => {
        this.connecting = undefined
        throw error
      },
    )
    return this.connecting
  }

  /**
   * Forget a connection: its idle sessions are closed now, the ones lent out when they come back (never
   * under an operation still running on another thread). Quietly: after a reset they are gone already.
   */
  private drop(c: Connection): void {
    if (c.closed) return
    c.closed = true
    if (this.connection === c) this.connection = undefined
    for (const s of c.idle) this.closeSession(c, s)
    c.idle.length = 0
  }

  private closeSession(c: Connection, session: Handle): void {
    c.all.delete(session)
    // Only while the module was not re-initialised meanwhile: those handles now belong to nobody.
    if (c.moduleGeneration !== this.module.generation) return
    try {
      this.module.lib.C_CloseSession(session)
    } catch {
      // gone already
    }
  }

  private giveBack(c: Connection, session: Handle): void {
    if (c.closed) this.closeSession(c, session)
    else c.idle.push(session)
  }

  private async acquirePermit(): Promise<void> {
    if (this.inUse < this.maxSessions) {
      this.inUse++
      return
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve))
  }

  private releasePermit(): void {
    const next = this.waiting.shift()
    if (next !== undefined) next()
    else this.inUse--
  }

  private session(c: Connection): Handle {
    const idle = c.idle.pop()
    if (idle !== undefined) return idle
    let session: Handle
    try {
      session = this.module.lib.C_OpenSession(c.slot, CK.CKF_SERIAL_SESSION | CK.CKF_RW_SESSION)
    } catch (cause) {
      if (isGone(cause)) throw cause
      throw new ApisignError('ERR_HSM_UNAVAILABLE', `a session with token ${JSON.stringify(this.token)} cannot be opened (${ckrOf(cause) ?? 'native error'})`, { cause })
    }
    c.all.add(session)
    return session
  }

  /**
   * Run one operation on a session of its own. When the operation (or finding the session) fails because
   * the token, session or handles are gone, the pool reconnects and runs it once more; when that fails
   * too, `ERR_HSM_UNAVAILABLE`. Other errors are the operation's own and are passed on as they are.
   */
  async run<T>(operation: (context: SessionContext) => Promise<T>): Promise<T> {
    await this.acquirePermit()
    try {
      for (let attempt = 1; ; attempt++) {
        const c = await this.current()
        let session: Handle | undefined
        try {
          session = this.session(c)
          this.module.enter()
          let result: T
          try {
            result = await operation({ lib: this.module.lib, session, slot: c.slot, cache: c.cache })
          } finally {
            this.module.leave()
          }
          this.giveBack(c, session)
          return result
        } catch (error) {
          if (!isGone(error)) {
            if (session !== undefined) this.giveBack(c, session)
            throw error
          }
          this.drop(c)
          if (session !== undefined) this.closeSession(c, session)
          if (attempt >= 2) {
            throw new ApisignError('ERR_HSM_UNAVAILABLE', `token ${JSON.stringify(this.token)} went away during the operation (${ckrOf(error) ?? 'native error'})`, { cause: error })
          }
        }
      }
    } finally {
      this.releasePermit()
    }
  }

  /** Close every session; later operations fail with `ERR_HSM_UNAVAILABLE`. */
  async close(): Promise<void> {
    this.closed = true
    const pending = this.connecting
    if (pending !== undefined) await pending.catch(() => undefined)
    if (this.connection !== undefined) this.drop(this.connection)
  }
}
