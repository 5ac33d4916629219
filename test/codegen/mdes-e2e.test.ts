// Issue 14, "done when": the real MDES Digital Enablement spec (test/codegen/fixtures/NOTICE.md), legacy
// field-level encryption and OAuth 1.0a, end to end without guessing: `apisign encryption init`
// scaffolds the legacy config from the spec's encryptedPayload fields, the generated client sends
// `createTokenize` through a sandbox profile (mTLS, its tls section), and the mock gateway is the
// partner: its own key pair decrypts the request and encrypts the answer to the client's certificate,
// over HTTPS with a client certificate required. The wire body is also decrypted by the Node reference
// (mastercard-client-encryption) with the partner's key.
import { createPublicKey } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeCerts } from '../../certs-example/make-certs.mjs'
import { runCli } from '../../src/cli/run.js'
import { wireClient } from '../../src/codegen/index.js'
import { createClient } from '../../src/http/index.js'
import { fingerprint, loadCertificate, loadSigningKey } from '../../src/keys/index.js'
import { loadProfile } from '../../src/profiles/index.js'
import { resolveAuth } from '../../src/schemes/index.js'
import { type MockGateway, startMockGateway } from '../../src/testing/index.js'
import { REPO_ROOT } from '../helpers/shared.js'

const MDES = join(REPO_ROOT, 'test/codegen/fixtures/mdes-digital-enablement.yaml')
// Inside the repo, so the generated client resolves axios (git-ignored).
const work = join(REPO_ROOT, 'test/codegen/.generated', `mdes-e2e-${process.pid}`)
mkdirSync(work, { recursive: true })
afterAll(() => rmSync(work, { recursive: true, force: true }))
const certs = makeCerts({ outDir: join(work, 'certs') })
const PAN = '5123456789012345'

async function cli(argv: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(argv, { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), cwd: work })
  return { code, stdout: out.join(''), stderr: err.join('') }
}

