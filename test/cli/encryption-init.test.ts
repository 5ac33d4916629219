// Issue 14 item 3: specs without x-apisign-encrypt. `apisign encryption init` scaffolds a
// mastercard-client-encryption config from encrypted-looking fields; `generate` warns about them.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/run.js'
import { createEncryption } from '../../src/encryption/index.js'
import { findEncryptedFields, generate, loadSpec, scaffoldEncryptionConfig } from '../../src/codegen/index.js'
import { REPO_ROOT, readShared } from '../helpers/shared.js'

const dir = mkdtempSync(join(tmpdir(), 'apisign-init-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const MDES = join(REPO_ROOT, 'test/codegen/fixtures/mdes-digital-enablement.yaml')

async function cli(argv: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(argv, { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), cwd: dir })
  return { code, stdout: out.join(''), stderr: err.join('') }
}

// A JWE-style spec: the encrypted field is a string `encryptedValue`, inside an array.
const jweSpec = {
  openapi: '3.0.3', info: { title: 't', version: '1' },
  paths: {
    '/accounts/{id}/cards': {
      post: {
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { cards: { type: 'array', items: { $ref: '#/components/schemas/Sealed' } } } } } } },
        responses: { '201': { description: 'ok', content: { 'application/vnd.partner+json': { schema: { $ref: '#/components/schemas/Sealed' } } } } },
      },
    },
  },
  components: { schemas: { Sealed: { type: 'object', properties: { encryptedValue: { type: 'string' }, id: { type: 'string' } } } } },
}

