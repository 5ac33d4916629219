#!/usr/bin/env node
// Installs what the live differential tests (test/interop/*.test.ts) run against, into the git-ignored
// .cache/interop/: the Java reference libraries pinned in java/pom.xml (mvn dependency:copy-dependencies from
// Maven Central) with Driver.java compiled once by javac, and a Python venv with python/requirements.txt
// (pip, from PyPI). Idempotent: a stamp of the inputs' hash skips work already done. Writes
// .cache/interop/status.json saying what is available and, where not, why. Run by .ci/run and by the
// vitest global set-up; `node test/interop/setup.mjs` by hand.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '../..')
export const CACHE = join(root, '.cache/interop')

const hash = (...files) => createHash('sha256').update(files.map((f) => readFileSync(f)).join('\0')).digest('hex').slice(0, 16)
const has = (command, args = ['--version']) => {
  const run = spawnSync(command, args, { encoding: 'utf8' })
  return run.error === undefined && run.status === 0
}
const run = (command, args, options = {}) => {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 8 * 60_000, ...options })
  if (result.error !== undefined || result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n')
    throw new Error(`${command} ${args.join(' ')} failed: ${result.error?.message ?? output}`)
  }
  return result.stdout
}

function setupJava() {
  const dir = join(CACHE, 'java')
  const pom = join(here, 'java/pom.xml')
  const source = join(here, 'java/Driver.java')
  const missing = ['java', 'javac', 'mvn'].filter((c) => !has(c, c === 'mvn' ? ['-v'] : ['-version']))
  if (missing.length > 0) return { ok: false, reason: `not on PATH: ${missing.join(', ')} (install a JDK 11+ and Maven)` }
  const stamp = join(dir, 'stamp')
  const want = hash(pom, source)
  const lib = join(dir, 'lib')
  const classes = join(dir, 'classes')
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== want) {
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    run('mvn', ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${lib}`, '-DincludeScope=runtime'])
    run('javac', ['-d', classes, '-cp', `${lib}/*`, source])
    writeFileSync(stamp, want)
  }
  return { ok: true, command: 'java', args: ['-cp', `${classes}:${lib}/*`, 'Driver'] }
}

function setupPython() {
  const venv = join(CACHE, 'venv')
  const requirements = join(here, 'python/requirements.txt')
  const python = ['python3', 'python'].find((c) => has(c))
  if (python === undefined) return { ok: false, reason: 'python3 is not on PATH (install Python 3.9+ with venv and pip)' }
  const exe = join(venv, 'bin/python')
  const stamp = join(venv, 'stamp')
  const want = hash(requirements, join(here, 'python/driver.py'))
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== want) {
    rmSync(venv, { recursive: true, force: true })
    mkdirSync(CACHE, { recursive: true })
    run(python, ['-m', 'venv', venv])
    run(exe, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', '--no-input', '-r', requirements])
    writeFileSync(stamp, want)
  }
  return { ok: true, command: exe, args: [join(here, 'python/driver.py')] }
}

/** Set both up (each independently) and record the outcome in .cache/interop/status.json. */
export function setupInterop() {
  mkdirSync(CACHE, { recursive: true })
  const status = {}
  for (const [name, setup] of [['java', setupJava], ['python', setupPython]]) {
    const started = Date.now()
    try {
      status[name] = { ...setup(), seconds: (Date.now() - started) / 1000 }
    } catch (error) {
      status[name] = { ok: false, reason: error instanceof Error ? error.message : String(error) }
    }
  }
  writeFileSync(join(CACHE, 'status.json'), `${JSON.stringify(status, null, 2)}\n`)
  return status
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const status = setupInterop()
  for (const [name, s] of Object.entries(status)) console.log(`interop ${name}: ${s.ok ? `ready (${s.seconds}s)` : `UNAVAILABLE: ${s.reason}`}`)
  if (process.argv.includes('--strict') && Object.values(status).some((s) => !s.ok)) process.exitCode = 1
}
