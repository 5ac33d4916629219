// The token endpoint's transport when it must go through a node:http(s) Agent (a private CA, a client
// certificate for mTLS, keep-alive shared with the API client): a fetch over node:http(s) with that agent,
// for oauth4webapi's customFetch. Node's global fetch (undici) cannot take an https.Agent.
import { type Agent as HttpAgent, request as httpRequest } from 'node:http'
import { type Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { ApisignError } from '../errors.js'

const MAX_RESPONSE = 1024 * 1024

/**
 * A `fetch` for token requests through a node:http(s) agent (e.g. the `https.Agent` of a profile's `tls`).
 * Small requests and responses only (a token endpoint's): the response is read whole, up to 1 MiB.
 *
 * @example
 * ```ts
 * oauth2Auth({ ..., fetch: agentFetch(new https.Agent({ ca: readFileSync('ca.pem') })) })
 * ```
 */
export function agentFetch(agent: HttpAgent | HttpsAgent): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    const send = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined
    if (send === undefined) throw new ApisignError('ERR_INVALID_URL', 'the token endpoint must be http(s)')
    const headers = Object.fromEntries(new Headers(init?.headers))
    const body = init?.body === undefined || init.body === null ? undefined : Buffer.from(String(init.body))
    if (body !== undefined) headers['content-length'] = String(body.length)
    return new Promise<Response>((resolve, reject) => {
      const req = send(url, { method: init?.method ?? 'GET', headers, agent: agent as HttpsAgent, ...(init?.signal ? { signal: init.signal } : {}) }, (res) => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > MAX_RESPONSE) {
            req.destroy(new ApisignError('ERR_INPUT_TOO_LARGE', 'the token endpoint answered with more than 1 MiB'))
            return
          }
          chunks.push(chunk)
        })
        res.on('error', reject)
        res.on('end', () => {
          const responseHeaders = new Headers()
          for (const [name, value] of Object.entries(res.headers)) {
            if (value === undefined) continue
            for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(name, v)
          }
          const status = res.statusCode ?? 502
          resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: responseHeaders }))
        })
      })
      req.on('error', reject)
      req.end(body)
    })
  }) as typeof fetch
}
