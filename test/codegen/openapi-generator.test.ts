// Issue 19 item 1: OpenAPI Generator as a real generator. The committed clients under
// generated/openapi-generator-{axios,fetch}/ are regenerated and compared byte for byte (determinism), the
// fresh output type-checks under strict, the CLI runs both clients, the JAR is fetched on first use into the
// openapitools.json cache (the wrapper's download, checked against its SHA-256; mvn where the wrapper fails)
// and reused, and a missing Java or JAR is ERR_GENERATOR_UNAVAILABLE naming what to install.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OPENAPI_GENERATOR_VERSION, ensureOpenApiGenerator, generate, resolveOpenApiGenerator } from '../../src/codegen/index.js'
import { isApisignError } from '../../src/errors.js'
import { describeWhen } from '../helpers/interop.js'
import { REPO_ROOT } from '../helpers/shared.js'

const scratch = join(REPO_ROOT, 'test/codegen/.generated', `oag-${process.pid}`)
afterAll(() => rmSync(scratch, { recursive: true, force: true }))
const list = (dir: string): string[] =>
  readdirSync(dir).sort().flatMap((f) => (statSync(join(dir, f)).isDirectory() ? list(join(dir, f)) : [join(dir, f)]))
const hasJava = spawnSync('java', ['-version']).status === 0
const hasMaven = spawnSync('mvn', ['-v']).status === 0
const CLI = join(REPO_ROOT, 'dist/cli/main.js')

describe('resolving the generator (no download)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apisign-oag-config-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  it('the repo pins the version apisign defaults to, with a git-ignored cache', () => {
    const setup = resolveOpenApiGenerator({ cwd: REPO_ROOT })
    expect(setup).toMatchObject({ version: OPENAPI_GENERATOR_VERSION, storageDir: join(REPO_ROOT, '.cache/openapi-generator'), jar: join(REPO_ROOT, `.cache/openapi-generator/${OPENAPI_GENERATOR_VERSION}.jar`), explicit: false })
    expect(readFileSync(join(REPO_ROOT, '.gitignore'), 'utf8')).toMatch(/^\.cache\/$/m)
  })
  it('reads generator-cli.version and storageDir (relative to the file, ~ for home) as the wrapper does', () => {
    writeFileSync(join(dir, 'openapitools.json'), JSON.stringify({ 'generator-cli': { version: '7.20.0', storageDir: 'jars', repository: { downloadUrl: 'http://127.0.0.1:1/${versionName}.jar' } } }))
    expect(resolveOpenApiGenerator({ cwd: dir })).toMatchObject({ version: '7.20.0', jar: join(dir, 'jars/7.20.0.jar'), downloadUrl: 'http://127.0.0.1:1/${versionName}.jar' })
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ 'generator-cli': { version: '7.23.0', storageDir: '~/oag' } }))
    expect(resolveOpenApiGenerator({ cwd: REPO_ROOT, openapitools: join(dir, 'other.json') }).storageDir).toBe(join(homedir(), 'oag'))
  })
  it('without openapitools.json: the pinned version in the user cache folder', () => {
    const empty = mkdtempSync(join(dir, 'empty-'))
    const setup = resolveOpenApiGenerator({ cwd: empty })
    expect(setup.version).toBe(OPENAPI_GENERATOR_VERSION)
    expect(setup.storageDir).toMatch(/apisign[\\/]openapi-generator$/)
  })
  it('an explicit JAR wins (jarPath, else OPENAPI_GENERATOR_CLI_JAR)', () => {
    expect(resolveOpenApiGenerator({ cwd: dir, jarPath: 'my.jar' })).toMatchObject({ jar: join(dir, 'my.jar'), explicit: true })
    const env = process.env['OPENAPI_GENERATOR_CLI_JAR']
    process.env['OPENAPI_GENERATOR_CLI_JAR'] = '/opt/oag.jar'
    try {
      expect(resolveOpenApiGenerator({ cwd: dir })).toMatchObject({ jar: '/opt/oag.jar', explicit: true })
    } finally {
      if (env === undefined) delete process.env['OPENAPI_GENERATOR_CLI_JAR']
      else process.env['OPENAPI_GENERATOR_CLI_JAR'] = env
    }
  })
  it('a bad version, bad JSON or a missing named file is a typed error', () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ 'generator-cli': { version: '7.x; rm -rf /' } }))
    expect(() => resolveOpenApiGenerator({ cwd: dir, openapitools: 'bad.json' })).toThrow(expect.objectContaining({ code: 'ERR_CODEGEN_FAILED' }))
    writeFileSync(join(dir, 'broken.json'), '{')
    expect(() => resolveOpenApiGenerator({ cwd: dir, openapitools: 'broken.json' })).toThrow(expect.objectContaining({ code: 'ERR_CODEGEN_FAILED' }))
    expect(() => resolveOpenApiGenerator({ cwd: dir, openapitools: 'nope.json' })).toThrow(expect.objectContaining({ code: 'ERR_FILE_NOT_FOUND' }))
  })
})

