// Issue 14 item 2: `apisign generate` writes the same files whatever tsconfig the consuming project has or
// lacks. Two real partner specs (test/codegen/fixtures/NOTICE.md: MDES Digital Enablement, legacy field
// encryption + OAuth1; Open Finance US, 2 MB, 156 operations) are generated into a fresh project in the OS
// temp folder, with no tsconfig anywhere above it, and type-checked under strict NodeNext with tsc options
// on the command line.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { generate } from '../../src/codegen/index.js'
import { REPO_ROOT } from '../helpers/shared.js'

const FIXTURES = join(REPO_ROOT, 'test/codegen/fixtures')
const project = mkdtempSync(join(tmpdir(), 'apisign-fresh-'))
afterAll(() => rmSync(project, { recursive: true, force: true }))
// A project as a newcomer has it: package.json, axios installed, no tsconfig.
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'fresh', private: true, type: 'module' }))
mkdirSync(join(project, 'node_modules'))
symlinkSync(join(REPO_ROOT, 'node_modules/axios'), join(project, 'node_modules/axios'), 'dir')
const openBanking = join(project, 'openbanking-us.yaml')
writeFileSync(openBanking, gunzipSync(readFileSync(join(FIXTURES, 'openbanking-us.yaml.gz'))))

const TSC = join(REPO_ROOT, 'node_modules/typescript/bin/tsc')
const files = (dir: string): string[] =>
  readdirSync(dir).sort().flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]))
const typecheck = (dir: string, flags: string[]) =>
  execFileSync(process.execPath, [TSC, '--noEmit', '--strict', '--noUncheckedIndexedAccess', '--target', 'es2022', '--lib', 'es2023,dom,dom.iterable', '--skipLibCheck', ...flags, ...files(dir).filter((f) => f.endsWith('.ts'))], { cwd: project, stdio: 'pipe' })
const relativeImports = (dir: string) =>
  files(dir).filter((f) => f.endsWith('.ts')).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)'/g)].map((m) => m[1] as string))

describe('generate into a fresh project without a tsconfig', () => {
  it('there is no tsconfig in the fresh project or any folder above it', () => {
    for (let dir = project; dir !== dirname(dir); dir = dirname(dir)) {
      expect(readdirSync(dir).filter((f) => /^tsconfig.*\.json$/.test(f)), dir).toEqual([])
    }
  })

  for (const [name, spec, operations] of [['mdes', join(FIXTURES, 'mdes-digital-enablement.yaml'), 10], ['openbanking', openBanking, 156]] as const) {
    it(`${name}: every relative import has .js and the client type-checks under strict NodeNext`, async () => {
      const result = await generate({ spec, out: join(project, 'src'), name })
      expect(result.operations).toBe(operations)
      const imports = relativeImports(join(project, 'src', name))
      expect(imports.length).toBeGreaterThan(5)
      expect(imports.filter((i) => !i.endsWith('.js'))).toEqual([])
      typecheck(join(project, 'src', name), ['--module', 'nodenext', '--moduleResolution', 'nodenext'])
    }, 180_000)
  }

  it('the same bytes as a generation inside this repo (which has a NodeNext tsconfig)', async () => {
    const inRepo = join(REPO_ROOT, 'test/codegen/.generated', `fresh-${process.pid}`)
    try {
      await generate({ spec: join(FIXTURES, 'mdes-digital-enablement.yaml'), out: inRepo, name: 'mdes' })
      const here = files(join(inRepo, 'mdes'))
      const there = files(join(project, 'src/mdes'))
      expect(here.map((f) => relative(join(inRepo, 'mdes'), f))).toEqual(there.map((f) => relative(join(project, 'src/mdes'), f)))
      for (const [i, f] of here.entries()) expect(readFileSync(f, 'utf8')).toBe(readFileSync(there[i] as string, 'utf8'))
    } finally {
      rmSync(inRepo, { recursive: true, force: true })
    }
  })

  it('importExtension "none" writes extensionless imports, for bundler resolution', async () => {
    await generate({ spec: join(FIXTURES, 'mdes-digital-enablement.yaml'), out: join(project, 'bundler'), name: 'mdes', importExtension: 'none' })
    const imports = relativeImports(join(project, 'bundler/mdes'))
    expect(imports.length).toBeGreaterThan(5)
    expect(imports.filter((i) => i.endsWith('.js'))).toEqual([])
    typecheck(join(project, 'bundler/mdes'), ['--module', 'preserve', '--moduleResolution', 'bundler'])
    expect(existsSync(join(project, 'bundler/mdes/apisign.json'))).toBe(true)
  }, 120_000)

  it('an importExtension other than ".js" or "none" is a TypeError', async () => {
    await expect(generate({ spec: join(FIXTURES, 'mdes-digital-enablement.yaml'), out: join(project, 'x'), importExtension: '.mjs' as never })).rejects.toThrow(TypeError)
  })
})
