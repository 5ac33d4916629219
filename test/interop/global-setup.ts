// vitest global set-up (once per run, before any worker): installs the Java and Python reference libraries
// for the differential suites into .cache/interop (test/interop/setup.mjs; a no-op once its stamps match).
// A failure here never stops the run: the suites read .cache/interop/status.json and skip loudly, or fail
// under CI=true.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export default function setup(): void {
  const script = fileURLToPath(new URL('./setup.mjs', import.meta.url))
  const run = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 9 * 60_000 })
  const lines = `${run.stdout ?? ''}${run.stderr ?? ''}`.split('\n').filter((l) => /UNAVAILABLE/.test(l))
  for (const line of lines) console.warn(line)
}
