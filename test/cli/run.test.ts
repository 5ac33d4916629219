import { describe, expect, it } from 'vitest'
import { COMMANDS, groupsFor } from '../../src/cli/commands/index.js'
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

describe('lazy command groups (issue 15 item 6)', () => {
  it('a command loads only its own group; help and an unknown command load them all', async () => {
    expect(groupsFor(['oauth1', 'sign', '--json']).map((g) => g.names)).toEqual([['oauth1']])
    expect(groupsFor(['--json', 'call', 'GET', '/x']).map((g) => g.names)).toEqual([['doctor', 'call']])
    expect(groupsFor(['--help'])).toBe(COMMANDS)
    expect(groupsFor(['nope'])).toBe(COMMANDS)
    const c = capture()
    expect(await runCli(['--help'], c.io)).toBe(0)
    for (const name of COMMANDS.flatMap((g) => g.names)) expect(c.out.join(''), name).toMatch(new RegExp(`\\n\\s+${name}\\b`))
  })
  it('every group registers exactly the top-level commands it claims', async () => {
    const { Command } = await import('commander')
    for (const group of COMMANDS) {
      const program = new Command('apisign')
      ;(await group.load())(program, { stdout: () => undefined, stderr: () => undefined, cwd: '.', env: {} } as never)
      expect(program.commands.map((c) => c.name()).sort()).toEqual([...group.names].sort())
    }
  })
})
