import { resolve } from 'node:path'
import { Option, type Command } from 'commander'
import { ApisignError } from '../../errors.js'
import { signJwt, signOstRequest, verifyWebhook } from '../../schemes/index.js'
import { CliExit, type CliIo, durationFlag, numberFlag, printResult, readInputFile, readSecret } from '../io.js'

function parseJsonObject(text: string | undefined, what: string): Record<string, unknown> {
  if (text === undefined) return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new ApisignError('ERR_CLI_USAGE', `${what} is not valid JSON`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ApisignError('ERR_CLI_USAGE', `${what} must be a JSON object`)
  return value as Record<string, unknown>
}

function nowOf(text: string | undefined): number | undefined {
  return text === undefined ? undefined : numberFlag(text, '--now-ms')
}

/** `apisign ost sign`, `apisign ost verify-webhook`, `apisign jwt sign` (PRODUCT.md CLI contract). */
export function registerSchemes(program: Command, io: CliIo): void {
  const ost = program.command('ost').description('OST platform API: OST1-HMAC-SHA256 requests and webhooks')
  ost
    .command('sign')
    .description('Sign an OST API request; prints { stringToSign, signature, signedQuery, url, body }')
    .requiredOption('--method <method>', 'GET, POST or DELETE')
    .requiredOption('--resource <path>', 'resource as signed, e.g. /users or /webhooks/')
    .option('--params-json <json>', 'request parameters as a JSON object')
    .requiredOption('--api-key <key>', 'API key')
    .option('--api-secret-file <file>', 'file holding the API secret')
    .option('--api-secret-env <var>', 'environment variable holding the API secret')
    .option('--base-url <url>', 'versioned base URL, e.g. https://api.ost.com/testnet/v2/')
    .option('--now-ms <ms>', 'clock in milliseconds (default: now)')
    .option('--json', 'print one JSON object')
    .action((flags: { method: string; resource: string; paramsJson?: string; apiKey: string; apiSecretFile?: string; apiSecretEnv?: string; baseUrl?: string; nowMs?: string; json?: boolean }) => {
      const apiSecret = readSecret(io, { file: flags.apiSecretFile === undefined ? undefined : resolve(io.cwd, flags.apiSecretFile), env: flags.apiSecretEnv }, '--api-secret')
      if (apiSecret === undefined) throw new ApisignError('ERR_CLI_USAGE', 'give --api-secret-file or --api-secret-env')
      const nowMs = nowOf(flags.nowMs)
      const signed = signOstRequest({
        method: flags.method,
        resource: flags.resource,
        params: parseJsonObject(flags.paramsJson, '--params-json'),
        apiKey: flags.apiKey,
        apiSecret,
        ...(flags.baseUrl === undefined ? {} : { baseUrl: flags.baseUrl }),
        ...(nowMs === undefined ? {} : { nowMs }),
      })
      printResult(io, flags.json === true, { stringToSign: signed.stringToSign, signature: signed.signature, signedQuery: signed.signedQuery, url: signed.url, body: signed.body })
    })
  ost
    .command('verify-webhook')
    .description('Verify an OST webhook delivery against one or more secrets; prints { valid, matchedSecretIndex }')
    .addOption(new Option('--secret-file <file>', 'file holding a webhook secret (repeat for the previous one)').argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]).makeOptionMandatory())
    .requiredOption('--timestamp <t>', 'api-timestamp header')
    .requiredOption('--version <v>', 'api-version header')
    .requiredOption('--signature <s>', 'api-signature header (comma-separated signatures allowed)')
    .requiredOption('--body-file <file>', 'the raw request body')
    .option('--now-ms <ms>', 'clock in milliseconds (default: now)')
    .option('--tolerance-seconds <duration>', 'freshness window either side of now: seconds, or 30s, 5m, ...', '300')
    .option('--json', 'print one JSON object')
    .action((flags: { secretFile: string[]; timestamp: string; version: string; signature: string; bodyFile: string; nowMs?: string; toleranceSeconds: string; json?: boolean }) => {
      const toleranceMs = durationFlag(flags.toleranceSeconds, '--tolerance-seconds')
      const nowMs = nowOf(flags.nowMs)
      const secrets = flags.secretFile.map((f) => readSecret(io, { file: resolve(io.cwd, f) }, '--secret-file') as string)
      const result = verifyWebhook({
        secrets,
        timestamp: flags.timestamp,
        version: flags.version,
        signature: flags.signature,
        rawBody: readInputFile(resolve(io.cwd, flags.bodyFile), '--body-file'),
        toleranceSeconds: toleranceMs / 1000,
        ...(nowMs === undefined ? {} : { nowMs }),
      })
      printResult(io, flags.json === true, { valid: result.valid, matchedSecretIndex: result.matchedSecretIndex })
      if (!result.valid) throw new CliExit(1)
    })

  program
    .command('jwt')
    .description('HS256 JWT bearer tokens')
    .command('sign')
    .description('Sign an HS256 JWT; prints { token, headers }')
    .option('--secret-file <file>', 'file holding the API secret')
    .option('--secret-env <var>', 'environment variable holding the API secret')
    .requiredOption('--payload-json <json>', 'claims as a JSON object (order kept)')
    .option('--api-key <key>', 'also send X-Api-Key')
    .option('--iat', 'append iat after the claims unless the payload has one')
    .option('--expires-in <seconds>', 'append exp = iat + seconds')
    .option('--now-ms <ms>', 'clock in milliseconds (default: now)')
    .option('--no-typ', 'omit typ: "JWT" from the header')
    .option('--json', 'print one JSON object')
    .action((flags: { secretFile?: string; secretEnv?: string; payloadJson: string; apiKey?: string; iat?: boolean; expiresIn?: string; nowMs?: string; typ: boolean; json?: boolean }) => {
      const secret = readSecret(io, { file: flags.secretFile === undefined ? undefined : resolve(io.cwd, flags.secretFile), env: flags.secretEnv }, '--secret')
      if (secret === undefined) throw new ApisignError('ERR_CLI_USAGE', 'give --secret-file or --secret-env')
      const nowMs = nowOf(flags.nowMs)
      const expiresIn = flags.expiresIn === undefined ? undefined : numberFlag(flags.expiresIn, '--expires-in', { integer: true })
      const token = signJwt({
        secret,
        payload: parseJsonObject(flags.payloadJson, '--payload-json'),
        iat: flags.iat === true,
        typ: flags.typ,
        onWarning: (m) => io.stderr(`warning: ${m}\n`),
        ...(expiresIn === undefined ? {} : { expiresIn }),
        ...(nowMs === undefined ? {} : { nowMs }),
      })
      printResult(io, flags.json === true, {
        token,
        headers: { Authorization: `Bearer ${token}`, ...(flags.apiKey === undefined ? {} : { 'X-Api-Key': flags.apiKey }) },
      })
    })
}