describe('MDES tokenize end to end', () => {
  let gateway: MockGateway
  let config: Record<string, unknown>
  let sdk: Record<string, (o: object) => Promise<{ data: unknown; status: number }>>
  let client: { setConfig(c: object): unknown }

  beforeAll(async () => {
    // 1. The spec has no x-apisign-encrypt: generate says so, encryption init scaffolds the legacy config.
    const generated = await cli(['generate', '--spec', MDES, '--out', work, '--name', 'mdes', '--json'])
    expect(generated.code).toBe(0)
    expect(generated.stderr).toMatch(/warning: the spec has \d+ encrypted-looking field\(s\) \(POST \/digitization\/static\/1\/0\/tokenize request fundingAccountInfo\.encryptedPayload\.encryptedData.*run apisign encryption init/)
    const init = await cli(['encryption', 'init', '--spec', MDES, '--mode', 'legacy', '--oaep-digest', 'SHA-512', '--encoding', 'hex', '--out', 'encryption.json', '--json'])
    expect(init.code).toBe(0)
    expect(JSON.parse(init.stdout).fields).toContain('POST /digitization/static/1/0/tokenize request: fundingAccountInfo.encryptedPayload (encryptedData)')
    // 2. The user confirms it and puts in the keys: the partner's certificate, their own decryption key.
    config = { ...(JSON.parse(readFileSync(join(work, 'encryption.json'), 'utf8')) as Record<string, unknown>), encryptionCertificate: certs.partnerEncryptionCert, privateKey: certs.encryptionKey }
    writeFileSync(join(work, 'encryption.json'), JSON.stringify(config, null, 2))
    // 3. The partner: its own encryption key pair, HTTPS, client certificates required.
    gateway = await startMockGateway({
      spec: MDES,
      consumers: { 'mdes-ck!sandbox': { key: createPublicKey(loadSigningKey(certs.signingKey)) } },
      encryption: config as never,
      partnerKeys: { decryptionKey: certs.partnerEncryptionKey, encryptionCertificate: certs.encryptionCert },
      tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.caCert, requireClientCertificate: true },
    })
    writeFileSync(
      join(work, 'apisign.config.json'),
      JSON.stringify({
        profiles: {
          sandbox: {
            environment: 'sandbox',
            baseURL: gateway.url,
            auth: { scheme: 'oauth1', consumerKey: 'mdes-ck!sandbox', key: { path: certs.keystore, alias: 'keyalias', passwordFile: certs.keystorePassword } },
            encryption: { configFile: './encryption.json' },
            tls: { ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey },
          },
        },
      }),
    )
    ;({ client } = (await import(join(work, 'mdes/client/client.gen.ts'))) as { client: { setConfig(c: object): unknown } })
    sdk = (await import(join(work, 'mdes/client/sdk.gen.ts'))) as typeof sdk
  }, 120_000)
  afterAll(() => gateway?.close())

  it('createTokenize: encrypted on the wire as MDES expects, decrypted by the partner, the answer decrypted back', async () => {
    const profile = await loadProfile('sandbox', { cwd: work, env: {} })
    expect(gateway.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/mdes$/)
    const wire: Buffer[] = []
    const signing = resolveAuth(profile.auth)
    wireClient(client, createClient({ ...profile, auth: { apply: (request, context) => (request.body !== undefined && wire.push(request.body), signing.apply(request, context)) } }))
    const cardAccountData = { accountNumber: PAN, expiryMonth: '12', expiryYear: '30', securityCode: '123' }
    expect(Object.keys(sdk)).toContain('createTokenize')
    const result = await sdk['createTokenize']?.({
      body: { tokenRequestorId: '98765432101', tokenType: 'CLOUD', taskId: 't-1', fundingAccountInfo: { encryptedPayload: { encryptedData: { cardAccountData, source: 'ACCOUNT_ON_FILE' } } } },
      throwOnError: true,
    })
    expect(result?.status).toBe(200)

    // On the wire: the MDES field-level form, the PAN nowhere.
    const sent = JSON.parse((wire.at(-1) as Buffer).toString('utf8')) as { fundingAccountInfo: { encryptedPayload: Record<string, string> } }
    const payload = sent.fundingAccountInfo.encryptedPayload
    expect(Object.keys(payload).sort()).toEqual(['encryptedData', 'encryptedKey', 'iv', 'oaepHashingAlgorithm', 'publicKeyFingerprint'])
    expect(payload['encryptedData']).toMatch(/^[0-9a-f]+$/)
    expect(payload['iv']).toMatch(/^[0-9a-f]{32}$/)
    expect(payload['encryptedKey']).toMatch(/^[0-9a-f]{512}$/)
    expect(payload['oaepHashingAlgorithm']).toBe('SHA512')
    expect(payload['publicKeyFingerprint']).toBe(fingerprint(loadCertificate(certs.partnerEncryptionCert), { kind: 'certificate', encoding: 'hex' }))
    expect((wire.at(-1) as Buffer).toString('utf8')).not.toContain(PAN)

    // The partner read it with its own key.
    const received = gateway.requests.at(-1)
    expect(received).toMatchObject({ status: 200, principal: 'mdes-ck!sandbox' })
    expect((received?.body as { fundingAccountInfo: { encryptedPayload: { encryptedData: unknown } } }).fundingAccountInfo.encryptedPayload.encryptedData).toEqual({ cardAccountData, source: 'ACCOUNT_ON_FILE' })

    // The answer came back encrypted to the client's certificate and was decrypted into tokenDetail.encryptedData.
    const tokenDetail = (result?.data as { tokenDetail: Record<string, unknown> }).tokenDetail
    expect(tokenDetail['encryptedData']).toBeTypeOf('object')
    for (const f of ['iv', 'encryptedKey', 'oaepHashingAlgorithm', 'publicKeyFingerprint']) expect(tokenDetail).not.toHaveProperty(f)
    expect(tokenDetail).toHaveProperty('tokenUniqueReference')
    // What the partner actually sent (read by a client without the encryption config): ciphertext.
    const { encryption: _encryption, ...withoutEncryption } = profile
    const raw = await createClient(withoutEncryption).post('/digitization/static/1/0/tokenize', sent)
    const rawDetail = (raw.data as { tokenDetail: Record<string, unknown> }).tokenDetail
    expect(rawDetail['encryptedData']).toMatch(/^[0-9a-f]+$/)
    expect(rawDetail['publicKeyFingerprint']).toBe(fingerprint(loadCertificate(certs.encryptionCert), { kind: 'certificate', encoding: 'hex' }))

    // And the Node reference, given the partner's key, reads the wire body the same way.
    const { FieldLevelEncryption } = createRequire(import.meta.url)('mastercard-client-encryption') as { FieldLevelEncryption: new (c: unknown) => { decrypt(r: unknown): unknown } }
    const partnerSide = new FieldLevelEncryption({
      ...config,
      encryptionCertificate: certs.partnerEncryptionCert,
      privateKey: certs.partnerEncryptionKey,
      paths: [{ path: '/tokenize$', toEncrypt: [], toDecrypt: [{ element: 'fundingAccountInfo.encryptedPayload', obj: 'fundingAccountInfo.encryptedPayload.encryptedData' }] }],
    })
    const byReference = partnerSide.decrypt({ request: { url: '/mdes/digitization/static/1/0/tokenize' }, body: structuredClone(sent) }) as typeof sent
    expect((byReference.fundingAccountInfo.encryptedPayload as unknown as { encryptedData: unknown }).encryptedData).toEqual({ cardAccountData, source: 'ACCOUNT_ON_FILE' })
  })

  it('without the partner keys the mock says which options it needs (the client encrypts to the partner, not to itself)', async () => {
    const r = await cli(['mock', '--spec', MDES, '--profile', 'sandbox', '--json'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stderr)).toMatchObject({ error: { code: 'ERR_CLI_USAGE', message: expect.stringContaining('--partner-key') } })
  })
})
