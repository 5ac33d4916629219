// Issue 15 item 3: bodies that never sit whole in memory. A file, a large Blob or a re-openable stream is
// hashed by streaming and sent by streaming, re-read per attempt; a one-shot stream past the threshold is
// spooled to a temp file or refused with what to pass instead. Both transports.
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto'
import { createReadStream, mkdtempSync, openAsBlob, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { inspect } from 'node:util'
import { gzipSync } from 'node:zlib'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isApisignError } from '../../src/errors.js'
import { type ClientOptions, createClient, createFetch, fileBody, streamBody } from '../../src/http/index.js'
import { signRequest } from '../../src/oauth1/index.js'
import { createSigV4Verifier } from '../../src/schemes/index.js'
import { readShared } from '../helpers/shared.js'
import { type Responder, startVerifyingServer, verifyingResponder } from '../helpers/verifying-server.js'
import { rejection } from '../helpers/failure.js'

const key = createPrivateKey(readShared('keys/oauth1/private-key.pem'))
const auth = { scheme: 'oauth1', consumerKey: 'ck!stream', key } as const
const dir = mkdtempSync(join(tmpdir(), 'apisign-stream-test-'))
const big = Buffer.alloc(3 * 1024 * 1024 + 17)
for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 10)) & 0xff
const bigPath = join(dir, 'big.bin')
writeFileSync(bigPath, big)
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

let responder: Responder = verifyingResponder
let server: Awaited<ReturnType<typeof startVerifyingServer>>
beforeAll(async () => {
  server = await startVerifyingServer((req, res, i) => responder(req, res, i))
})
afterAll(async () => {
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})
const reset = (r: Responder = verifyingResponder) => {
  responder = r
  server.received.length = 0
}
const failFirst: Responder = (req, res, i) => {
  if (i === 0) {
    res.writeHead(503, { 'retry-after': '0' })
    res.end()
  } else verifyingResponder(req, res, i)
}


const transports = {
  axios: (options: ClientOptions) => {
    const api = createClient(options)
    return async (method: string, path: string, body: unknown, headers: Record<string, string> = {}) => (await api.request({ method, url: path, data: body, headers })).status
  },
  fetch: (options: ClientOptions) => {
    const signedFetch = createFetch({ ...options, rejections: 'throw' })
    return async (method: string, path: string, body: unknown, headers: Record<string, string> = {}) => (await signedFetch(path, { method, body: body as never, headers })).status
  },
}

