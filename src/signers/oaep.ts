// EME-OAEP decoding (RFC 8017 §7.1.2 step 3) for tokens that do raw RSA (CKM_RSA_X_509) but not OAEP with
// the digest JWE needs (Debian's SoftHSM 2.6 does OAEP with SHA-1 only: SHA-256 is CKR_ARGUMENTS_BAD).
// The raw RSA result holds the content key under the OAEP mask, so the decoding must not tell a caller,
// by an error or by its timing, *why* a block is invalid: every check is folded into one flag with
// branch-free arithmetic over the whole block (Manger's attack, CRYPTO 2001, needs only "is the first byte
// zero"). node:crypto has no OAEP decoding of a raw block, hence this code.
import { createHash } from 'node:crypto'
import { ApisignError } from '../errors.js'
import type { OaepHash } from './types.js'

const H_LEN: Readonly<Record<OaepHash, number>> = { sha1: 20, sha256: 32, sha512: 64 }

/** MGF1 (RFC 8017 appendix B.2.1). */
function mgf1(hash: OaepHash, seed: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length)
  const counter = Buffer.alloc(4)
  for (let done = 0, i = 0; done < length; i++) {
    counter.writeUInt32BE(i)
    const block = createHash(hash).update(seed).update(counter).digest()
    block.copy(out, done, 0, Math.min(block.length, length - done))
    done += block.length
  }
  return out
}

// 1 when x (a byte, 0..255) is zero, else 0, without a branch.
const isZeroByte = (x: number): number => ((x - 1) >>> 31) & 1

/**
 * Remove EME-OAEP padding from a raw RSA decryption result `em` (the token's `CKM_RSA_X_509` output, left
 * padded to the modulus length `k`), with MGF1 over the same digest and the given label (default empty).
 * Every check (leading zero byte, label hash, zero run, `0x01` separator) runs over the whole block and
 * folds into one flag, so neither the error nor the time taken says which check failed. Any invalid block
 * is the same `ERR_JWE_DECRYPTION_FAILED`.
 *
 * @example
 * ```ts
 * const cek = removeOaepPadding('sha256', rawBlock, 256)
 * ```
 */
export function removeOaepPadding(hash: OaepHash, em: Uint8Array, k: number, label: Uint8Array = new Uint8Array(0)): Buffer {
  const hLen = H_LEN[hash]
  if (hLen === undefined) throw new TypeError('hash must be sha1, sha256 or sha512')
  if (!Number.isInteger(k) || k < 2 * hLen + 2) throw new TypeError(`k (${k}) is too small for OAEP with ${hash}`)
  // A raw result shorter than k lost leading zero bytes (some tokens strip them); longer is not an RSA block.
  if (em.length > k) throw failed()
  const block = Buffer.alloc(k)
  block.set(em, k - em.length)
  const lHash = createHash(hash).update(label).digest()
  const maskedSeed = block.subarray(1, 1 + hLen)
  const maskedDb = block.subarray(1 + hLen)
  const seedMask = mgf1(hash, maskedDb, hLen)
  const seed = Buffer.alloc(hLen)
  for (let i = 0; i < hLen; i++) seed[i] = (maskedSeed[i] as number) ^ (seedMask[i] as number)
  const dbMask = mgf1(hash, seed, k - hLen - 1)
  const db = Buffer.alloc(k - hLen - 1)
  for (let i = 0; i < db.length; i++) db[i] = (maskedDb[i] as number) ^ (dbMask[i] as number)

  let bad = block[0] as number
  for (let i = 0; i < hLen; i++) bad |= (db[i] as number) ^ (lHash[i] as number)
  // DB = lHash' || PS (zeros) || 0x01 || M: find the first 0x01 after lHash', and flag any other non-zero
  // byte before it, visiting every byte whatever the data.
  let found = 0
  let index = 0
  for (let i = hLen; i < db.length; i++) {
    const b = db[i] as number
    const isOne = isZeroByte(b ^ 1)
    const isZero = isZeroByte(b)
    const first = isOne & (found ^ 1)
    index |= -first & i
    bad |= (found ^ 1) & (isOne ^ 1) & (isZero ^ 1)
    found |= isOne
  }
  bad |= found ^ 1
  seed.fill(0)
  if (bad !== 0) {
    db.fill(0)
    block.fill(0)
    throw failed()
  }
  const message = Buffer.from(db.subarray(index + 1))
  db.fill(0)
  block.fill(0)
  return message
}

const failed = () => new ApisignError('ERR_JWE_DECRYPTION_FAILED', 'RSA-OAEP decoding failed')
