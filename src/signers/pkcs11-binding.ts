// The PKCS#11 binding, loaded lazily. pkcs11js (PeculiarVentures) rather than graphene-pk11: graphene is an
// object layer over pkcs11js itself (plus tslib), and what apisign needs is the raw v2.40 calls, above all
// C_SignAsync/C_DecryptAsync, which run on libuv's threads so the event loop never waits for the token;
// pkcs11js has them with its own TypeScript types and no dependencies. It is a native addon (built with
// node-gyp on install), so it is an optional peer dependency and only users of HSM keys install it. Everything apisign needs of it is
// typed here, so no public declaration of apisign mentions the binding's own types.
import { createRequire } from 'node:module'
import { ApisignError } from '../errors.js'

/** A PKCS#11 handle (slot, session, object) as the binding passes it: opaque bytes. */
export type Handle = Buffer

/** One attribute of a template. */
export interface Attribute {
  readonly type: number
  readonly value?: number | boolean | string | Buffer | null
}

/** A mechanism with its parameter (binding-specific parameter objects for PSS and OAEP). */
export interface Mechanism {
  readonly mechanism: number
  readonly parameter?: Buffer | Readonly<Record<string, unknown>>
}

/** The part of pkcs11js's `PKCS11` class apisign uses. */
export interface Pkcs11Lib {
  load(path: string): void
  C_Initialize(options?: { flags?: number }): void
  C_Finalize(): void
  C_GetSlotList(tokenPresent?: boolean): Handle[]
  C_GetTokenInfo(slot: Handle): { label: string; serialNumber: string; model: string; manufacturerID: string; flags: number }
  C_GetMechanismList(slot: Handle): number[]
  C_OpenSession(slot: Handle, flags: number): Handle
  C_CloseSession(session: Handle): void
  C_Login(session: Handle, userType: number, pin?: string): void
  C_FindObjectsInit(session: Handle, template: Attribute[]): void
  C_FindObjects(session: Handle, maxObjectCount: number): Handle[]
  C_FindObjectsFinal(session: Handle): void
  C_GetAttributeValue(session: Handle, object: Handle, template: Attribute[]): Array<{ type: number; value?: Buffer }>
  C_CreateObject(session: Handle, template: Attribute[]): Handle
  C_DestroyObject(session: Handle, object: Handle): void
  C_SignInit(session: Handle, mechanism: Mechanism, key: Handle): void
  C_SignAsync(session: Handle, data: Buffer, out: Buffer): Promise<Buffer>
  C_DecryptInit(session: Handle, mechanism: Mechanism, key: Handle): void
  C_DecryptAsync(session: Handle, data: Buffer, out: Buffer): Promise<Buffer>
}

interface Binding {
  readonly PKCS11: new () => Pkcs11Lib
  readonly CK_PARAMS_RSA_PSS: number
  readonly CK_PARAMS_RSA_OAEP: number
}

let binding: Binding | undefined
const defaultLoad: (name: string) => unknown = createRequire(import.meta.url)

/**
 * Load pkcs11js once; `ERR_PKCS11_UNAVAILABLE` naming what to install when it is missing or was not built.
 * `load` is injectable for the test of that message.
 */
export function loadBinding(load: (name: string) => unknown = defaultLoad): Binding {
  if (binding !== undefined && load === defaultLoad) return binding
  let loaded: Binding
  try {
    loaded = load('pkcs11js') as Binding
  } catch (cause) {
    throw new ApisignError(
      'ERR_PKCS11_UNAVAILABLE',
      'PKCS#11 keys need the optional peer dependency pkcs11js (a native addon): run `npm install pkcs11js` (it builds with node-gyp, so a C++ toolchain and python3 must be present)',
      { cause },
    )
  }
  if (typeof loaded?.PKCS11 !== 'function') {
    throw new ApisignError('ERR_PKCS11_UNAVAILABLE', 'the installed pkcs11js does not export PKCS11; install pkcs11js ^2.1.7')
  }
  if (load === defaultLoad) binding = loaded
  return loaded
}

/** PKCS#11 v2.40 constants (the standard's numbers, the same in every binding). */
export const CK = Object.freeze({
  CKF_RW_SESSION: 0x2,
  CKF_SERIAL_SESSION: 0x4,
  CKF_OS_LOCKING_OK: 0x2,
  CKU_USER: 1,
  CKO_CERTIFICATE: 1,
  CKO_PUBLIC_KEY: 2,
  CKO_PRIVATE_KEY: 3,
  CKK_RSA: 0,
  CKK_EC: 3,
  CKC_X_509: 0,
  CKA_CLASS: 0x0,
  CKA_TOKEN: 0x1,
  CKA_PRIVATE: 0x2,
  CKA_LABEL: 0x3,
  CKA_VALUE: 0x11,
  CKA_CERTIFICATE_TYPE: 0x80,
  CKA_KEY_TYPE: 0x100,
  CKA_SUBJECT: 0x101,
  CKA_ID: 0x102,
  CKA_SENSITIVE: 0x103,
  CKA_ENCRYPT: 0x104,
  CKA_DECRYPT: 0x105,
  CKA_UNWRAP: 0x107,
  CKA_SIGN: 0x108,
  CKA_VERIFY: 0x10a,
  CKA_MODULUS: 0x120,
  CKA_MODULUS_BITS: 0x121,
  CKA_PUBLIC_EXPONENT: 0x122,
  CKA_PRIVATE_EXPONENT: 0x123,
  CKA_PRIME_1: 0x124,
  CKA_PRIME_2: 0x125,
  CKA_EXPONENT_1: 0x126,
  CKA_EXPONENT_2: 0x127,
  CKA_COEFFICIENT: 0x128,
  CKA_EXTRACTABLE: 0x162,
  CKA_EC_PARAMS: 0x180,
  CKA_EC_POINT: 0x181,
  CKM_RSA_X_509: 0x3,
  CKM_RSA_PKCS_OAEP: 0x9,
  CKM_SHA256_RSA_PKCS: 0x40,
  CKM_SHA256_RSA_PKCS_PSS: 0x43,
  CKM_SHA_1: 0x220,
  CKM_SHA256: 0x250,
  CKM_SHA512: 0x270,
  CKM_ECDSA: 0x1041,
  CKG_MGF1_SHA1: 0x1,
  CKG_MGF1_SHA256: 0x2,
  CKG_MGF1_SHA512: 0x4,
  CKZ_DATA_SPECIFIED: 0x1,
})

/** The CKR_* name of a binding error (`CKR_PIN_INCORRECT`), or undefined for anything else. */
export function ckrOf(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : undefined
  return message !== undefined && /^CKR_[A-Z0-9_]+$/.test(message) ? message : undefined
}