for (const [name, make] of Object.entries(transports)) {
  describe(`${name}: streamed bodies`, () => {
    it('a file (fileBody) is hashed and sent by streaming, with its Content-Length, and re-read on a retry', async () => {
      reset(failFirst)
      const send = make({ baseURL: server.origin, auth, sleep: async () => undefined })
      expect(await send('PUT', '/v1/uploads/1', fileBody(bigPath), { 'content-type': 'application/octet-stream' })).toBe(200)
      expect(server.received).toHaveLength(2)
      for (const r of server.received) {
        expect(sha(r.body)).toBe(sha(big))
        expect(r.headers['content-length']).toBe(String(big.length))
        expect(r.headers['transfer-encoding']).toBeUndefined()
      }
      expect(server.received[1]?.valid).toBe(true)
      expect(server.received[0]?.nonce).not.toBe(server.received[1]?.nonce)
    })

    it('a file-backed Blob (fs.openAsBlob) past the threshold, and a re-openable stream factory', async () => {
      reset()
      const send = make({ baseURL: server.origin, auth })
      expect(await send('POST', '/v1/blob', await openAsBlob(bigPath, { type: 'application/octet-stream' }))).toBe(200)
      expect(await send('POST', '/v1/factory', streamBody(() => createReadStream(bigPath)), { 'content-type': 'application/octet-stream' })).toBe(200)
      expect(server.received.map((r) => r.valid)).toEqual([true, true])
      expect(server.received.map((r) => sha(r.body))).toEqual([sha(big), sha(big)])
    })

    it('a one-shot stream past the threshold is refused, saying what to pass instead, before anything is sent', async () => {
      reset()
      const send = make({ baseURL: server.origin, auth, limits: { maxBodyLength: 64 * 1024 * 1024 } })
      const e = await rejection(send('POST', '/v1/oneshot', Readable.from([big.subarray(0, 2 * 1024 * 1024)])))
      expect(isApisignError(e, 'ERR_BODY_UNSUPPORTED')).toBe(true)
      expect((e as Error).message).toMatch(/fileBody\(path\)/)
      expect(server.received).toHaveLength(0)
    })

    it('with limits.spool, a one-shot stream is spooled to a private temp file, re-read per attempt, and removed', async () => {
      reset(failFirst)
      const spool = mkdtempSync(join(dir, 'spool-'))
      const send = make({ baseURL: server.origin, auth, limits: { spool, maxBodyLength: 64 * 1024 * 1024 }, sleep: async () => undefined })
      expect(await send('PUT', '/v1/oneshot', Readable.from([big.subarray(0, 1024 * 1024), big.subarray(1024 * 1024)]), { 'content-type': 'application/octet-stream' })).toBe(200)
      expect(server.received).toHaveLength(2)
      expect(server.received.map((r) => sha(r.body))).toEqual([sha(big), sha(big)])
      expect(server.received[1]?.valid).toBe(true)
      expect(readdirSync(spool)).toEqual([])
    })

    it('a stream that fails while it is sent: the error, and every error in its cause chain, carries no credentials', async () => {
      reset()
      let opens = 0
      const failing = streamBody(() => {
        opens++
        if (opens === 1) return Readable.from([big])
        return new Readable({
          read() {
            this.push(big.subarray(0, 65536))
            this.destroy(new Error('disk went away'))
          },
        })
      }, { size: big.length })
      const send = make({ baseURL: server.origin, auth, retry: false })
      const e = await rejection(send('PUT', '/v1/uploads/2', failing, { 'content-type': 'application/octet-stream' }))
      const text = inspect(e, { depth: 12, showHidden: true })
      expect(text).not.toContain('oauth_signature=')
      expect(text).not.toContain('PRIVATE KEY')
    })

    it('a one-shot stream under the threshold is bytes in memory, as before', async () => {
      reset()
      const send = make({ baseURL: server.origin, auth })
      expect(await send('POST', '/v1/small', Readable.from([Buffer.from('a'), Buffer.from('b')]), { 'content-type': 'text/plain' })).toBe(200)
      expect(server.received[0]?.body.toString()).toBe('ab')
      expect(server.received[0]?.valid).toBe(true)
    })

    it('a scheme that needs the bytes refuses a streamed body (typed), never signing it as empty', async () => {
      reset()
      const send = make({ baseURL: server.origin, auth: { scheme: 'api-key', key: 'k', in: 'body' } })
      expect(isApisignError(await rejection(send('POST', '/v1/x', fileBody(bigPath), { 'content-type': 'application/json' })), 'ERR_BODY_UNSUPPORTED')).toBe(true)
      expect(server.received).toHaveLength(0)
    })

    it('SigV4 signs a streamed body by its x-amz-content-sha256, and the verifier accepts it', async () => {
      const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }
      const verifier = createSigV4Verifier({ credentials: { [credentials.accessKeyId]: credentials.secretAccessKey }, region: 'eu-west-1', service: 'execute-api' })
      const verdicts: boolean[] = []
      reset((req, res) => {
        void verifier.verify({ method: req.method, url: `${server.origin}${req.url}`, headers: req.headers, body: req.body }).then((v) => {
          verdicts.push(v.ok)
          res.writeHead(v.ok ? 200 : 401).end()
        })
      })
      const send = make({ baseURL: server.origin, auth: { scheme: 'sigv4', credentials, region: 'eu-west-1', service: 'execute-api' } })
      expect(await send('PUT', '/v1/objects/a', fileBody(bigPath), { 'content-type': 'application/octet-stream' })).toBe(200)
      expect(verdicts).toEqual([true])
      expect(server.received[0]?.headers['x-amz-content-sha256']).toBe(sha(big))
    })

    it('a streamed body on an encrypted path is refused', async () => {
      reset()
      const encryption = {
        mode: 'JWE',
        encryptedValueFieldName: 'encryptedData',
        paths: [{ path: '/v1/cards$', toEncrypt: [{ element: 'card', obj: 'card' }], toDecrypt: [] }],
        encryptionCertificate: readShared('keys/encryption/certificate.pem'),
      }
      const send = make({ baseURL: server.origin, auth, encryption })
      expect(isApisignError(await rejection(send('POST', '/v1/cards', fileBody(bigPath))), 'ERR_BODY_UNSUPPORTED')).toBe(true)
    })
  })
}

