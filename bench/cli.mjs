// CLI start-up (issue 15 item 6): `apisign oauth1 sign ... --json` against `node -e 0`, each a fresh
// process, interleaved, median of BENCH_RUNS (default 15). Goal: within 250 ms of `node -e 0`.
import { execFileSync } from 'node:child_process'
import { copyFileSync, chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = dirname(fileURLToPath(import.meta.url))
const RUNS = Number(process.env.BENCH_RUNS ?? 15)
const dir = mkdtempSync(join(tmpdir(), 'apisign-bench-cli-'))
const key = join(dir, 'key.pem')
copyFileSync(join(HERE, '../../shared/keys/oauth1/private-key.pem'), key)
chmodSync(key, 0o600)
const cases = {
  'node -e 0': [process.execPath, ['-e', '0']],
  'apisign oauth1 sign --json': [process.execPath, [join(HERE, '../dist/cli/main.js'), 'oauth1', 'sign', '--method', 'POST', '--url', 'https://sandbox.api.example.com/v1/payments?mode=sync', '--body', '{"amount":1}', '--consumer-key', 'ck!bench', '--key', key, '--json']],
  'apisign --help (every command group loaded)': [process.execPath, [join(HERE, '../dist/cli/main.js'), '--help']],
}
const ms = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
for (let i = 0; i < RUNS; i++) {
  for (const [name, [cmd, args]] of Object.entries(cases)) {
    const t = performance.now()
    execFileSync(cmd, args, { stdio: 'pipe' })
    ms[name].push(performance.now() - t)
  }
}
rmSync(dir, { recursive: true, force: true })
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const base = med(ms['node -e 0'])
console.log(`CLI start-up, fresh process each, median of ${RUNS} interleaved runs; Node ${process.version}`)
console.log('| command | ms | over node -e 0 |')
console.log('| --- | ---: | ---: |')
for (const [name, xs] of Object.entries(ms)) console.log(`| ${name} | ${med(xs).toFixed(0)} | ${(med(xs) - base).toFixed(0)} ms |`)
const over = med(ms['apisign oauth1 sign --json']) - base
console.log(`${over <= 250 ? 'MET ' : 'MISS'} apisign oauth1 sign --json starts ${over.toFixed(0)} ms after node -e 0 (goal <= 250 ms)`)
