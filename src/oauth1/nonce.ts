import { randomFillSync } from 'node:crypto'

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
/**
 * 22 base62 characters carry 22 x log2(62) = 131 bits, above the 128-bit minimum.
 *
 * @example
 * ```ts
 * generateNonce().length === NONCE_LENGTH // true
 * ```
 */
export const NONCE_LENGTH = 22
// Bytes >= 248 (= 4 x 62) are rejected so that `byte % 62` is uniform: no modulo bias, unlike the Node
// reference (reference/oauth1.md §2.9, about 47.6 bits for its 8 characters).
const LIMIT = 248

/** A source of random bytes; injectable for tests (fills the buffer and returns it). */
export type RandomFill = (buffer: Uint8Array) => Uint8Array

let pool: Uint8Array = new Uint8Array(0)
let poolOffset = 0

function defaultFill(buffer: Uint8Array): Uint8Array {
  return randomFillSync(buffer)
}

/**
 * A fresh `oauth_nonce`: 22 characters of `[a-zA-Z0-9]` from a CSPRNG by rejection sampling (≥ 128 bits of
 * entropy, no modulo bias). Random bytes are drawn in 4 KiB batches, as one `randomFillSync` call per
 * nonce would dominate the non-RSA cost of signing.
 *
 * @param fill - injected randomness (tests); default `crypto.randomFillSync`
 * @example
 * ```ts
 * generateNonce() // e.g. 'q3ZbX0c9LmT1uVw7YpR2sA'
 * ```
 */
export function generateNonce(fill?: RandomFill): string {
  let out = ''
  if (fill !== undefined) {
    const bytes = new Uint8Array(64)
    while (out.length < NONCE_LENGTH) {
      fill(bytes)
      for (let i = 0; i < bytes.length && out.length < NONCE_LENGTH; i++) {
        const b = bytes[i] as number
        if (b < LIMIT) out += ALPHABET[b % 62]
      }
    }
    return out
  }
  while (out.length < NONCE_LENGTH) {
    if (poolOffset >= pool.length) {
      pool = defaultFill(new Uint8Array(4096))
      poolOffset = 0
    }
    const b = pool[poolOffset++] as number
    if (b < LIMIT) out += ALPHABET[b % 62]
  }
  return out
}
