// OpenAPI Generator (the Java tool Mastercard's own guides use) as a second generator beside hey-api (issue 19).
// The npm wrapper @openapitools/openapi-generator-cli 2.35.0 (every later 2.x needs Node 22) is an optional
// peer: apisign uses it only to download the generator JAR, the way it does for its own users (a version
// pinned in openapitools.json makes it look for <storageDir>/<version>.jar and skip its version search). The
// JAR is then run directly with `java -jar` (no shell: the wrapper joins its arguments into a shell string).
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { homedir, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { ApisignError } from '../errors.js'
import type { OpenApiDocument } from './spec.js'

/**
 * The generator version apisign pins when no `openapitools.json` names one (the wrapper 2.35.0's newest).
 *
 * @example
 * ```ts
 * import { OPENAPI_GENERATOR_VERSION } from 'apisign/codegen'
 * writeFileSync('openapitools.json', JSON.stringify({ 'generator-cli': { version: OPENAPI_GENERATOR_VERSION } }))
 * ```
 */
export const OPENAPI_GENERATOR_VERSION = '7.23.0'

// SHA-256 of the JARs Maven Central serves (org.openapitools:openapi-generator-cli); a downloaded JAR of one of
// these versions that does not match is refused. Other versions are taken as downloaded (Maven Central's own
// .sha1 is checked by mvn, not by the wrapper).
const KNOWN_JARS: Readonly<Record<string, string>> = Object.freeze({
  '7.23.0': 'cb087e40001e31eb08ef6140dd5de10938dbeb89016a1fe0481eaa25cd569026',
})

/** Which client `--generator openapi-generator` writes: `typescript-axios` or `typescript-fetch`. */
export type OpenApiGeneratorClient = 'axios' | 'fetch'

/** Where the generator JAR comes from, as {@link resolveOpenApiGenerator} found it. */
export interface OpenApiGeneratorSetup {
  /** Generator version (`generator-cli.version` of openapitools.json, else {@link OPENAPI_GENERATOR_VERSION}). */
  readonly version: string
  /** The JAR: `<storageDir>/<version>.jar`, or the file given with `jarPath` / `OPENAPI_GENERATOR_CLI_JAR`. */
  readonly jar: string
  /** The folder the JAR is cached in. */
  readonly storageDir: string
  /** The openapitools.json read, if any. */
  readonly configFile?: string
  /** `generator-cli.repository.downloadUrl` of openapitools.json, passed on to the wrapper. */
  readonly downloadUrl?: string
  /** True when the JAR was given explicitly (never downloaded). */
  readonly explicit: boolean
}

/** Options of {@link resolveOpenApiGenerator} and {@link ensureOpenApiGenerator}. */
export interface OpenApiGeneratorOptions {
  /** A generator JAR to use as is (else `OPENAPI_GENERATOR_CLI_JAR`, else the cache). */
  readonly jarPath?: string
  /** The openapitools.json to read (default: `<cwd>/openapitools.json` when it exists). */
  readonly openapitools?: string
  /** Folder for the default openapitools.json and relative paths (default `process.cwd()`). */
  readonly cwd?: string
}

function defaultStorageDir(): string {
  const base = process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache')
  return join(base, 'apisign', 'openapi-generator')
}

/**
 * Work out which generator JAR apisign will run, without downloading anything: an explicit JAR
 * (`jarPath`, `OPENAPI_GENERATOR_CLI_JAR`), else `generator-cli.version` and `generator-cli.storageDir` of
 * openapitools.json (the wrapper's own file; `~` and relative paths as the wrapper resolves them), else
 * {@link OPENAPI_GENERATOR_VERSION} in `~/.cache/apisign/openapi-generator`.
 *
 * @example
 * ```ts
 * import { resolveOpenApiGenerator } from 'apisign/codegen'
 * resolveOpenApiGenerator().jar // e.g. '/repo/.cache/openapi-generator/7.23.0.jar'
 * ```
 */
export function resolveOpenApiGenerator(options: OpenApiGeneratorOptions = {}): OpenApiGeneratorSetup {
  const cwd = options.cwd ?? process.cwd()
  const configFile = options.openapitools !== undefined ? resolve(cwd, options.openapitools) : resolve(cwd, 'openapitools.json')
  let config: { version?: unknown; storageDir?: unknown; repository?: { downloadUrl?: unknown } } = {}
  if (existsSync(configFile)) {
    try {
      config = ((JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>)['generator-cli'] ?? {}) as typeof config
    } catch (cause) {
      throw new ApisignError('ERR_CODEGEN_FAILED', `${configFile} is not valid JSON`, { cause })
    }
  } else if (options.openapitools !== undefined) {
    throw new ApisignError('ERR_FILE_NOT_FOUND', `openapitools file ${configFile} does not exist`)
  }
  const version = config.version ?? OPENAPI_GENERATOR_VERSION
  if (typeof version !== 'string' || !/^\d+\.\d+\.\d+(-[A-Za-z0-9.]+)?$/.test(version)) {
    throw new ApisignError('ERR_CODEGEN_FAILED', `generator-cli.version in ${configFile} must be a version such as ${OPENAPI_GENERATOR_VERSION}`)
  }
  const storageDir =
    typeof config.storageDir === 'string'
      ? resolve(dirname(configFile), config.storageDir.replace(/^~/, homedir()))
      : defaultStorageDir()
  const downloadUrl = typeof config.repository?.downloadUrl === 'string' ? config.repository.downloadUrl : undefined
  const explicit = options.jarPath ?? process.env['OPENAPI_GENERATOR_CLI_JAR']
  const found = existsSync(configFile) ? { configFile } : {}
  const url = downloadUrl === undefined ? {} : { downloadUrl }
  if (explicit !== undefined && explicit !== '') {
    return { version, jar: resolve(cwd, explicit), storageDir, ...found, ...url, explicit: true }
  }
  return { version, jar: join(storageDir, `${version}.jar`), storageDir, ...found, ...url, explicit: false }
}

/** The Java major version on PATH, or undefined when there is none. */
function javaMajor(): number | undefined {
  const run = spawnSync('java', ['-version'], { encoding: 'utf8' })
  if (run.error !== undefined || run.status !== 0) return undefined
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${run.stderr}${run.stdout}`)
  if (match === null) return undefined
  // "1.8.0_392" is Java 8.
  return match[1] === '1' ? Number(match[2]) : Number(match[1])
}

function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex')
}

function wrapperMain(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('@openapitools/openapi-generator-cli/main.js')
  } catch {
    return undefined
  }
}

// The wrapper downloads into the storageDir of the openapitools.json it is given. It gets a private one in a
// fresh folder, so a failed or concurrent download never leaves a partial <version>.jar in the cache.
function downloadWithWrapper(main: string, setup: OpenApiGeneratorSetup, into: string): string | undefined {
  const config = {
    $schema: 'https://raw.githubusercontent.com/OpenAPITools/openapi-generator-cli/master/apps/generator-cli/src/config.schema.json',
    spaces: 2,
    'generator-cli': { version: setup.version, storageDir: into, ...(setup.downloadUrl === undefined ? {} : { repository: { downloadUrl: setup.downloadUrl } }) },
  }
  const file = join(into, 'openapitools.json')
  writeFileSync(file, JSON.stringify(config))
  // The wrapper reads PWD before process.cwd(); `version` downloads if needed, then asks the JAR its version.
  const run = spawnSync(process.execPath, [main, '--openapitools', file, 'version'], {
    cwd: into,
    env: { ...process.env, PWD: into },
    encoding: 'utf8',
    timeout: 10 * 60_000,
  })
  const jar = join(into, `${setup.version}.jar`)
  // For a pinned version the checksum decides, whatever the wrapper's exit code (it also runs the JAR); for
  // any other version only a clean exit vouches for the file.
  return existsSync(jar) && (run.status === 0 || KNOWN_JARS[setup.version] !== undefined) ? jar : undefined
}

function downloadWithMaven(setup: OpenApiGeneratorSetup, into: string): string | undefined {
  const run = spawnSync(
    'mvn',
    ['-q', '-B', 'dependency:copy', `-Dartifact=org.openapitools:openapi-generator-cli:${setup.version}`, `-DoutputDirectory=${into}`],
    { cwd: into, encoding: 'utf8', timeout: 10 * 60_000 },
  )
  const jar = join(into, `openapi-generator-cli-${setup.version}.jar`)
  return run.status === 0 && existsSync(jar) ? jar : undefined
}

/**
 * Make sure the generator can run: Java 11+ on PATH and the JAR in its cache folder, downloading it on first
 * use with the wrapper (`@openapitools/openapi-generator-cli`, from Maven Central) or, where that fails,
 * `mvn dependency:copy`. A pinned version's JAR is checked against its SHA-256. Reused afterwards.
 * Throws `ERR_GENERATOR_UNAVAILABLE` naming what to install.
 *
 * @example
 * ```ts
 * import { ensureOpenApiGenerator } from 'apisign/codegen'
 * const { jar } = ensureOpenApiGenerator() // e.g. in a Docker build step, before going offline
 * ```
 */
export function ensureOpenApiGenerator(options: OpenApiGeneratorOptions = {}): OpenApiGeneratorSetup {
  const setup = resolveOpenApiGenerator(options)
  const java = javaMajor()
  if (java === undefined) {
    throw new ApisignError(
      'ERR_GENERATOR_UNAVAILABLE',
      'openapi-generator needs Java 11 or later on PATH (e.g. apt-get install openjdk-17-jre-headless); the default generator, hey-api, runs without it',
    )
  }
  if (java < 11) throw new ApisignError('ERR_GENERATOR_UNAVAILABLE', `openapi-generator ${setup.version} needs Java 11 or later; java on PATH is ${java}`)
  if (setup.explicit) {
    if (!existsSync(setup.jar)) throw new ApisignError('ERR_GENERATOR_UNAVAILABLE', `the generator JAR ${setup.jar} (--jar or OPENAPI_GENERATOR_CLI_JAR) does not exist`)
    return setup
  }
  if (existsSync(setup.jar)) return setup
  const main = wrapperMain()
  mkdirSync(setup.storageDir, { recursive: true })
  const into = mkdtempSync(join(setup.storageDir, '.download-'))
  try {
    const downloaded = (main === undefined ? undefined : downloadWithWrapper(main, setup, into)) ?? downloadWithMaven(setup, into)
    if (downloaded === undefined) {
      const how = main === undefined ? 'npm install -D @openapitools/openapi-generator-cli@2.35.0 (it downloads the JAR), or Maven (mvn)' : 'network access to Maven Central'
      throw new ApisignError(
        'ERR_GENERATOR_UNAVAILABLE',
        `the openapi-generator ${setup.version} JAR is not in ${setup.storageDir} and could not be downloaded; needs ${how}, or point --jar / OPENAPI_GENERATOR_CLI_JAR at an openapi-generator-cli-${setup.version}.jar`,
      )
    }
    const expected = KNOWN_JARS[setup.version]
    if (expected !== undefined && sha256File(downloaded) !== expected) {
      throw new ApisignError('ERR_GENERATOR_UNAVAILABLE', `the downloaded openapi-generator ${setup.version} JAR does not have the SHA-256 Maven Central publishes; refused`)
    }
    // Atomic within the folder: a concurrent run either sees no JAR or a whole one.
    renameSync(downloaded, setup.jar)
  } finally {
    rmSync(into, { recursive: true, force: true })
  }
  return setup
}

const GENERATORS: Readonly<Record<OpenApiGeneratorClient, { readonly name: string; readonly properties: string }>> = Object.freeze({
  // ES modules that resolve under NodeNext (importFileExtension), ES2015+ output.
  axios: { name: 'typescript-axios', properties: 'supportsES6=true,importFileExtension=.js' },
  fetch: { name: 'typescript-fetch', properties: 'supportsES6=true,importFileExtension=.js' },
})

// Packaging files of a publishable npm project that a client generated into an application does not need.
const IGNORED = ['git_push.sh', '.gitignore', '.npmignore', 'package.json', 'tsconfig.json', 'tsconfig.esm.json', 'README.md']

/**
 * Run openapi-generator's `typescript-axios` or `typescript-fetch` for `spec` into `<directory>/client`
 * (replacing it). Same spec and generator version, same bytes: the spec goes in as JSON, documentation,
 * tests and packaging files are left out. Wire the result with `wireTypescriptAxios` / `wireTypescriptFetch`.
 *
 * @example
 * ```ts
 * import { loadSpec, runOpenApiGenerator } from 'apisign/codegen'
 * runOpenApiGenerator(await loadSpec('openapi/payments.yaml'), 'generated/payments-axios', 'axios')
 * ```
 */
export function runOpenApiGenerator(
  spec: OpenApiDocument,
  directory: string,
  client: OpenApiGeneratorClient = 'axios',
  options: OpenApiGeneratorOptions = {},
): OpenApiGeneratorSetup {
  const generator = GENERATORS[client]
  if (generator === undefined) throw new TypeError("client must be 'axios' or 'fetch'")
  const setup = ensureOpenApiGenerator(options)
  const work = mkdtempSync(join(tmpdir(), 'apisign-oag-'))
  try {
    const specFile = join(work, 'spec.json')
    writeFileSync(specFile, JSON.stringify(spec))
    rmSync(directory, { recursive: true, force: true })
    const out = join(directory, 'client')
    mkdirSync(out, { recursive: true })
    writeFileSync(join(out, '.openapi-generator-ignore'), `# Written by apisign generate: packaging files an application does not need.\n${IGNORED.join('\n')}\n`)
    try {
      execFileSync(
        'java',
        [
          '-jar', setup.jar, 'generate', '-g', generator.name, '-i', specFile, '-o', out,
          `--additional-properties=${generator.properties}`,
          '--global-property', 'apiDocs=false,modelDocs=false,apiTests=false,modelTests=false',
        ],
        { stdio: 'pipe', encoding: 'utf8', timeout: 10 * 60_000 },
      )
    } catch (cause) {
      const output = `${String((cause as { stdout?: unknown }).stdout ?? '')}${String((cause as { stderr?: unknown }).stderr ?? '')}`
      const lines = output.split('\n').filter((l) => /error|exception|invalid/i.test(l)).slice(0, 5)
      throw new ApisignError('ERR_CODEGEN_FAILED', `openapi-generator (${generator.name}) failed${lines.length > 0 ? `: ${lines.join(' | ')}` : ''}`, { cause })
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  return setup
}