describe('createFetch: a streamed upload answers as fetch would', () => {
  it('a gzip-encoded answer is decoded, the status and headers kept, and the URL set', async () => {
    reset((req, res) => {
      res.writeHead(201, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'x-id': 'u1' })
      res.end(gzipSync(JSON.stringify({ bytes: req.body.length, valid: req.valid })))
    })
    const signedFetch = createFetch({ baseURL: server.origin, auth })
    const r = await signedFetch('/v1/uploads', { method: 'PUT', body: fileBody(bigPath) as never, headers: { 'content-type': 'application/octet-stream' } })
    expect(r.status).toBe(201)
    expect(r.headers.get('x-id')).toBe('u1')
    expect(r.headers.get('content-encoding')).toBeNull()
    expect(r.url).toBe(`${server.origin}/v1/uploads`)
    expect(await r.json()).toEqual({ bytes: big.length, valid: true })
  })
})

describe('stream body inputs', () => {
  it('fileBody refuses a missing file; streamBody refuses a non-function and a bad size; limits are validated', () => {
    expect(() => fileBody(join(dir, 'nope'))).toThrow(expect.objectContaining({ code: 'ERR_FILE_NOT_FOUND' }))
    expect(() => fileBody(dir)).toThrow(expect.objectContaining({ code: 'ERR_FILE_NOT_FOUND' }))
    expect(() => streamBody('x' as never)).toThrow(TypeError)
    expect(() => streamBody(() => Readable.from([]), { size: -1 })).toThrow(TypeError)
    for (const limits of [{ streamThreshold: 0 }, { spool: '' }, { spool: 3 }]) {
      expect(() => createClient({ baseURL: server.origin, auth, limits: limits as never })).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }))
    }
  })
  it('a stream that gives other bytes than it declared is refused', async () => {
    reset()
    const api = createClient({ baseURL: server.origin, auth })
    const e = await rejection(api.post('/v1/x', streamBody(() => Readable.from([Buffer.from('abc')]), { size: 4 })))
    expect(isApisignError(e, 'ERR_BODY_UNSUPPORTED')).toBe(true)
  })
  it('precomputedBodyHash signs exactly as the bytes would, and is checked', () => {
    const options = { method: 'POST', url: 'https://api.example.com/v1', consumerKey: 'ck', key, nonce: 'n0nce', timestamp: 1_700_000_000 }
    const body = Buffer.from('{"a":1}')
    const fromBytes = signRequest({ ...options, body })
    const fromHash = signRequest({ ...options, precomputedBodyHash: createHash('sha256').update(body).digest('base64') })
    expect(fromHash.authorizationHeader).toBe(fromBytes.authorizationHeader)
    expect(() => signRequest({ ...options, body, precomputedBodyHash: fromBytes.bodyHash as string })).toThrow(TypeError)
    expect(() => signRequest({ ...options, precomputedBodyHash: 'AAAA' })).toThrow(TypeError)
    expect(() => signRequest({ ...options, dialect: 'rfc5849', contentType: 'application/x-www-form-urlencoded', precomputedBodyHash: fromBytes.bodyHash as string })).toThrow(expect.objectContaining({ code: 'ERR_BODY_UNSUPPORTED' }))
    expect(createPublicKey(key).asymmetricKeyType).toBe('rsa')
  })
})
