import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient } from '../../src/http/index.js'
import { sigv4Auth } from '../../src/schemes/index.js'

// The official AWS SigV4 test-suite case get-vanilla: GET / on example.amazonaws.com, 20150830T123600Z,
// us-east-1, service "service", the suite's example credentials.
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }
const GET_VANILLA = 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'
const NOW = Date.parse('2015-08-30T12:36:00Z')

describe('SigV4 through @smithy/signature-v4', () => {
  it('reproduces the official get-vanilla case', async () => {
    const auth = sigv4Auth({ region: 'us-east-1', service: 'service', credentials: CREDENTIALS })
    const result = await auth.apply({ method: 'GET', url: new URL('https://example.amazonaws.com/'), headers: {}, body: undefined }, { now: () => NOW, baseURL: new URL('https://example.amazonaws.com/') })
    expect(result.headers).toEqual({ 'x-amz-date': '20150830T123600Z', authorization: GET_VANILLA })
  })

  describe('through createClient, re-signed per attempt', () => {
    const seen: IncomingMessage[] = []
    let origin = ''
    const server = createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        seen.push(req)
        if (seen.length === 1) res.writeHead(503, { 'retry-after': '0' }).end()
        else res.writeHead(200).end('{}')
      })
    })
    beforeAll(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    })
    afterAll(() => server.close())
    it('a retry carries a fresh X-Amz-Date and signature (aws4-axios 3.2.24 reused the stale date)', async () => {
      let now = NOW
      const api = createClient({ baseURL: origin, auth: sigv4Auth({ region: 'us-east-1', service: 'service', credentials: CREDENTIALS }), now: () => now, sleep: async (ms) => void (now += ms + 1000) })
      await api.get('/items', { params: { b: '2', a: '1' } })
      expect(seen).toHaveLength(2)
      expect(seen[0]?.headers['x-amz-date']).not.toBe(seen[1]?.headers['x-amz-date'])
      expect(seen[1]?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20150830\/us-east-1\/service\/aws4_request, SignedHeaders=host;x-amz-date, Signature=[0-9a-f]{64}$/)
    })
  })
})
