// PKCS#12 is the one format node:crypto cannot read, so this file is the only user of node-forge for keys
// (PRODUCT.md: node-forge only for what node:crypto cannot do). Everything it returns is a node:crypto
// object, converted once: signing never touches forge (forge RSA is ~100x slower, reference/oauth1.md §7).
import { type KeyObject, X509Certificate, createPrivateKey } from 'node:crypto'
import { createRequire } from 'node:module'
import type * as Forge from 'node-forge'
import { ApisignError } from '../errors.js'

// node-forge is loaded on first use (a PKCS#12 file), not at import: most processes never open one, and
// loading it costs ~75 ms of CLI start-up (issue 15 item 6).
let loaded: typeof Forge | undefined
const forge: typeof Forge = new Proxy({} as typeof Forge, {
  get: (_target, name) => ((loaded ??= createRequire(import.meta.url)('node-forge') as typeof Forge) as unknown as Record<string | symbol, unknown>)[name],
})

/** What a PKCS#12 keystore held for one alias. */
export interface KeyStoreEntry {
  readonly privateKey: KeyObject
  readonly certificate: X509Certificate | undefined
  /** The alias (friendlyName) the key was found under; `undefined` for a keystore without names. */
  readonly alias: string | undefined
}

interface Bag {
  attributes: Record<string, unknown[] | undefined>
  key?: Forge.pki.PrivateKey | null
  cert?: Forge.pki.Certificate | null
  asn1?: Forge.asn1.Asn1
}

const derOf = (asn1: Forge.asn1.Asn1): Buffer => Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary')

function keyOf(bag: Bag): KeyObject {
  // forge parses RSA keys only; for others its bag keeps the PrivateKeyInfo ASN.1 (forge sets one of the
  // two on every key bag), which node reads or refuses below.
  const info = bag.key
    ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key as Forge.pki.rsa.PrivateKey))
    : (bag.asn1 as Forge.asn1.Asn1)
  try {
    return createPrivateKey({ key: derOf(info), format: 'der', type: 'pkcs8' })
  } catch (cause) {
    throw new ApisignError('ERR_KEY_INVALID', 'PKCS#12 key bag holds no readable key', { cause })
  }
}

function certOf(bag: Bag): X509Certificate | undefined {
  try {
    if (bag.cert) return new X509Certificate(forge.pki.certificateToPem(bag.cert))
    if (bag.asn1) return new X509Certificate(derOf(bag.asn1))
  } catch {
    // A certificate forge or node cannot read does not prevent using the key.
  }
  return undefined
}

const nameOf = (bag: Bag): string | undefined => {
  const name = bag.attributes['friendlyName']?.[0]
  return typeof name === 'string' ? name : undefined
}

/**
 * Open a PKCS#12 keystore (OpenSSL 3 PBES2/AES and legacy 3DES/SHA-1 both) and return the key under
 * `alias` (any one key when no alias is given and the store has exactly one), with its certificate.
 * `what` names the source in errors (a path or "PKCS#12 content").
 */
export function openPkcs12(bytes: Buffer, password: string, alias: string | undefined, what: string): KeyStoreEntry {
  let p12: Forge.pkcs12.Pkcs12Pfx
  try {
    const asn1 = forge.asn1.fromDer(bytes.toString('binary'))
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, password)
  } catch (cause) {
    const text = cause instanceof Error ? cause.message : ''
    if (/MAC could not be verified|Invalid password|decrypt/i.test(text)) {
      throw new ApisignError('ERR_KEY_PASSWORD', `${what}: wrong PKCS#12 password`, { cause })
    }
    throw new ApisignError('ERR_KEY_INVALID', `${what} is not a readable PKCS#12 keystore (truncated or corrupt)`, {
      cause,
    })
  }
  const keyBags: Bag[] = []
  for (const bagType of [forge.pki.oids['pkcs8ShroudedKeyBag'] as string, forge.pki.oids['keyBag'] as string]) {
    keyBags.push(...((p12.getBags({ bagType })[bagType] ?? []) as Bag[]))
  }
  const certType = forge.pki.oids['certBag'] as string
  const certBags = (p12.getBags({ bagType: certType })[certType] ?? []) as Bag[]
  if (keyBags.length === 0) throw new ApisignError('ERR_KEY_WRONG_TYPE', `${what} holds no private key`)
  let bag: Bag | undefined
  if (alias === undefined) {
    if (keyBags.length > 1) {
      throw new ApisignError(
        'ERR_KEY_ALIAS_NOT_FOUND',
        `${what} holds ${keyBags.length} keys; choose one with an alias (${keyBags.map(nameOf).join(', ')})`,
      )
    }
    bag = keyBags[0]
  } else {
    bag = keyBags.find((b) => nameOf(b) === alias)
    if (bag === undefined) {
      const names = keyBags.map(nameOf).filter((n) => n !== undefined)
      throw new ApisignError(
        'ERR_KEY_ALIAS_NOT_FOUND',
        `${what} has no key with alias ${JSON.stringify(alias)} (aliases: ${names.length ? names.join(', ') : 'none'})`,
      )
    }
  }
  const chosen = bag as Bag
  const name = nameOf(chosen)
  const localKeyId = chosen.attributes['localKeyId']?.[0]
  const certBag =
    certBags.find((c) => name !== undefined && nameOf(c) === name) ??
    certBags.find((c) => localKeyId !== undefined && c.attributes['localKeyId']?.[0] === localKeyId) ??
    (certBags.length === 1 ? certBags[0] : undefined)
  return { privateKey: keyOf(chosen), certificate: certBag ? certOf(certBag) : undefined, alias: name }
}

/** DER that starts like a PFX (`SEQUENCE { INTEGER 3, ...`): how PKCS#12 bytes are told from DER keys. */
export function looksLikePkcs12(bytes: Buffer): boolean {
  if (bytes.length < 8 || bytes[0] !== 0x30) return false
  const lenByte = bytes[1] as number
  const offset = lenByte < 0x80 ? 2 : 2 + (lenByte & 0x7f)
  return bytes[offset] === 0x02 && bytes[offset + 1] === 0x01 && bytes[offset + 2] === 0x03
}
