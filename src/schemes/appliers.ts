// Auth appliers for createClient (apisign/http's AuthApplier seam): API key, Basic, JWT bearer + X-Api-Key,
// a provider-issued bearer token, and composition (e.g. OAuth1 plus a bearer token). Credentials come from
// providers resolved per attempt, so a rotated secret is picked up without a restart.
import { readFileSync, statSync } from 'node:fs'
import { ApisignError } from '../errors.js'
import { limitOption } from '../option-values.js'
import type { AuthApplier, Authorization, RequestToAuthorize } from '../pipeline/types.js'
import { signJwt } from './jwt.js'

/** A credential resolved per attempt. */
export interface CredentialProvider<T = string> {
  get(): Promise<T>
}

/**
 * A fixed value.
 *
 * @example
 * ```ts
 * const secret = fromValue(process.env.PARTNER_SECRET!) // a fixed secret behind the provider interface
 * ```
 */
export function fromValue<T>(value: T): CredentialProvider<T> {
  return { get: async () => value }
}

/**
 * A secret in a file, re-read when the file changes (mtime or size): rotate by replacing the file.
 *
 * @example
 * ```ts
 * const secret = fromFile('/run/secrets/partner-api-secret')
 * ```
 */
export function fromFile(path: string): CredentialProvider<string> {
  let cached: { stamp: string; value: string } | undefined
  return {
    async get() {
      let stamp: string
      try {
        const st = statSync(path)
        stamp = `${st.mtimeMs}:${st.size}:${st.ino}`
      } catch (cause) {
        throw new ApisignError('ERR_CREDENTIALS_UNAVAILABLE', `credential file ${path} cannot be read`, { cause })
      }
      if (cached?.stamp !== stamp) cached = { stamp, value: readFileSync(path, 'utf8').replace(/\r?\n$/, '') }
      return cached.value
    },
  }
}

/**
 * An environment variable, read on every attempt.
 *
 * @example
 * ```ts
 * createClient({ baseURL, auth: { scheme: 'basic', username: 'partner', password: fromEnv('PARTNER_PASSWORD') } })
 * ```
 */
export function fromEnv(name: string, env: Readonly<Record<string, string | undefined>> = process.env): CredentialProvider<string> {
  return {
    async get() {
      const value = env[name]
      if (value === undefined || value === '') throw new ApisignError('ERR_CREDENTIALS_UNAVAILABLE', `environment variable ${name} is not set`)
      return value
    },
  }
}

const provider = (v: string | CredentialProvider<string>) => (typeof v === 'string' ? fromValue(v) : v)

/**
 * An API key in a header (default `X-Api-Key`), a query parameter or a body field (JSON object or form
 * body): the three places providers use. Prefer the header: query strings end up in access logs, and a
 * body field ties authentication to the content type.
 *
 * @example
 * ```ts
 * createClient({ baseURL, auth: apiKeyAuth({ key: fromEnv('PARTNER_API_KEY') }) })
 * ```
 */
export function apiKeyAuth(options: { key: string | CredentialProvider<string>; in?: 'header' | 'query' | 'body'; name?: string }): AuthApplier {
  const key = provider(options.key)
  const where = options.in ?? 'header'
  const name = options.name ?? (where === 'header' ? 'X-Api-Key' : 'api_key')
  return {
    async apply(request): Promise<Authorization> {
      const value = await key.get()
      if (where === 'query') {
        const url = new URL(request.url)
        url.searchParams.set(name, value)
        return { headers: {}, url }
      }
      if (where === 'body') {
        const fresh = request.body === undefined || request.body.length === 0
        const body = withBodyField(request.body, request.headers['content-type'] ?? '', name, value)
        return { headers: fresh ? { 'Content-Type': 'application/json' } : {}, body }
      }
      return { headers: { [name]: value } }
    },
  }
}

