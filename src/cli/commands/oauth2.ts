import type { Command } from 'commander'
import { decodeJwt } from 'jose'
import { ApisignError } from '../../errors.js'
import { loadProfile } from '../../profiles/load.js'
import { oauth2Auth } from '../../schemes/oauth2-client.js'
import { type CliIo, printResult } from '../io.js'

/** `apisign oauth2 token`: fetch a token with a profile and show what it grants, not the token itself. */
export function registerOAuth2(program: Command, io: CliIo): void {
  const oauth2 = program.command('oauth2').description('OAuth 2.0 (FAPI 2.0 client credentials, private_key_jwt, DPoP)')
  oauth2
    .command('token')
    .description("Request an access token with a profile and print its type, scopes, expiry and claims (the token only with --show-token)")
    .option('--profile <name>', 'profile (default: APISIGN_PROFILE or the config default)')
    .option('--config <file>', 'config file')
    .option('--scope <scope>', 'scope to ask for (repeatable; default the profile scopes)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--show-token', 'also print the access token (a credential: it lands in terminal scrollback and logs)')
    .option('--json', 'print one JSON object')
    .action(async (flags: { profile?: string; config?: string; scope: string[]; showToken?: boolean; json?: boolean }) => {
      const profile = await loadProfile(flags.profile, { cwd: io.cwd, env: io.env, ...(flags.config === undefined ? {} : { configPath: flags.config }) })
      if (profile.auth.scheme !== 'oauth2') throw new ApisignError('ERR_CLI_USAGE', `profile ${profile.name} uses ${profile.auth.scheme}, not oauth2`)
      const { scheme: _scheme, ...options } = profile.auth
      const applier = oauth2Auth(options)
      const token = await applier.token(flags.scope.length === 0 ? undefined : flags.scope)
      let claims: Record<string, unknown> | undefined
      try {
        // What the token grants (a JWT access token); the signature is not shown or needed for that.
        claims = decodeJwt(token.accessToken) as Record<string, unknown>
      } catch {
        claims = undefined
      }
      const result: Record<string, unknown> = {
        profile: profile.name,
        tokenType: token.tokenType,
        scopes: token.scopes,
        expiresAt: new Date(token.expiresAtMs).toISOString(),
        expiresInSec: Math.round((token.expiresAtMs - Date.now()) / 1000),
        ...(applier.jkt === undefined ? {} : { dpopJkt: applier.jkt }),
        claims: claims ?? 'opaque token (not a JWT)',
      }
      if (flags.showToken === true) {
        io.stderr('warning: the access token is a credential; it is printed because --show-token was given\n')
        result['accessToken'] = token.accessToken
      }
      printResult(io, flags.json === true, result)
    })
}
