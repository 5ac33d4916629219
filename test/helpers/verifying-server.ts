// A loopback (127.0.0.1) server that verifies Mastercard-dialect OAuth1 exactly as a gateway would: from
// the request-target, Host header and raw body bytes it received. Tests script its answers per attempt.
import { createPublicKey } from 'node:crypto'
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DIALECTS, computeBodyHash, parseAuthorizationHeader, resolveSignatureMethod, verifyBaseString } from '../../src/oauth1/index.js'
import { readShared } from './shared.js'

export const publicKey = createPublicKey(readShared('keys/oauth1/public-key.pem'))

export interface ReceivedRequest {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: Buffer
  valid: boolean
  nonce: string | undefined
  timestamp: string | undefined
  baseString: string
}

export type Responder = (req: ReceivedRequest, res: ServerResponse, index: number) => void

export function verify(method: string, url: string, authorization: string | undefined, body: Buffer) {
  let params: ReadonlyArray<readonly [string, string]> = []
  try {
    params = parseAuthorizationHeader(authorization ?? '').params
  } catch {
    return { valid: false, nonce: undefined, timestamp: undefined, baseString: '' }
  }
  const get = (n: string) => params.find(([k]) => k === n)?.[1]
  const canonical = DIALECTS.mastercard.canonicalize(url, undefined)
  const baseString = DIALECTS.mastercard.baseString(method, canonical.baseUri, canonical.parameterString(params.filter(([n]) => n !== 'oauth_signature')))
  const bodyOk = get('oauth_body_hash') === computeBodyHash(body)
  const sigOk = verifyBaseString(baseString, decodeURIComponent(get('oauth_signature') ?? ''), resolveSignatureMethod(get('oauth_signature_method') ?? 'RSA-SHA256'), { key: publicKey })
  return { valid: bodyOk && sigOk, nonce: get('oauth_nonce'), timestamp: get('oauth_timestamp'), baseString }
}

export async function startVerifyingServer(responder: Responder) {
  const received: ReceivedRequest[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const check = verify(req.method ?? '', `http://${req.headers.host}${req.url}`, req.headers.authorization, body)
      const entry: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, ...check }
      received.push(entry)
      responder(entry, res, received.length - 1)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { origin, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

/** Answer 200 with JSON when the signature verifies, 401 otherwise. */
export const verifyingResponder: Responder = (req, res) => {
  res.writeHead(req.valid ? 200 : 401, { 'content-type': 'application/json' })
  res.end(JSON.stringify(req.valid ? { ok: true } : { error: 'signature failed verification', acceptable: req.baseString }))
}