describe('without Java', () => {
  it('generate --generator openapi-generator fails at once with ERR_GENERATOR_UNAVAILABLE naming Java', async () => {
    const path = process.env['PATH']
    process.env['PATH'] = join(tmpdir(), 'no-such-bin')
    try {
      const error = await generate({ spec: join(REPO_ROOT, 'openapi/payments-mini.yaml'), out: scratch, generator: 'openapi-generator' }).catch((e: unknown) => e)
      expect(isApisignError(error, 'ERR_GENERATOR_UNAVAILABLE')).toBe(true)
      expect((error as Error).message).toMatch(/Java 11 or later on PATH/)
      expect(existsSync(join(scratch, 'payments-mini'))).toBe(false)
    } finally {
      process.env['PATH'] = path
    }
  })
})

describeWhen(hasJava, 'java is not on PATH (install a JRE 11+)', 'openapi-generator with Java', () => {
  beforeAll(() => {
    // First use fetches the JAR into the repo's cache (.cache/openapi-generator), later runs reuse it.
    ensureOpenApiGenerator({ cwd: REPO_ROOT })
  })

  it('regenerating the committed clients gives the same bytes (payments and ost, axios and fetch)', async () => {
    for (const client of ['axios', 'fetch'] as const) {
      for (const name of ['payments', 'ost']) {
        const out = join(scratch, `drift-${client}`)
        await generate({ spec: join(REPO_ROOT, 'openapi', `${name}.yaml`), out, generator: 'openapi-generator', client, openapitools: join(REPO_ROOT, 'openapitools.json') })
        const committedDir = join(REPO_ROOT, `generated/openapi-generator-${client}`, name)
        const fresh = list(join(out, name))
        const committed = list(committedDir)
        expect(fresh.map((f) => relative(join(out, name), f))).toEqual(committed.map((f) => relative(committedDir, f)))
        for (let i = 0; i < fresh.length; i++) {
          expect(readFileSync(fresh[i] as string, 'utf8'), `${client}/${name}: ${relative(join(out, name), fresh[i] as string)} differs: run npm run generate:openapi-generator`).toBe(readFileSync(committed[i] as string, 'utf8'))
        }
      }
    }
  })

  it('the fresh clients type-check under strict in a project of their own (NodeNext ESM)', () => {
    const project = join(scratch, 'drift-tsconfig.json')
    writeFileSync(project, JSON.stringify({ compilerOptions: { target: 'ES2022', lib: ['ES2023', 'DOM'], module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], strict: true, noEmit: true, skipLibCheck: true }, include: ['drift-axios', 'drift-fetch'] }))
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], { stdio: 'pipe' })
  })

  it('the CLI: --client fetch writes typescript-fetch and the same manifest; a bad --client is a usage error', () => {
    const out = join(scratch, 'cli')
    const run = spawnSync(process.execPath, [CLI, 'generate', '--generator', 'openapi-generator', '--client', 'fetch', '--spec', 'openapi/ost.yaml', '--out', out, '--json'], { cwd: REPO_ROOT, encoding: 'utf8' })
    expect(run.status, run.stderr).toBe(0)
    const result = JSON.parse(run.stdout) as { files: string[]; operations: number }
    expect(result.operations).toBe(4)
    expect(result.files).toEqual(expect.arrayContaining(['apisign.json', 'client/runtime.ts', 'client/apis/UsersApi.ts']))
    const manifest = JSON.parse(readFileSync(join(out, 'ost/apisign.json'), 'utf8')) as Record<string, unknown>
    const heyApi = JSON.parse(readFileSync(join(REPO_ROOT, 'generated/ost/apisign.json'), 'utf8')) as Record<string, unknown>
    expect(manifest).toEqual({ ...heyApi, generator: 'openapi-generator', generatorVersion: OPENAPI_GENERATOR_VERSION, client: 'fetch' })
    const bogus = spawnSync(process.execPath, [CLI, 'generate', '--generator', 'openapi-generator', '--client', 'angular', '--spec', 'openapi/ost.yaml', '--out', out], { cwd: REPO_ROOT, encoding: 'utf8' })
    expect(bogus.status).not.toBe(0)
    expect(bogus.stderr).toMatch(/--client must be axios or fetch/)
  })

  it('an explicit JAR that does not exist is ERR_GENERATOR_UNAVAILABLE naming it', () => {
    expect(() => ensureOpenApiGenerator({ jarPath: join(scratch, 'missing.jar') })).toThrow(expect.objectContaining({ code: 'ERR_GENERATOR_UNAVAILABLE', message: expect.stringMatching(/missing\.jar/) }))
  })

  it('a spec openapi-generator rejects is ERR_CODEGEN_FAILED with its reason', async () => {
    const error = await generate({ spec: { openapi: '3.0.3', info: { title: 'no version' }, paths: { '/a': { get: {} } } }, out: scratch, name: 'broken', generator: 'openapi-generator' }).catch((e: unknown) => e)
    expect(isApisignError(error, 'ERR_CODEGEN_FAILED')).toBe(true)
    expect((error as Error).message).toMatch(/SpecValidationException/)
  })

  describe('the JAR download (first use) through the wrapper, from a local repository', () => {
    // The repository runs in a child process: ensureOpenApiGenerator blocks while the wrapper downloads.
    let server: ChildProcess
    let base: string
    let log = ''
    const hits = () => log.split('\n').filter((l) => l.startsWith('GET ')).length
    const cached = join(REPO_ROOT, `.cache/openapi-generator/${OPENAPI_GENERATOR_VERSION}.jar`)
    const REPOSITORY = `
      const http = require('node:http'), fs = require('node:fs')
      const jar = process.argv.at(-1)
      http.createServer((req, res) => {
        console.log('GET ' + req.url)
        const mode = req.url.split('/')[1]
        if (mode === 'missing') return void res.writeHead(404).end()
        res.writeHead(200, { 'content-type': 'application/java-archive' })
        if (mode === 'garbage') return void res.end(Buffer.alloc(4096, 7))
        fs.createReadStream(jar).pipe(res)
      }).listen(0, '127.0.0.1', function () { console.log('PORT ' + this.address().port) })`
    beforeAll(async () => {
      server = spawn(process.execPath, ['-e', REPOSITORY, '--', cached], { stdio: ['ignore', 'pipe', 'inherit'] })
      server.stdout?.on('data', (b: Buffer) => {
        log += b.toString()
      })
      const port = await new Promise<string>((resolve) => {
        const poll = setInterval(() => {
          const m = /PORT (\d+)/.exec(log)
          if (m) {
            clearInterval(poll)
            resolve(m[1] as string)
          }
        }, 20)
      })
      base = `http://127.0.0.1:${port}`
    })
    afterAll(() => {
      server.kill()
    })
    const settle = () => new Promise((resolve) => setTimeout(resolve, 200))
    const project = (name: string, mode: 'jar' | 'garbage' | 'missing') => {
      const dir = join(scratch, name)
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, 'openapitools.json'), JSON.stringify({ 'generator-cli': { version: OPENAPI_GENERATOR_VERSION, storageDir: 'cache', repository: { downloadUrl: `${base}/${mode}/\${versionName}/openapi-generator-cli.jar` } } }))
      return dir
    }

    it('downloads into <storageDir>/<version>.jar once, checks its SHA-256, and reuses it', async () => {
      const dir = project('download-ok', 'jar')
      const before = hits()
      const setup = ensureOpenApiGenerator({ cwd: dir })
      expect(setup.jar).toBe(join(dir, `cache/${OPENAPI_GENERATOR_VERSION}.jar`))
      expect(statSync(setup.jar).size).toBe(statSync(cached).size)
      await settle()
      expect(hits() - before).toBe(1)
      ensureOpenApiGenerator({ cwd: dir })
      await settle()
      expect(hits() - before).toBe(1)
      expect(readdirSync(join(dir, 'cache'))).toEqual([`${OPENAPI_GENERATOR_VERSION}.jar`])
    })

    it('a JAR that is not the one Maven Central publishes is refused, and nothing is cached', () => {
      const dir = project('download-tampered', 'garbage')
      expect(() => ensureOpenApiGenerator({ cwd: dir })).toThrow(expect.objectContaining({ code: 'ERR_GENERATOR_UNAVAILABLE', message: expect.stringMatching(/SHA-256/) }))
      expect(readdirSync(join(dir, 'cache'))).toEqual([])
    })

    const mavenTest = hasMaven || process.env['CI'] === 'true' ? it : it.skip
    mavenTest('where the wrapper cannot download, mvn dependency:copy fetches it from Maven Central', () => {
      const dir = project('download-maven', 'missing')
      const setup = ensureOpenApiGenerator({ cwd: dir })
      expect(statSync(setup.jar).size).toBe(statSync(cached).size)
    })
  })
})
