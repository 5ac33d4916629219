import type { Command } from 'commander'
import { AxiosHeaders, isAxiosError } from 'axios'
import { resolve } from 'node:path'
import { ApisignError, isApisignError } from '../../errors.js'
import { createClient } from '../../http/client.js'
import { redactHeaders } from '../../pipeline/redact.js'
import { loadProfile } from '../../profiles/load.js'
import { resolveAuth } from '../../schemes/table.js'
import { runDoctor } from '../doctor.js'
import { CliExit, type CliIo, readInputFile } from '../io.js'

const MARK = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' } as const

/** `apisign doctor` and `apisign call`: diagnose a profile; send one signed request like curl. */
export function registerDoctor(program: Command, io: CliIo): void {
  program
    .command('doctor')
    .description('Check a profile: key, certificates, permissions, host, and (--online) clock and a signed probe')
    .option('--profile <name>', 'profile (default: APISIGN_PROFILE or the config default)')
    .option('--config <file>', 'config file (default: apisign.config.json or .mjs in the current folder)')
    .option('--cert <file>', 'the certificate the partner holds for the signing key')
    .option('--online', 'also compare the clock with the base URL and send one signed GET')
    .option('--probe-path <path>', 'path of the signed probe (a GET operation), relative to the base URL')
    .option('--json', 'print one JSON object')
    .action(async (flags: { profile?: string; config?: string; cert?: string; online?: boolean; probePath?: string; json?: boolean }) => {
      const report = await runDoctor({
        cwd: io.cwd,
        env: io.env,
        ...(flags.profile === undefined ? {} : { profile: flags.profile }),
        ...(flags.config === undefined ? {} : { configPath: flags.config }),
        ...(flags.cert === undefined ? {} : { certificate: resolve(io.cwd, flags.cert) }),
        ...(flags.probePath === undefined ? {} : { probePath: flags.probePath }),
        online: flags.online === true,
      })
      if (flags.json === true) io.stdout(`${JSON.stringify(report)}\n`)
      else {
        for (const c of report.checks) {
          io.stdout(`${MARK[c.status]}  ${c.id.padEnd(26)} ${c.message}\n`)
          if (c.fix !== undefined && c.status !== 'pass') io.stdout(`      ${''.padEnd(26)} fix: ${c.fix}\n`)
        }
        io.stdout(report.ok ? 'no failures\n' : `${report.checks.filter((c) => c.status === 'fail').length} failed\n`)
      }
      if (!report.ok) throw new CliExit(1)
    })

  program
    .command('call')
    .description('Send one signed (and, where configured, encrypted) request with a profile, like curl')
    .argument('<method>', 'HTTP method')
    .argument('<path>', 'path relative to the profile base URL, e.g. /v1/payments')
    .option('--profile <name>', 'profile (default: APISIGN_PROFILE or the config default)')
    .option('--config <file>', 'config file')
    .option('--data <json|@file>', 'JSON body, or @file for a file')
    .option('--query <k=v>', 'query parameter (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--header <k:v>', 'request header (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--verbose', 'also print the request line and the signature base string')
    .option('--json', 'print one JSON object { status, headers, body }')
    .action(async (method: string, path: string, flags: { profile?: string; config?: string; data?: string; query: string[]; header: string[]; verbose?: boolean; json?: boolean }) => {
      const profile = await loadProfile(flags.profile, { cwd: io.cwd, env: io.env, ...(flags.config === undefined ? {} : { configPath: flags.config }) })
      let data: unknown
      if (flags.data !== undefined) {
        const text = flags.data.startsWith('@') ? readInputFile(resolve(io.cwd, flags.data.slice(1)), '--data').toString('utf8') : flags.data
        try {
          data = JSON.parse(text)
        } catch {
          throw new ApisignError('ERR_CLI_USAGE', '--data must be JSON (or @file holding JSON)')
        }
      }
      const params = new URLSearchParams()
      for (const q of flags.query) {
        const eq = q.indexOf('=')
        if (eq <= 0) throw new ApisignError('ERR_CLI_USAGE', '--query takes name=value')
        params.append(q.slice(0, eq), q.slice(eq + 1))
      }
      const headers = new AxiosHeaders()
      for (const h of flags.header) {
        const colon = h.indexOf(':')
        if (colon <= 0) throw new ApisignError('ERR_CLI_USAGE', '--header takes name:value')
        if (/^authorization$/i.test(h.slice(0, colon).trim())) throw new ApisignError('ERR_CLI_USAGE', 'Authorization is set by the profile\'s scheme')
        headers.set(h.slice(0, colon).trim(), h.slice(colon + 1).trim())
      }
      // The applier seam tells us what was signed; the Authorization value itself is never printed.
      const inner = resolveAuth(profile.auth)
      let signed: { url: string; baseString?: string } | undefined
      const api = createClient({
        ...profile,
        auth: {
          async apply(request, context) {
            const result = await inner.apply(request, context)
            signed = { url: (result.url ?? request.url).href, ...(result.baseString === undefined ? {} : { baseString: result.baseString }) }
            return result
          },
          // DPoP nonces and a dropped token (OAuth 2.0) come back through the scheme's response hook.
          ...(inner.onResponse === undefined ? {} : { onResponse: inner.onResponse.bind(inner) }),
        },
      })
      const verbose = (line: string) => {
        if (flags.verbose === true && flags.json !== true) io.stderr(`${line}\n`)
      }
      try {
        const response = await api.request({ method, url: path, params, headers, ...(data === undefined ? {} : { data }) })
        verbose(`> ${method.toUpperCase()} ${signed?.url ?? path}`)
        if (signed?.baseString !== undefined) verbose(`> signature base string: ${signed.baseString}`)
        const out = { status: response.status, headers: redactHeaders(AxiosHeaders.from(response.headers as never).toJSON()), body: response.data as unknown }
        if (flags.json === true) io.stdout(`${JSON.stringify(flags.verbose === true ? { ...out, request: signed ?? null } : out)}\n`)
        else {
          io.stdout(`HTTP ${out.status}\n`)
          for (const [k, v] of Object.entries(out.headers)) io.stdout(`${k}: ${String(v)}\n`)
          io.stdout(`\n${typeof out.body === 'string' ? out.body : JSON.stringify(out.body, null, 2)}\n`)
        }
      } catch (error) {
        verbose(`> ${method.toUpperCase()} ${signed?.url ?? path}`)
        if (signed?.baseString !== undefined) verbose(`> signature base string: ${signed.baseString}`)
        if (isApisignError(error)) {
          const details = error.details as { status?: number } | undefined
          if (details?.status !== undefined) io.stdout(flags.json === true ? `${JSON.stringify({ status: details.status, error: error.toJSON() })}\n` : `HTTP ${details.status}\n`)
          throw error
        }
        if (isAxiosError(error) && error.response === undefined) {
          // No answer at all: name the origin and the socket error, nothing from the request.
          throw new ApisignError('ERR_NETWORK', `no answer from ${new URL(profile.baseURL).origin} (${error.code ?? 'network error'})`)
        }
        throw error
      }
    })
}