function withBodyField(body: Buffer | undefined, contentType: string, name: string, value: string): Buffer {
  const text = body === undefined ? '' : body.toString('utf8')
  if (/x-www-form-urlencoded/i.test(contentType)) {
    const form = new URLSearchParams(text)
    form.set(name, value)
    return Buffer.from(form.toString(), 'utf8')
  }
  if (/json/i.test(contentType) || text === '') {
    let parsed: unknown = {}
    if (text !== '') {
      try {
        parsed = JSON.parse(text)
      } catch {
        throw new ApisignError('ERR_BODY_UNSUPPORTED', 'an API key in the body needs a JSON object or form body')
      }
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ApisignError('ERR_BODY_UNSUPPORTED', 'an API key in the body needs a JSON object body')
    return Buffer.from(JSON.stringify({ ...(parsed as Record<string, unknown>), [name]: value }), 'utf8')
  }
  throw new ApisignError('ERR_BODY_UNSUPPORTED', `an API key in the body needs a JSON or form body, not ${contentType.split(';')[0]}`)
}

/**
 * HTTP Basic (RFC 7617): `base64(user ":" password)`, UTF-8. No integrity or replay protection: TLS only.
 *
 * @example
 * ```ts
 * createClient({ baseURL, auth: basicAuth({ username: 'key', password: fromFile('./secret') }) })
 * ```
 */
export function basicAuth(options: { username: string; password: string | CredentialProvider<string> }): AuthApplier {
  if (options.username.includes(':')) throw new TypeError('a Basic username must not contain ":" (RFC 7617 §2)')
  const password = provider(options.password)
  return {
    async apply() {
      return { headers: { Authorization: `Basic ${Buffer.from(`${options.username}:${await password.get()}`, 'utf8').toString('base64')}` } }
    },
  }
}

/**
 * HS256 JWT bearer + `X-Api-Key` (the "Original" scheme): a fresh token per attempt, claims in the SDK's
 * order (resource, action, user_id, api_key), optional `iat`/`exp`.
 *
 * @example
 * ```ts
 * createClient({ baseURL, auth: jwtBearerAuth({ apiKey, secret: fromEnv('ORIGINAL_API_SECRET'), iat: true, expiresIn: 60 }) })
 * ```
 */
export function jwtBearerAuth(options: {
  apiKey: string
  secret: string | CredentialProvider<string>
  payload?: Readonly<Record<string, unknown>>
  iat?: boolean
  expiresIn?: number
  now?: () => number
}): AuthApplier {
  // Checked when built, not on the first request (issue 13 item 1).
  limitOption(options.expiresIn, 'expiresIn', 1, { integer: true, positive: true })
  const secret = provider(options.secret)
  const payload = options.payload ?? { resource: '*', action: '*', user_id: '*', api_key: options.apiKey }
  return {
    async apply(_request, context) {
      const token = signJwt({
        secret: await secret.get(),
        payload,
        ...(options.iat === undefined ? {} : { iat: options.iat }),
        ...(options.expiresIn === undefined ? {} : { expiresIn: options.expiresIn }),
        nowMs: (options.now ?? context.now)(),
        onWarning: () => undefined,
      })
      return { headers: { Authorization: `Bearer ${token}`, 'X-Api-Key': options.apiKey } }
    },
  }
}

/**
 * Several schemes on one request, applied in order, their headers merged: e.g. an OAuth1 signature plus
 * a provider-issued bearer token in the header the spec's security scheme names. Two schemes setting the
 * same header to different values is `ERR_SCHEME_CONFIG`.
 *
 * @example
 * ```ts
 * composeAuth(oauth1Applier, headerTokenAuth({ header: 'X-Auth-Token', token: tokenProvider }))
 * ```
 */
export function composeAuth(...appliers: AuthApplier[]): AuthApplier {
  return {
    async apply(request, context) {
      let headers: Record<string, string> = {}
      let url: URL | undefined
      let body: Buffer | undefined
      let baseString: string | undefined
      for (const applier of appliers) {
        // Property descriptors, not a spread: a streamed request's `body` is a getter that refuses to be read.
        const current: RequestToAuthorize = url === undefined && body === undefined ? request : Object.defineProperties({} as RequestToAuthorize, { ...Object.getOwnPropertyDescriptors(request), ...(url === undefined ? {} : { url: { value: url, enumerable: true } }), ...(body === undefined ? {} : { body: { value: body, enumerable: true } }) })
        const result = await applier.apply(current, context)
        for (const [name, value] of Object.entries(result.headers)) {
          const clash = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase())
          // Two schemes writing different values into one header (e.g. both into Authorization) would
          // silently drop one credential: a configuration error, named, never a request that fails later.
          if (clash !== undefined && headers[clash] !== value) throw new ApisignError('ERR_SCHEME_CONFIG', `two composed schemes set the ${name} header; give the provider token its own header`)
        }
        headers = { ...headers, ...result.headers }
        url = result.url ?? url
        body = result.body ?? body
        baseString = result.baseString ?? baseString
      }
      return { headers, ...(url === undefined ? {} : { url }), ...(body === undefined ? {} : { body }), ...(baseString === undefined ? {} : { baseString }) }
    },
    // Every composed scheme sees every response (each learns its own nonces); one asking is enough to retry.
    async onResponse(response, context) {
      let verdict: 'retry' | undefined
      for (const applier of appliers) if ((await applier.onResponse?.(response, context)) === 'retry') verdict = 'retry'
      return verdict
    },
  }
}

/**
 * A token the provider issued (not signed by us) in a header, refreshed before it expires.
 *
 * @example
 * ```ts
 * headerTokenAuth({ header: 'Authorization', scheme: 'Bearer', fetch: async () => ({ token, expiresAtMs }) })
 * ```
 */
export function headerTokenAuth(options: {
  header?: string
  scheme?: string
  fetch: () => Promise<{ token: string; expiresAtMs: number }>
  refreshBeforeMs?: number
}): AuthApplier {
  const refreshBeforeMs = limitOption(options.refreshBeforeMs, 'refreshBeforeMs', 60_000)
  let current: { token: string; expiresAtMs: number } | undefined
  let pending: Promise<{ token: string; expiresAtMs: number }> | undefined
  return {
    async apply(_request, context) {
      const now = context.now()
      if (current === undefined || current.expiresAtMs - refreshBeforeMs <= now) {
        pending ??= options.fetch().finally(() => {
          pending = undefined
        })
        current = await pending
      }
      const value = options.scheme === undefined ? current.token : `${options.scheme} ${current.token}`
      return { headers: { [options.header ?? 'Authorization']: value } }
    },
  }
}