describe('findEncryptedFields / scaffoldEncryptionConfig', () => {
  it('MDES: the legacy containers of every operation, in the MDES in-place form', async () => {
    const spec = await loadSpec(MDES)
    const { config, containers, notes } = scaffoldEncryptionConfig(spec, { mode: 'legacy', oaepDigest: 'SHA-512' })
    expect(containers.filter((c) => c.path.endsWith('/tokenize')).map((c) => [c.direction, c.container, c.valueField])).toEqual([
      ['request', 'fundingAccountInfo.encryptedPayload', 'encryptedData'],
      ['response', 'tokenDetail', 'encryptedData'],
    ])
    expect(notes).toEqual([])
    expect((config['paths'] as Array<{ path: string }>).find((p) => p.path.endsWith('tokenize$'))).toEqual({
      path: '/digitization/static/1/0/tokenize$',
      toEncrypt: [{ element: 'fundingAccountInfo.encryptedPayload.encryptedData', obj: 'fundingAccountInfo.encryptedPayload' }],
      toDecrypt: [{ element: 'tokenDetail', obj: 'tokenDetail.encryptedData' }],
    })
    expect(config).toMatchObject({ encryptedValueFieldName: 'encryptedData', ivFieldName: 'iv', encryptedKeyFieldName: 'encryptedKey', oaepHashingAlgorithmFieldName: 'oaepHashingAlgorithm', publicKeyFingerprintFieldName: 'publicKeyFingerprint', oaepPaddingDigestAlgorithm: 'SHA-512', dataEncoding: 'hex' })
    // With real keys in place, apisign accepts it as it is.
    expect(() => createEncryption({ ...config, encryptionCertificate: readShared('keys/encryption/certificate.pem'), privateKey: readShared('keys/encryption/private-key-pkcs8.pem') })).not.toThrow()
  })
  it('a JWE-style spec: string fields in arrays, any JSON media type; $ref cycles do not loop', async () => {
    const cyclic = structuredClone(jweSpec) as Record<string, any>
    cyclic.components.schemas.Node = { type: 'object', properties: { child: { $ref: '#/components/schemas/Node' } } }
    cyclic.paths['/tree'] = { get: { responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Node' } } } } } } }
    const { config } = scaffoldEncryptionConfig(await loadSpec(cyclic))
    expect(config).toMatchObject({
      mode: 'JWE', encryptedValueFieldName: 'encryptedValue',
      paths: [{ path: '/accounts/[^/]+/cards$', toEncrypt: [{ element: 'cards[*].encryptedValue', obj: 'cards[*]' }], toDecrypt: [{ element: '$', obj: 'encryptedValue' }] }],
    })
  })
  it('the chosen mode against what the fields look like is noted; bad options are TypeErrors', async () => {
    expect(scaffoldEncryptionConfig(await loadSpec(jweSpec), { mode: 'legacy' }).notes[0]).toMatch(/no encrypted field carries iv and encryptedKey/)
    expect(scaffoldEncryptionConfig(await loadSpec(MDES), { mode: 'jwe' }).notes[0]).toMatch(/legacy scheme/)
    expect(() => scaffoldEncryptionConfig(jweSpec as never, { dataEncoding: 'b64' as never })).toThrow(TypeError)
  })
  it('the spec with x-apisign-encrypt markers has no encrypted-looking fields', async () => {
    expect(findEncryptedFields(await loadSpec(join(REPO_ROOT, 'openapi/payments.yaml')))).toEqual([])
  })
})

describe('apisign encryption init', () => {
  it('prints the config on stdout and the fields found on stderr', async () => {
    const r = await cli(['encryption', 'init', '--spec', MDES, '--oaep-digest', 'sha512'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ oaepPaddingDigestAlgorithm: 'SHA-512', dataEncoding: 'hex', publicKeyFingerprintType: 'certificate' })
    expect(r.stderr).toContain('POST /digitization/static/1/0/tokenize request: fundingAccountInfo.encryptedPayload (encryptedData)')
    expect(r.stderr).toMatch(/set encryptionCertificate \(the partner's\) and privateKey \(yours\)/)
  })
  it('--out writes the file, and refuses to overwrite it without --force', async () => {
    expect((await cli(['encryption', 'init', '--spec', MDES, '--encoding', 'base64', '--out', 'enc.json'])).code).toBe(0)
    expect(JSON.parse(readFileSync(join(dir, 'enc.json'), 'utf8'))).toMatchObject({ dataEncoding: 'base64' })
    const again = await cli(['encryption', 'init', '--spec', MDES, '--out', 'enc.json', '--json'])
    expect(again.code).toBe(2)
    expect(JSON.parse(again.stderr).error.message).toMatch(/pass --force/)
    expect((await cli(['encryption', 'init', '--spec', MDES, '--out', 'enc.json', '--force', '--json'])).code).toBe(0)
  })
  it('bad flags and a spec without such fields are errors', async () => {
    expect(JSON.parse((await cli(['encryption', 'init', '--spec', MDES, '--mode', 'rsa', '--json'])).stderr).error).toMatchObject({ code: 'ERR_CLI_USAGE', message: '--mode must be one of legacy, jwe' })
    const none = await cli(['encryption', 'init', '--spec', join(REPO_ROOT, 'openapi/payments.yaml'), '--json'])
    expect(JSON.parse(none.stderr).error.code).toBe('ERR_SPEC_INVALID')
  })
})

describe('generate warns when encrypted-looking fields have no markers', () => {
  it('MDES: a warning; payments.yaml (marked): none', async () => {
    const mdes = await generate({ spec: MDES, out: join(dir, 'gen'), name: 'mdes' })
    expect(mdes.warnings).toHaveLength(1)
    expect(mdes.warnings[0]).toMatch(/encrypted-looking field\(s\).*apisign encryption init/)
    writeFileSync(join(dir, 'jwe.json'), JSON.stringify(jweSpec))
    expect((await generate({ spec: join(dir, 'jwe.json'), out: join(dir, 'gen') })).warnings).toHaveLength(1)
    expect((await generate({ spec: join(REPO_ROOT, 'openapi/payments-mini.yaml'), out: join(dir, 'gen') })).warnings).toEqual([])
  }, 60_000)
})
