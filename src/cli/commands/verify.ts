import { createPublicKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { Command } from 'commander'
import { ApisignError } from '../../errors.js'
import type { MastercardEncryptionConfig } from '../../encryption/index.js'
import { loadPublicKey } from '../../keys/index.js'
import { loadProfile } from '../../profiles/index.js'
import { mapSecretReferences } from '../../profiles/load.js'
import { checkSecretFilePermissions } from '../../profiles/security.js'
import { type RegisteredClient, startMockGateway } from '../../testing/index.js'
import { mockProviderOptions } from '../../testing/gateway-cli.js'
import { createOAuth1Verifier } from '../../verify/index.js'
import { CliExit, type CliIo, durationFlag, numberFlag, printResult, readInputFile } from '../io.js'
import { mockTls, parseClockOffset, partnerKeysFor, profileEncryptionConfig, readEncryptionConfigFile } from '../mock-partner.js'
import { isSigner } from '../../signers/types.js'

function readJsonFile(io: CliIo, path: string, what: string): unknown {
  try {
    return JSON.parse(readInputFile(resolve(io.cwd, path), what).toString('utf8'))
  } catch (error) {
    if (error instanceof ApisignError) throw error
    throw new ApisignError('ERR_INVALID_INPUT', `${what} ${path} is not valid JSON`)
  }
}

/** `apisign verify` (a captured request) and `apisign mock` (the local mock gateway). */
export function registerVerify(program: Command, io: CliIo): void {
  program
    .command('verify')
    .description('Verify a captured OAuth 1.0a request as the gateway would; prints { valid, code, consumerKey }')
    .requiredOption('--method <method>', 'HTTP method')
    .requiredOption('--url <url>', 'full URL as received (scheme, host, request-target)')
    .requiredOption('--headers-file <file>', 'JSON object of the request headers (Authorization included)')
    .option('--body-file <file>', 'raw request body bytes')
    .requiredOption('--consumer-key <key>', 'the consumer key the public key belongs to')
    .requiredOption('--public-key <file>', 'public key or certificate (PEM or DER)')
    .option('--now-ms <ms>', 'verify as of this time (default: now)')
    .option('--clock-skew <duration>', 'timestamp window either side of now: seconds, or 30s, 5m, ...', '300')
    .option('--debug', 'include the acceptable signature base string on failure')
    .option('--json', 'print one JSON object')
    .action(async (flags: { method: string; url: string; headersFile: string; bodyFile?: string; consumerKey: string; publicKey: string; nowMs?: string; clockSkew: string; debug?: boolean; json?: boolean }) => {
      // Flags first: a bad value is a usage error before any file is read.
      const windowMs = durationFlag(flags.clockSkew, '--clock-skew')
      const nowMs = flags.nowMs === undefined ? undefined : numberFlag(flags.nowMs, '--now-ms')
      const headers = readJsonFile(io, flags.headersFile, '--headers-file')
      if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) throw new ApisignError('ERR_INVALID_INPUT', '--headers-file must hold a JSON object')
      for (const [name, value] of Object.entries(headers)) {
        const ok = typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'))
        if (!ok) throw new ApisignError('ERR_INVALID_INPUT', `--headers-file: header ${JSON.stringify(name.slice(0, 64))} must be a string or a list of strings`)
      }
      const body = flags.bodyFile === undefined ? undefined : readInputFile(resolve(io.cwd, flags.bodyFile), '--body-file')
      const verifier = createOAuth1Verifier({
        consumers: { [flags.consumerKey]: { key: loadPublicKey(resolve(io.cwd, flags.publicKey)) } },
        clockSkewSeconds: windowMs / 1000,
        ...(nowMs === undefined ? {} : { now: () => nowMs }),
        ...(flags.debug === true ? { debug: true } : {}),
      })
      const result = await verifier.verify({ method: flags.method, url: flags.url, headers: headers as Record<string, string>, body })
      printResult(io, flags.json === true, result.ok ? { valid: true, code: null, consumerKey: result.consumerKey } : { valid: false, code: result.code, consumerKey: null, message: result.message })
      if (!result.ok) throw new CliExit(1)
    })

  program
    .command('mock')
    .description('Run a local mock gateway (127.0.0.1) for an OpenAPI spec: verifies signatures, answers with the spec examples')
    .requiredOption('--spec <file>', 'OpenAPI 3.x spec (YAML or JSON)')
    .option('--profile <name>', 'be the partner of this apisign.config.json profile: accept its consumer key and key, apply its encryption config partner-side')
    .option('--consumer-key <key>', 'accept this consumer key (with --public-key)')
    .option('--public-key <file>', 'its public key or certificate')
    .option('--encryption-config <file>', 'the client encryption config (the gateway applies the partner side; default: the profile\'s)')
    .option('--partner-key <file>', 'the partner\'s private key: decrypts what the client encrypts to its encryptionCertificate')
    .option('--client-certificate <file>', 'the client\'s certificate, which the partner encrypts responses to')
    .option('--clock-offset <duration>', 'run the partner clock ahead (600s) or behind (-90s): verification and the Date header')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM; npm run certs makes certs-example/out/server-cert.pem)')
    .option('--tls-key <file>', 'its private key (PEM)')
    .option('--tls-client-ca <file>', 'require client certificates issued by this CA (mTLS)')
    .option('--security <file>', 'JSON: server-side credentials per securitySchemes name (secrets as {"env": NAME} or {"file": path})')
    .option('--oauth2-clients <file>', 'JSON: OAuth 2.0 clients of the mock authorization server, { "<client_id>": { "keys": { "<kid>": "./public.pem" }, "scopes": [...] } }')
    .option('--port <port>', 'port (default: a free one)', '0')
    .option('--quota <windows>', 'per-key quota, e.g. 5/1s,5000/1d (429 + Retry-After, X-RateLimit-* headers)')
    .option('--quota-redis <url>', 'share the quota counts with other gateway instances on this Redis')
    .option('--key-store <store>', 'read every scheme\'s keys from a key store: "memory" or a redis:// URL (manage it through --admin-port)')
    .option('--usage-log <file>', 'append one NDJSON line per request (key, operation, status, code, bytes)')
    .option('--admin-port <port>', 'serve the JSON admin API (usage, keys: issue, roll, revoke) on this 127.0.0.1 port (0: a free one); bearer token from APISIGN_ADMIN_TOKEN (required)')
    .option('--json', 'print { url } as one JSON object once listening')
    .action(async (flags: { spec: string; profile?: string; consumerKey?: string; publicKey?: string; encryptionConfig?: string; partnerKey?: string; clientCertificate?: string; clockOffset?: string; tlsCert?: string; tlsKey?: string; tlsClientCa?: string; security?: string; oauth2Clients?: string; port: string; quota?: string; quotaRedis?: string; keyStore?: string; usageLog?: string; adminPort?: string; json?: boolean }) => {
      const port = numberFlag(flags.port, '--port', { integer: true })
      const provider = mockProviderOptions(flags, io.cwd, io.env)
      let consumers: Record<string, { key: ReturnType<typeof createPublicKey> }> | undefined
      const security = flags.security === undefined ? undefined : readSecurityFile(resolve(io.cwd, flags.security), io.env)
      let oauth2Clients = flags.oauth2Clients === undefined ? undefined : readOAuth2Clients(resolve(io.cwd, flags.oauth2Clients))
      if (flags.profile !== undefined) {
        const profile = await loadProfile(flags.profile, { cwd: io.cwd, env: io.env })
        if (profile.auth.scheme === 'oauth2') {
          // The profile's client, registered with the mock authorization server by its kid (a key in an
          // HSM by its public half).
          const oauth2Key = profile.auth.key as unknown
          const publicKey = isSigner(oauth2Key) ? oauth2Key.publicKey : createPublicKey(profile.auth.key as never)
          if (publicKey === undefined) throw new ApisignError('ERR_CLI_USAGE', `profile ${profile.name}: the signer shows no public key`)
          oauth2Clients = { ...oauth2Clients, [profile.auth.clientId]: { keys: { [profile.auth.kid]: publicKey } } }
        } else if (profile.auth.scheme === 'oauth1') {
          // A key in an HSM gives its public half; a KeyObject is derived.
          const key = 'kind' in profile.auth.key ? profile.auth.key.publicKey : createPublicKey(profile.auth.key)
          if (key === undefined) throw new ApisignError('ERR_CLI_USAGE', `profile ${profile.name}: the signer shows no public key; use --consumer-key with --public-key`)
          consumers = { [profile.auth.consumerKey]: { key } }
        } else throw new ApisignError('ERR_CLI_USAGE', `mock --profile needs an oauth1 or oauth2 profile; ${profile.name} uses ${profile.auth.scheme}`)
      } else if (flags.consumerKey !== undefined && flags.publicKey !== undefined) {
        consumers = { [flags.consumerKey]: { key: loadPublicKey(resolve(io.cwd, flags.publicKey)) } }
      } else if (security === undefined && provider.keyStore === undefined && oauth2Clients === undefined) {
        throw new ApisignError('ERR_CLI_USAGE', 'give --profile, --consumer-key with --public-key, --security, --key-store or --oauth2-clients')
      }
      const encryption =
        flags.encryptionConfig !== undefined
          ? readEncryptionConfigFile(resolve(io.cwd, flags.encryptionConfig), '--encryption-config')
          : flags.profile !== undefined
            ? await profileEncryptionConfig(io, flags.profile)
            : undefined
      if (encryption === undefined && (flags.partnerKey !== undefined || flags.clientCertificate !== undefined)) {
        throw new ApisignError('ERR_CLI_USAGE', '--partner-key and --client-certificate need an encryption config (--encryption-config, or a --profile with one)')
      }
      const partnerKeys = encryption === undefined ? undefined : partnerKeysFor(encryption, flags.partnerKey, flags.clientCertificate, io.cwd)
      if (port < 0 || port > 65535) throw new ApisignError('ERR_CLI_USAGE', '--port must be an integer from 0 to 65535')
      const tls = mockTls(flags.tlsCert, flags.tlsKey, flags.tlsClientCa, io.cwd)
      const gateway = await startMockGateway({
        spec: resolve(io.cwd, flags.spec),
        ...(consumers === undefined ? {} : { consumers }),
        ...(security === undefined ? {} : { security }),
        ...(oauth2Clients === undefined ? {} : { authorizationServer: { clients: oauth2Clients } }),
        ...(encryption === undefined ? {} : { encryption: encryption as unknown as MastercardEncryptionConfig }),
        ...(partnerKeys === undefined ? {} : { partnerKeys }),
        ...(flags.clockOffset === undefined ? {} : { clockOffsetMs: parseClockOffset(flags.clockOffset, '--clock-offset') }),
        ...(tls === undefined ? {} : { tls }),
        port,
        log: (line) => io.stderr(`${line}\n`),
        ...provider,
      })
      if (gateway.admin !== undefined) io.stderr(`admin API ${gateway.admin.url} (Authorization: Bearer $APISIGN_ADMIN_TOKEN)\n`)
      printResult(io, flags.json === true, { url: gateway.url, ...(gateway.admin === undefined ? {} : { adminUrl: gateway.admin.url }) })
      await new Promise<void>((resolveStop) => {
        const stop = () => resolveStop()
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
      })
      await gateway.close()
    })
}

