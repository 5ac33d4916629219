import { ApisignError, type ApisignErrorCode } from '../errors.js'

/** One entry of Mastercard's error envelope `{ Errors: { Error: [...] } }`. */
export interface PartnerErrorEntry {
  readonly source: string | undefined
  readonly reasonCode: string | undefined
  readonly description: string | undefined
  readonly recoverable: boolean | undefined
}

/**
 * Read the partner error envelope (`Errors.Error[]` with `Source`, `ReasonCode`, `Description`,
 * `Recoverable`; either case of keys, a single object or an array). Empty when the body has none.
 *
 * @example
 * ```ts
 * parseErrorEnvelope({ Errors: { Error: [{ ReasonCode: 'DECLINED', Source: 'Payments' }] } })[0]?.reasonCode // 'DECLINED'
 * ```
 */
export function parseErrorEnvelope(data: unknown): PartnerErrorEntry[] {
  const body = typeof data === 'string' ? safeJson(data) : data
  if (body === null || typeof body !== 'object') return []
  // The OST platform's envelope: { success: false, err: { code, msg, internal_id, error_data: [{ parameter, msg }] } }.
  const ost = pick(body, 'err')
  if (pick(body, 'success') === false && ost !== null && typeof ost === 'object') {
    const field = (o: object, k: string) => (typeof pick(o, k) === 'string' ? (pick(o, k) as string) : undefined)
    const data = pick(ost, 'error_data')
    const params = Array.isArray(data) ? data.filter((d): d is object => d !== null && typeof d === 'object').map((d) => field(d, 'parameter')).filter((p) => p !== undefined) : []
    const msg = field(ost, 'msg')
    return [{ source: 'OST', reasonCode: field(ost, 'internal_id') ?? field(ost, 'code'), description: params.length > 0 ? `${msg ?? ''} (parameter: ${params.join(', ')})`.trim() : msg, recoverable: undefined }]
  }
  // OAuth 2.0 (RFC 6749 §5.2, RFC 6750 §3; Mastercard's OAuth 2.0 errors): { error, error_description }.
  const oauthError = pick(body, 'error')
  if (typeof oauthError === 'string') {
    const description = pick(body, 'error_description')
    return [{ source: 'OAuth2', reasonCode: oauthError, description: typeof description === 'string' ? description : undefined, recoverable: undefined }]
  }
  // A plain { error: { code, message } } (many JSON APIs, and apisign's mock gateway for the simple schemes).
  const plain = pick(body, 'error')
  if (plain !== null && typeof plain === 'object' && !Array.isArray(plain) && pick(body, 'Errors') === undefined && pick(body, 'errors') === undefined) {
    const code = pick(plain, 'code')
    const message = pick(plain, 'message')
    return [{ source: undefined, reasonCode: typeof code === 'string' ? code : undefined, description: typeof message === 'string' ? message : undefined, recoverable: undefined }]
  }
  const errors = pick(body, 'Errors') ?? pick(body, 'errors')
  const list = errors !== null && typeof errors === 'object' && !Array.isArray(errors) ? (pick(errors, 'Error') ?? pick(errors, 'error')) : errors
  const entries = Array.isArray(list) ? list : list !== undefined && list !== null ? [list] : []
  return entries
    .filter((e): e is object => e !== null && typeof e === 'object')
    .map((e) => {
      const text = (k: string) => {
        const v = pick(e, k) ?? pick(e, k[0]?.toLowerCase() + k.slice(1))
        return typeof v === 'string' ? v : undefined
      }
      const recoverable = pick(e, 'Recoverable') ?? pick(e, 'recoverable')
      return {
        source: text('Source'),
        reasonCode: text('ReasonCode'),
        description: text('Description'),
        recoverable: typeof recoverable === 'boolean' ? recoverable : undefined,
      }
    })
}

function pick(o: object, key: string): unknown {
  return Object.hasOwn(o, key) ? (o as Record<string, unknown>)[key] : undefined
}
function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const ACCEPTABLE = /acceptable\s+signature\s+base\s+string\s*[:=]?\s*([A-Z]+&[^\s"',]+)/i

/**
 * Where our signature base string first differs from the one the gateway says it accepts (Mastercard's
 * 401/403 bodies carry "Acceptable signature base string: ..."; Python #37). Undefined when the body has
 * no such string.
 *
 * @example
 * ```ts
 * explainSignatureMismatch('... Acceptable signature base string: GET&https%3A...', ourBaseString)
 * ```
 */
export function explainSignatureMismatch(
  data: unknown,
  signedBaseString: string,
): { offset: number; ours: string; gateway: string; gatewayBaseString: string } | undefined {
  const text = typeof data === 'string' ? data : JSON.stringify(data ?? '')
  const match = ACCEPTABLE.exec(text)
  if (!match?.[1]) return undefined
  const gatewayBaseString = match[1]
  let offset = 0
  while (offset < signedBaseString.length && signedBaseString[offset] === gatewayBaseString[offset]) offset++
  const window = (s: string) => s.slice(Math.max(0, offset - 20), offset + 40)
  return { offset, ours: window(signedBaseString), gateway: window(gatewayBaseString), gatewayBaseString }
}

const GATEWAY_REASONS = /auth|signature|oauth|consumer|nonce|timestamp|body_hash|key|credential|throttl|rate/i

/** Map an HTTP rejection to the typed error: gateway (auth, signature, rate limit) or service (business rule). */
export function rejectionError(
  status: number,
  data: unknown,
  signedBaseString: string | undefined,
  cause: unknown,
): ApisignError {
  const entries = parseErrorEnvelope(data)
  const first = entries[0]
  const details = {
    status,
    ...(first === undefined ? {} : { reasonCode: first.reasonCode, source: first.source, description: first.description, recoverable: first.recoverable }),
    errors: entries,
  }
  if ((status === 401 || status === 403) && signedBaseString !== undefined) {
    const diff = explainSignatureMismatch(data, signedBaseString)
    if (diff !== undefined && diff.offset === signedBaseString.length && diff.offset === diff.gatewayBaseString.length) {
      return new ApisignError(
        'ERR_SIGNATURE_MISMATCH',
        'the gateway rebuilt the same signature base string, so the signing key is not the one the partner holds for this consumer key (check the key/certificate pair with apisign keys inspect)',
        { cause, details: { ...details, offset: diff.offset, gatewayBaseString: diff.gatewayBaseString, signedBaseString } },
      )
    }
    if (diff !== undefined) {
      return new ApisignError(
        'ERR_SIGNATURE_MISMATCH',
        `the gateway rebuilt a different signature base string: first difference at offset ${diff.offset}: ours "…${diff.ours}…" vs gateway "…${diff.gateway}…"`,
        { cause, details: { ...details, offset: diff.offset, gatewayBaseString: diff.gatewayBaseString, signedBaseString } },
      )
    }
  }
  let code: ApisignErrorCode
  if (status === 429) code = 'ERR_RATE_LIMITED'
  else if (status === 401 || status === 403 || (first?.reasonCode !== undefined && GATEWAY_REASONS.test(first.reasonCode) && status < 500 && first.source?.toLowerCase() === 'gateway')) code = 'ERR_GATEWAY_REJECTED'
  else code = 'ERR_SERVICE_REJECTED'
  const summary = first?.reasonCode !== undefined ? ` (${first.reasonCode}${first.source ? ` from ${first.source}` : ''})` : ''
  return new ApisignError(code, `the partner answered HTTP ${status}${summary}`, { cause, details })
}
