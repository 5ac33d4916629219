// The package a user installs: `npm pack` it, install the tarball into an empty folder, and use both the
// library (`import 'apisign/oauth1'`) and the `apisign` bin from there. Catches a missing `files` entry,
// a broken `exports` map or a bin without its shebang, which tests against src/ cannot see.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, sharedPath } from '../helpers/shared.js'

const pkgVersion = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version

const work = mkdtempSync(join(tmpdir(), 'apisign-pack-'))
const app = join(work, 'app')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

beforeAll(() => {
  const packed = JSON.parse(
    execFileSync(npm, ['pack', '--json', '--pack-destination', work], { cwd: REPO_ROOT, encoding: 'utf8' }),
  ) as Array<{ filename: string; files: Array<{ path: string }> }>
  const tarball = join(work, (packed[0] as { filename: string }).filename)
  execFileSync('mkdir', ['-p', app])
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
  execFileSync(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--omit=dev', tarball], {
    cwd: app,
    stdio: 'ignore',
  })
}, 240_000)

afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('the packed package', () => {
  it('imports every documented subpath from an empty project', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown> }
    const subpaths = Object.keys(pkg.exports).filter((p) => p !== './package.json')
    const script = `
      const names = ${JSON.stringify(subpaths)}
      for (const p of names) {
        const m = await import(p === '.' ? 'apisign' : 'apisign/' + p.slice(2))
        if (Object.keys(m).length === 0) throw new Error('empty module ' + p)
      }
      const { signRequest } = await import('apisign/oauth1')
      console.log(typeof signRequest)
    `
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: app, encoding: 'utf8' })
    expect(out.trim()).toBe('function')
  })

  it('runs the apisign bin', () => {
    const out = execFileSync(
      join(app, 'node_modules/.bin/apisign'),
      ['oauth1', 'sign', '--method', 'GET', '--url', 'https://api.example.com/v1/items?x=1', '--consumer-key', 'ck',
        '--key', sharedPath('keys/oauth1/private-key.pem'), '--insecure-key-permissions', '--nonce', 'n', '--timestamp', '1', '--json'],
      { cwd: app, encoding: 'utf8' },
    )
    expect((JSON.parse(out) as { signatureBaseString: string }).signatureBaseString).toBe(
      'GET&https%3A%2F%2Fapi.example.com%2Fv1%2Fitems&oauth_body_hash%3D47DEQpj8HBSa%2B%2FTImW%2B5JCeuQeRkm5NMpJWZG3hSuFU%3D%26oauth_consumer_key%3Dck%26oauth_nonce%3Dn%26oauth_signature_method%3DRSA-SHA256%26oauth_timestamp%3D1%26oauth_version%3D1.0%26x%3D1',
    )
  })

  it('prepack builds, so a clean clone packs a complete package', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    expect(pkg.scripts['prepack']).toBe('npm run build')
    expect(statSync(join(app, 'node_modules/apisign/dist/cli/main.js')).isFile()).toBe(true)
  })

  it('apisign --version, apisign alone prints the help, help marks required options', () => {
    const bin = join(app, 'node_modules/.bin/apisign')
    expect(execFileSync(bin, ['--version'], { cwd: app, encoding: 'utf8' }).trim()).toBe(pkgVersion)
    const help = execFileSync(bin, [], { cwd: app, encoding: 'utf8' })
    expect(help).toMatch(/^Usage: apisign/)
    for (const command of ['generate', 'mock', 'doctor', 'encryption']) expect(help).toContain(command)
    const generateHelp = execFileSync(bin, ['generate', '--help'], { cwd: app, encoding: 'utf8' })
    expect(generateHelp).toMatch(/--spec <fileOrUrl>\s+\(required\) OpenAPI spec/)
    expect(generateHelp).toMatch(/--name <name>\s+client name/)
  })

  it('CommonJS: require() of the ESM package works on Node >= 20.19', () => {
    const out = execFileSync(process.execPath, ['-e', "const { signRequest } = require('apisign/oauth1'); const { createClient } = require('apisign/http'); console.log(typeof signRequest, typeof createClient)"], { cwd: app, encoding: 'utf8' })
    expect(out.trim()).toBe('function function')
  })

  it('the installed bin generates the real MDES client in a folder without any tsconfig, and it type-checks under strict NodeNext', () => {
    // The case of issue 14 item 2: hey-api installed under node_modules of a project with no tsconfig.
    for (let d = app; d !== dirname(d); d = dirname(d)) expect(readdirSync(d).filter((f) => /^tsconfig.*\.json$/.test(f)), d).toEqual([])
    execFileSync(join(app, 'node_modules/.bin/apisign'), ['generate', '--spec', join(REPO_ROOT, 'test/codegen/fixtures/mdes-digital-enablement.yaml'), '--out', 'src', '--name', 'mdes', '--json'], { cwd: app, stdio: 'pipe' })
    const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]))
    const ts = files(join(app, 'src/mdes')).filter((f) => f.endsWith('.ts'))
    const imports = ts.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)'/g)].map((m) => m[1] as string))
    expect(imports.length).toBeGreaterThan(5)
    expect(imports.filter((i) => !i.endsWith('.js'))).toEqual([])
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2023,dom,dom.iterable', '--skipLibCheck', ...ts], { cwd: app, stdio: 'pipe' })
  }, 120_000)
})