/** The `--security` file: secrets referenced as `{ "env": NAME }` / `{ "file": path }` are read here, never written in it. */
function readSecurityFile(path: string, env: Readonly<Record<string, string | undefined>>): Record<string, Record<string, unknown>> {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (cause) {
    throw new ApisignError('ERR_CONFIG_INVALID', `--security ${path} is not readable JSON`, { cause })
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ApisignError('ERR_CONFIG_INVALID', '--security must hold { "<securitySchemes name>": { ... } }')
  return mapSecretReferences(parsed, 'security', (ref, where) => {
    if ('env' in ref) {
      const v = env[ref.env]
      if (v === undefined) throw new ApisignError('ERR_CONFIG_INVALID', `${where}: environment variable ${ref.env} is not set`)
      return v
    }
    const file = resolve(dirname(path), ref.file)
    readInputFile(file, where) // a missing file is ERR_FILE_NOT_FOUND naming it, before its mode is looked at
    // Secret files are private like key files (issue 13 item 6).
    checkSecretFilePermissions(file, 'refuse', () => undefined)
    return readInputFile(file, where).toString('utf8').replace(/\r?\n$/, '')
  }) as Record<string, Record<string, unknown>>
}

/** The `--oauth2-clients` file: public keys by kid, as paths relative to the file (or PEM text). */
function readOAuth2Clients(path: string): Record<string, RegisteredClient> {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (cause) {
    throw new ApisignError('ERR_CONFIG_INVALID', `--oauth2-clients ${path} is not readable JSON`, { cause })
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ApisignError('ERR_CONFIG_INVALID', '--oauth2-clients must hold { "<client_id>": { "keys": { "<kid>": "./public.pem" } } }')
  return Object.fromEntries(
    Object.entries(parsed as Record<string, { keys?: Record<string, string>; scopes?: string[] }>).map(([id, client]) => {
      if (client === null || typeof client !== 'object' || client.keys === null || typeof client.keys !== 'object') throw new ApisignError('ERR_CONFIG_INVALID', `--oauth2-clients: client ${id} needs keys`)
      const keys = Object.fromEntries(Object.entries(client.keys).map(([kid, file]) => [kid, loadPublicKey(String(file).includes('-----BEGIN') ? String(file) : resolve(dirname(path), String(file)))]))
      return [id, { keys, ...(Array.isArray(client.scopes) ? { scopes: client.scopes } : {}) }]
    }),
  )
}
