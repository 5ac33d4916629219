// Runs the built CLI commands with the test secrets and NODE_DEBUG=apisign, and greps everything they
// print (stdout, stderr, debug logs) for the secrets: the keystore password, API and JWT secrets, private
// key material, and plaintext fields that the command encrypts. None may appear.
import { execFileSync } from 'node:child_process'
import { createPrivateKey } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { inspect } from 'node:util'
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createEncryption } from '../../src/encryption/index.js'
import { createClient } from '../../src/http/index.js'
import { loadKeyStore } from '../../src/keys/index.js'
import { REPO_ROOT, readShared, sharedPath } from '../helpers/shared.js'

const dir = mkdtempSync(join(tmpdir(), 'apisign-hardening-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const P12_PASSWORD = 'keystorepassword'
const API_SECRET = 'ost-api-secret-0123456789abcdef0123456789abcdef'
const JWT_SECRET = 'jwt-secret-0123456789abcdef0123456789abcdef'
const PAN = '5123456789012345678'
const keyPem = readShared('keys/oauth1/private-key.pem').toString()
const keyBody = keyPem.split('\n')[1] as string // a line of base64 key material
for (const [from, to] of [['keys/oauth1/keystore.p12', 'k.p12'], ['keys/encryption/certificate.pem', 'cert.pem'], ['keys/encryption/private-key-pkcs8.pem', 'dec.pem']] as const) {
  copyFileSync(sharedPath(from), join(dir, to))
  chmodSync(join(dir, to), 0o600)
}
writeFileSync(join(dir, 'ost-secret'), API_SECRET)
writeFileSync(join(dir, 'jwt-secret'), JWT_SECRET)
writeFileSync(join(dir, 'body.json'), JSON.stringify({ amount: 1, card: { pan: PAN } }))
writeFileSync(
  join(dir, 'enc.json'),
  JSON.stringify({ mode: 'JWE', encryptedValueFieldName: 'encryptedData', encryptionCertificate: './cert.pem', privateKey: './dec.pem', paths: [{ path: '/pay', toEncrypt: [{ element: 'card', obj: 'card' }], toDecrypt: [] }] }),
)

writeFileSync(
  join(dir, 'apisign.config.json'),
  JSON.stringify({
    defaultProfile: 'sandbox',
    profiles: {
      sandbox: {
        environment: 'sandbox',
        baseURL: 'http://127.0.0.1:9/sandbox',
        auth: { scheme: 'oauth1', consumerKey: 'ck!hard', key: { path: './k.p12', alias: 'keyalias', passwordEnv: 'P12_PASSWORD' } },
        encryption: { configFile: './enc.json' },
      },
    },
  }),
)

copyFileSync(sharedPath('keys/oauth1/public-key.pem'), join(dir, 'pub.pem'))
copyFileSync(sharedPath('keys/encryption/other-private-key-pkcs8.pem'), join(dir, 'wrong.pem'))
chmodSync(join(dir, 'wrong.pem'), 0o600)
writeFileSync(
  join(dir, 'enc-wrong.json'),
  JSON.stringify({ mode: 'JWE', encryptedValueFieldName: 'encryptedData', privateKey: './wrong.pem', paths: [{ path: '/pay', toEncrypt: [], toDecrypt: [{ element: 'card', obj: 'card' }] }] }),
)
const sealed = createEncryption({ mode: 'JWE', encryptedValueFieldName: 'encryptedData', encryptionCertificate: join(dir, 'cert.pem'), paths: [{ path: '/pay', toEncrypt: [{ element: 'card', obj: 'card' }], toDecrypt: [] }] } as never)
writeFileSync(join(dir, 'encrypted.json'), JSON.stringify(sealed.encrypt({ url: '/pay', body: { amount: 1, card: { pan: PAN } } }).body))
writeFileSync(join(dir, 'captured-headers.json'), JSON.stringify({ Authorization: 'OAuth oauth_consumer_key="ck",oauth_nonce="n0nce0000000000000000a",oauth_signature_method="RSA-SHA256",oauth_timestamp="1700000000",oauth_version="1.0",oauth_body_hash="AAAA",oauth_signature="c2ln"' }))

function cli(args: string[]): string {
  try {
    return execFileSync(process.execPath, [join(REPO_ROOT, 'dist/cli/main.js'), ...args], {
      cwd: dir,
      env: { ...process.env, NODE_DEBUG: 'apisign', P12_PASSWORD, WRONG_PASSWORD: 'not-the-password' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string }
    return `${e.stdout ?? ''}${e.stderr ?? ''}`
  }
}

// [name, argv, must not appear, must appear (proves the command ran the path under test)]
const commands: Array<[string, string[], string[], string]> = [
  ['oauth1 sign with a PKCS#12', ['oauth1', 'sign', '--method', 'POST', '--url', 'https://a.example.com/x', '--body-file', 'body.json', '--consumer-key', 'ck', '--key', 'k.p12', '--key-alias', 'keyalias', '--key-password-env', 'P12_PASSWORD', '--json'], [P12_PASSWORD, keyBody], 'authorizationHeader'],
  ['oauth1 sign with a wrong password', ['oauth1', 'sign', '--method', 'GET', '--url', 'https://a.example.com/x', '--consumer-key', 'ck', '--key', 'k.p12', '--key-alias', 'keyalias', '--key-password-env', 'WRONG_PASSWORD', '--json'], [P12_PASSWORD, keyBody, 'not-the-password'], 'ERR_KEY_PASSWORD'],
  ['keys inspect', ['keys', 'inspect', '--key', 'k.p12', '--key-password-env', 'P12_PASSWORD', '--json'], [P12_PASSWORD, keyBody, 'PRIVATE KEY'], 'fingerprint'],
  ['encrypt', ['encrypt', '--config', 'enc.json', '--endpoint', '/pay', '--body-file', 'body.json', '--json'], [PAN, 'PRIVATE KEY'], 'encryptedData'],
  ['ost sign', ['ost', 'sign', '--method', 'GET', '--resource', '/users', '--api-key', 'k1', '--api-secret-file', 'ost-secret', '--json'], [API_SECRET], 'api_signature'],
  ['jwt sign', ['jwt', 'sign', '--secret-file', 'jwt-secret', '--payload-json', '{"user_id":"*"}', '--api-key', 'k1', '--json'], [JWT_SECRET], 'token'],
  ['a usage error', ['oauth1', 'sign', '--url', 'x'], [P12_PASSWORD], 'ERR_CLI_USAGE'],
  ['decrypt with a wrong key (the error names no key material)', ['decrypt', '--config', 'enc-wrong.json', '--endpoint', '/pay', '--body-file', 'encrypted.json', '--json'], [PAN, 'PRIVATE KEY', keyBody], 'ERR_JWE_DECRYPTION_FAILED'],
  ['jwe decrypt with the keystore', ['jwe', 'decrypt', '--key', 'k.p12', '--key-password-env', 'P12_PASSWORD', '--token', 'not.a.valid.token', '--json'], [P12_PASSWORD, keyBody, 'PRIVATE KEY'], 'ERR_JWE_INVALID'],
  ['verify --debug of a tampered request', ['verify', '--method', 'POST', '--url', 'https://a.example.com/x', '--headers-file', 'captured-headers.json', '--body-file', 'body.json', '--consumer-key', 'ck', '--public-key', 'pub.pem', '--debug', '--json'], [keyBody, 'PRIVATE KEY'], '"valid":false'],
  ['ost verify-webhook', ['ost', 'verify-webhook', '--secret-file', 'ost-secret', '--timestamp', '1700000000', '--version', 'v2', '--signature', 'ab', '--body-file', 'body.json', '--json'], [API_SECRET], '"valid":false'],
  ['doctor --online (PKCS#12 profile, gateway unreachable)', ['doctor', '--online', '--json'], [P12_PASSWORD, keyBody, 'PRIVATE KEY'], '"id":"clock","status":"fail"'],
  ['call with an encrypted field (gateway unreachable)', ['call', 'POST', '/pay', '--data', '@body.json', '--verbose'], [P12_PASSWORD, keyBody, PAN, 'oauth_signature='], '"error"'],
]

describe('no secret in any CLI output (stdout, stderr, NODE_DEBUG=apisign)', () => {
  for (const [name, args, secrets, shows] of commands) {
    it(name, () => {
      const output = cli(args)
      expect(output).toContain(shows)
      for (const secret of secrets) expect(output).not.toContain(secret)
    })
  }
  it('the demo (NODE_DEBUG=apisign) prints no key material, keystore password, card number or signature', () => {
    const config = readFileSync(join(REPO_ROOT, 'demo/apisign.config.json'), 'utf8')
    expect(config).not.toMatch(/password"\s*:|PRIVATE KEY/)
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(REPO_ROOT, 'demo/tsconfig.json')], { cwd: REPO_ROOT, stdio: 'ignore' })
    const output = execFileSync(process.execPath, [join(REPO_ROOT, '.demo-build/demo/main.js')], {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_DEBUG: 'apisign' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    expect(output).toContain('demo complete')
    expect(output).toContain('7. getDailyReport')
    const out = join(REPO_ROOT, 'certs-example/out')
    const password = readFileSync(join(out, 'signing.p12.password'), 'utf8').trim()
    const signingKeyLine = readFileSync(join(out, 'signing-key.pem'), 'utf8').split('\n')[1] as string
    const encryptionKeyLine = readFileSync(join(out, 'encryption-key.pem'), 'utf8').split('\n')[1] as string
    // The OST part's secrets are random per run, with these prefixes; the bearer token itself neither.
    for (const secret of [password, signingKeyLine, encryptionKeyLine, 'PRIVATE KEY', '5123456789012345', '"cvc"', 'oauth_signature="', 'demo-ost-secret-', 'demo-jwt-secret-', 'api_signature=', 'Bearer ey']) {
      expect(output).not.toContain(secret)
    }
  })
})

describe('no secret in thrown errors (util.inspect at full depth, JSON)', () => {
  const show = (error: unknown) => `${inspect(error, { depth: 12, showHidden: true })}\n${JSON.stringify(error)}`

  it('a wrong keystore password, a wrong decryption key', async () => {
    const errors: unknown[] = []
    try {
      loadKeyStore({ p12: join(dir, 'k.p12'), alias: 'keyalias', password: 'wrong-password-123' })
    } catch (e) {
      errors.push(e)
    }
    const opened = createEncryption({ mode: 'JWE', encryptedValueFieldName: 'encryptedData', privateKey: join(dir, 'wrong.pem'), paths: [{ path: '/pay', toEncrypt: [], toDecrypt: [{ element: 'card', obj: 'card' }] }] } as never)
    try {
      opened.decrypt({ url: '/pay', body: JSON.parse(readFileSync(join(dir, 'encrypted.json'), 'utf8')) })
    } catch (e) {
      errors.push(e)
    }
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['ERR_KEY_PASSWORD', 'ERR_JWE_DECRYPTION_FAILED'])
    for (const e of errors) for (const secret of ['wrong-password-123', P12_PASSWORD, PAN, 'PRIVATE KEY', keyBody]) expect(show(e)).not.toContain(secret)
  })

  it('a 401 from the partner: the error keeps status and reason, never the Authorization header', async () => {
    const server = createServer((req, res) => {
      req.resume()
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ Errors: { Error: [{ Source: 'Gateway', ReasonCode: 'AUTHENTICATION_FAILED', Recoverable: false }] } }))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      const api = createClient({ baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, auth: { scheme: 'oauth1', consumerKey: 'ck!hard', key: createPrivateKey(keyPem) }, retry: false })
      const error = await api.post('/pay', { card: { pan: PAN } }).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toMatchObject({ code: 'ERR_GATEWAY_REJECTED', details: { status: 401, reasonCode: 'AUTHENTICATION_FAILED' } })
      for (const secret of ['oauth_signature=', 'OAuth oauth_', 'PRIVATE KEY', keyBody]) expect(show(error)).not.toContain(secret)
    } finally {
      server.close()
    }
  })
})
