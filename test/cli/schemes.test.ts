import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/run.js'
import { readSharedJson } from '../helpers/shared.js'

const dir = mkdtempSync(join(tmpdir(), 'apisign-schemes-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
async function run(argv: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(argv, { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), cwd: dir })
  return { code, stdout: out.join(''), stderr: err.join('') }
}
const hasTags = (v: unknown): boolean => JSON.stringify(v).includes('"$undefined"') || JSON.stringify(v).includes('"$date"')

interface OstCase { id: string; kind: string; input: { method?: string; resource?: string; params: Record<string, unknown>; apiKey?: string; apiSecret: string; apiEndpoint?: string; nowMs?: number }; expected: { stringToSign: string; api_signature: string; signedQuery?: string; signedResource?: string; wire?: { path: string; body: string } } }
interface WebhookCase { id: string; input: { version: string; timestamp: string; rawBody: string; signatureHeader: string; verifySecret?: string; verifySecrets?: string[] }; expected: { recommendedListVerifier?: boolean } }
const ost = readSharedJson<{ cases: OstCase[]; webhookCases: WebhookCase[] }>('vectors/ost-vectors.json')
const jwt = readSharedJson<{ cases: Array<{ id: string; input: { apiKey?: string; secret: string; payload: Record<string, unknown>; nowMs?: number; options?: { expiresIn?: number }; generator: string }; expected: { token: string } }> }>('vectors/jwt-vectors.json')

describe('apisign ost sign: every request vector (JS values the CLI cannot take as JSON, undefined and Date, are covered by the library tests)', () => {
  for (const c of ost.cases.filter((x) => x.kind !== 'official' && !hasTags(x.input.params))) {
    it(c.id, async () => {
      writeFileSync(join(dir, 'secret'), c.input.apiSecret)
      const params = { ...c.input.params }
      if (c.kind === 'service') {
        delete params['user_id']
        delete params['chain_id']
      }
      const r = await run(['ost', 'sign', '--method', c.input.method as string, '--resource', c.expected.signedResource ?? (c.input.resource as string), '--params-json', JSON.stringify(params), '--api-key', c.input.apiKey as string, '--api-secret-file', 'secret', '--base-url', c.input.apiEndpoint as string, '--now-ms', String(c.input.nowMs), '--json'])
      expect(r.stderr).toBe('')
      const out = JSON.parse(r.stdout) as { stringToSign: string; signature: string; signedQuery: string; url: string; body: string }
      expect(out.stringToSign).toBe(c.expected.stringToSign)
      expect(out.signature).toBe(c.expected.api_signature)
      expect(out.signedQuery).toBe(c.expected.signedQuery)
      if (c.expected.wire) expect(out.body).toBe(c.expected.wire.body)
    })
  }
})

describe('apisign ost verify-webhook', () => {
  for (const w of ost.webhookCases.filter((x) => x.expected.recommendedListVerifier !== undefined)) {
    it(w.id, async () => {
      const secrets = w.input.verifySecrets ?? [w.input.verifySecret as string]
      const args: string[] = []
      secrets.forEach((s, i) => {
        writeFileSync(join(dir, `wh${i}`), s)
        args.push('--secret-file', `wh${i}`)
      })
      writeFileSync(join(dir, 'body'), w.input.rawBody)
      const r = await run(['ost', 'verify-webhook', ...args, '--timestamp', w.input.timestamp, '--version', w.input.version, '--signature', w.input.signatureHeader, '--body-file', 'body', '--now-ms', String(Number(w.input.timestamp) * 1000), '--json'])
      expect((JSON.parse(r.stdout) as { valid: boolean }).valid).toBe(w.expected.recommendedListVerifier)
      expect(r.code).toBe(w.expected.recommendedListVerifier ? 0 : 1)
    })
  }
})

describe('apisign jwt sign', () => {
  for (const c of jwt.cases.filter((x) => !x.input.generator.startsWith('PyJWT'))) {
    it(c.id, async () => {
      writeFileSync(join(dir, 'jwt-secret'), c.input.secret)
      const g = c.input.generator
      const args = ['jwt', 'sign', '--secret-file', 'jwt-secret', '--payload-json', JSON.stringify(c.input.payload), '--json']
      if (!/noTimestamp:true|jose/.test(g)) args.push('--iat')
      if (/setProtectedHeader\(\{alg:'HS256'\}\)/.test(g)) args.push('--no-typ')
      if (c.input.options?.expiresIn !== undefined) args.push('--expires-in', String(c.input.options.expiresIn))
      if (c.input.nowMs !== undefined) args.push('--now-ms', String(c.input.nowMs))
      if (c.input.apiKey !== undefined) args.push('--api-key', c.input.apiKey)
      const r = await run(args)
      const out = JSON.parse(r.stdout) as { token: string; headers: Record<string, string> }
      expect(out.token).toBe(c.expected.token)
      expect(out.headers['Authorization']).toBe(`Bearer ${c.expected.token}`)
      if (c.input.apiKey !== undefined) expect(out.headers['X-Api-Key']).toBe(c.input.apiKey)
      expect(r.stdout + r.stderr).not.toContain(c.input.secret)
    })
  }
  it('warns on stderr about a secret shorter than 32 bytes', async () => {
    writeFileSync(join(dir, 'short'), 'abc')
    const r = await run(['jwt', 'sign', '--secret-file', 'short', '--payload-json', '{"a":1}', '--json'])
    expect(r.stderr).toContain('shorter than 32 bytes')
  })
})
