import { percentEncode } from './percent-encode.js'

/**
 * RFC 5849 §3.4.1.1 signature base string: the upper-cased method, the encoded base string URI and the
 * encoded normalised parameter string, joined by `&`.
 *
 * @example
 * ```ts
 * signatureBaseString('get', 'https://api.example.com/v1', 'a=1&oauth_nonce=x')
 * // 'GET&https%3A%2F%2Fapi.example.com%2Fv1&a%3D1%26oauth_nonce%3Dx'
 * ```
 */
export function signatureBaseString(method: string, baseUri: string, parameterString: string): string {
  return `${method.toUpperCase()}&${percentEncode(baseUri)}&${percentEncode(parameterString)}`
}
