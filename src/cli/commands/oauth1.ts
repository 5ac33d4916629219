import type { Command } from 'commander'
import { ApisignError } from '../../errors.js'
import { loadSigningKey } from '../../keys/index.js'
import { type OAuth1Dialect, type SignatureMethodName, createOAuth1Signer } from '../../oauth1/index.js'
import { type CliIo, keyPermissionPolicy, printResult, readInputFile, readSecret } from '../io.js'

interface SignFlags {
  method: string
  url: string
  body?: string
  bodyFile?: string
  contentType?: string
  consumerKey: string
  key?: string
  keyAlias?: string
  keyPasswordFile?: string
  keyPasswordEnv?: string
  consumerSecretFile?: string
  consumerSecretEnv?: string
  token?: string
  tokenSecretFile?: string
  tokenSecretEnv?: string
  realm?: string
  insecureKeyPermissions?: boolean
  bodyHash?: boolean
  signatureMethod: string
  dialect: string
  nonce?: string
  timestamp?: string
  json?: boolean
}

/** `apisign oauth1 sign`: sign one request and print every stage (PRODUCT.md CLI contract). */
export function registerOAuth1(program: Command, io: CliIo): void {
  const oauth1 = program.command('oauth1').description('OAuth 1.0a request signing')
  oauth1
    .command('sign')
    .description('Sign a request and print the base URI, parameter string, base string, body hash, signature and header')
    .requiredOption('--method <method>', 'HTTP method')
    .requiredOption('--url <url>', 'absolute request URL')
    .option('--body <text>', 'request body text (signed as UTF-8)')
    .option('--body-file <file>', 'file whose raw bytes are the request body')
    .option('--content-type <type>', 'request Content-Type (rfc5849: form bodies are signed as parameters)')
    .requiredOption('--consumer-key <key>', 'consumer key')
    .option('--key <file>', 'private key file (PEM, DER or PKCS#12) for RSA-SHA256 / RSA-PSS')
    .option('--key-alias <alias>', 'PKCS#12 alias')
    .option('--key-password-file <file>', 'file holding the key or keystore password')
    .option('--key-password-env <var>', 'environment variable holding the key or keystore password')
    .option('--insecure-key-permissions', 'only warn (on stderr) about a key file readable by group or others')
    .option('--consumer-secret-file <file>', 'rfc5849 HMAC/PLAINTEXT: file holding the consumer secret')
    .option('--consumer-secret-env <var>', 'rfc5849 HMAC/PLAINTEXT: environment variable holding the consumer secret')
    .option('--token <token>', 'rfc5849: oauth_token')
    .option('--token-secret-file <file>', 'rfc5849: file holding the token secret')
    .option('--token-secret-env <var>', 'rfc5849: environment variable holding the token secret')
    .option('--realm <realm>', 'rfc5849: realm')
    .option('--body-hash', 'rfc5849: add oauth_body_hash (always sent in the mastercard dialects)')
    .option('--signature-method <method>', 'RSA-SHA256 | RSA-PSS | HMAC-SHA1 | HMAC-SHA256 | PLAINTEXT', 'RSA-SHA256')
    .option('--dialect <dialect>', 'mastercard | compat | rfc5849', 'mastercard')
    .option('--nonce <nonce>', 'oauth_nonce to use exactly as given (default: 22 random characters)')
    .option('--timestamp <seconds>', 'oauth_timestamp to use exactly as given (default: now)')
    .option('--json', 'print one JSON object')
    .action((flags: SignFlags) => {
      if (flags.body !== undefined && flags.bodyFile !== undefined) {
        throw new ApisignError('ERR_CLI_USAGE', 'give --body or --body-file, not both')
      }
      if (!['mastercard', 'compat', 'rfc5849'].includes(flags.dialect)) {
        throw new ApisignError('ERR_CLI_USAGE', '--dialect must be mastercard, compat or rfc5849')
      }
      // Options required by the chosen method are usage errors (exit 2) like commander's own required
      // options, not a TypeError from the signer (issue 13 item 11).
      const method = ['RSA-SHA256', 'RSA-PSS', 'HMAC-SHA1', 'HMAC-SHA256', 'PLAINTEXT'].find((m) => m === flags.signatureMethod.toUpperCase())
      if (method === undefined) throw new ApisignError('ERR_CLI_USAGE', '--signature-method must be RSA-SHA256, RSA-PSS, HMAC-SHA1, HMAC-SHA256 or PLAINTEXT')
      if (method.startsWith('RSA') && flags.key === undefined) throw new ApisignError('ERR_CLI_USAGE', `required option '--key <file>' not specified (${method} signs with a private key)`)
      if (!method.startsWith('RSA') && flags.consumerSecretFile === undefined && flags.consumerSecretEnv === undefined) {
        throw new ApisignError('ERR_CLI_USAGE', `give --consumer-secret-file or --consumer-secret-env (${method} signs with the consumer secret)`)
      }
      const password = readSecret(io, { file: flags.keyPasswordFile, env: flags.keyPasswordEnv }, '--key-password')
      const consumerSecret = readSecret(io, { file: flags.consumerSecretFile, env: flags.consumerSecretEnv }, '--consumer-secret')
      const tokenSecret = readSecret(io, { file: flags.tokenSecretFile, env: flags.tokenSecretEnv }, '--token-secret')
      const body = flags.bodyFile !== undefined ? readInputFile(flags.bodyFile, '--body-file') : flags.body
      const signer = createOAuth1Signer({
        consumerKey: flags.consumerKey,
        dialect: flags.dialect as OAuth1Dialect,
        signatureMethod: method as SignatureMethodName,
        ...(flags.key === undefined
          ? {}
          : {
              key: loadSigningKey(flags.key, {
                ...(password === undefined ? {} : { password }),
                ...(flags.keyAlias === undefined ? {} : { alias: flags.keyAlias }),
                ...keyPermissionPolicy(io, flags.insecureKeyPermissions === true),
              }),
            }),
        ...(consumerSecret === undefined ? {} : { consumerSecret }),
        ...(tokenSecret === undefined ? {} : { tokenSecret }),
        ...(flags.token === undefined ? {} : { token: flags.token }),
        ...(flags.realm === undefined ? {} : { realm: flags.realm }),
        ...(flags.bodyHash === undefined ? {} : { bodyHash: flags.bodyHash }),
      })
      const result = signer.sign({
        method: flags.method,
        url: flags.url,
        ...(body === undefined ? {} : { body }),
        ...(flags.contentType === undefined ? {} : { contentType: flags.contentType }),
        ...(flags.nonce === undefined ? {} : { nonce: flags.nonce }),
        ...(flags.timestamp === undefined ? {} : { timestamp: flags.timestamp }),
      })
      printResult(io, flags.json === true, {
        baseUri: result.baseUri,
        parameterString: result.parameterString,
        signatureBaseString: result.signatureBaseString,
        bodyHash: result.bodyHash ?? null,
        signature: result.signature,
        authorizationHeader: result.authorizationHeader,
      })
    })
}
