// `apisign generate --client fetch|axios` (issue 15 item 2): hey-api's client picked on the command line.
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/run.js'
import { REPO_ROOT } from '../helpers/shared.js'

const scratch = join(REPO_ROOT, 'test/cli/.generated', String(process.pid))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

async function cli(argv: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(argv, { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), cwd: REPO_ROOT })
  return { code, out: out.join(''), err: err.join('') }
}

describe('apisign generate --client', () => {
  for (const client of ['fetch', 'axios'] as const) {
    it(`--client ${client} generates hey-api's ${client} client`, async () => {
      const r = await cli(['generate', '--spec', 'openapi/payments-mini.yaml', '--out', scratch, '--name', client, '--client', client, '--json'])
      expect(r.code, r.err).toBe(0)
      const gen = readFileSync(join(scratch, client, 'client/client.gen.ts'), 'utf8')
      expect(existsSync(join(scratch, client, 'client/client/index.ts'))).toBe(true)
      const bundled = readFileSync(join(scratch, client, 'client/client/client.gen.ts'), 'utf8')
      if (client === 'fetch') expect(bundled).toMatch(/globalThis\.fetch/)
      else expect(bundled).toMatch(/axios/)
      expect(gen).toContain('createClient')
    })
  }
  it('an unknown client is a usage error', async () => {
    const r = await cli(['generate', '--spec', 'openapi/payments-mini.yaml', '--out', scratch, '--client', 'ky'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.err).error.code).toBe('ERR_CLI_USAGE')
  })
})
