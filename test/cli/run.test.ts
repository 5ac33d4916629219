import { describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/run.js'

function capture() {
  const out: string[] = []
  const err: string[] = []
  return { out, err, io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s) } }
}

describe('apisign CLI shell', () => {
  it('prints help and exits 0', async () => {
    const c = capture()
    expect(await runCli(['--help'], c.io)).toBe(0)
    expect(c.out.join('')).toContain('Usage: apisign')
  })

  it('reports an unknown command as a JSON usage error with exit 2', async () => {
    const c = capture()
    expect(await runCli(['no-such-command'], c.io)).toBe(2)
    const parsed = JSON.parse(c.err.join('')) as { error: { code: string; message: string } }
    expect(parsed.error.code).toBe('ERR_CLI_USAGE')
  })
})
