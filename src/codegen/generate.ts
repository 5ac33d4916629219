import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { ApisignError } from '../errors.js'
import type { OpenApiSecurityScheme } from '../schemes/openapi.js'
import { schemeOf } from '../schemes/table.js'
import { deriveEncryptionConfig } from './encryption.js'
import { type OpenApiGeneratorClient, runOpenApiGenerator } from './openapi-generator.js'
import { findEncryptedFields } from './scaffold.js'
import { type OpenApiDocument, loadSpec, operationsOf } from './spec.js'

/** Options of {@link generate}. */
export interface GenerateOptions {
  /** Spec file (YAML/JSON), http(s) URL, or object. */
  readonly spec: string | Record<string, unknown>
  /** Output folder; the client goes to `<out>/<name>/`. */
  readonly out: string
  /** Client name (folder). Default: from the spec file name, else `client`. */
  readonly name?: string
  /** `hey-api` (default, runs offline) or `openapi-generator` (needs Java; its JAR is fetched on first use). */
  readonly generator?: 'hey-api' | 'openapi-generator'
  /**
   * hey-api only: the extension of relative imports in the output. `.js` (default) type-checks under
   * `module`/`moduleResolution` `NodeNext` and runs in Node's ESM; `none` writes extensionless imports for
   * bundler set-ups. Never taken from a tsconfig: the output is the same whichever one the project has.
   */
  readonly importExtension?: '.js' | 'none'
  /**
   * The HTTP client in the output: `axios` (default; wire it with `createClient`) or `fetch` (wire it with
   * `createFetch`). hey-api: `@hey-api/client-axios` / `client-fetch` (`wireClient` takes either);
   * openapi-generator: `typescript-axios` / `typescript-fetch` (`wireTypescriptAxios` / `wireTypescriptFetch`).
   */
  readonly client?: OpenApiGeneratorClient
  /** openapi-generator only: the generator JAR (else `OPENAPI_GENERATOR_CLI_JAR`, else the cached one). */
  readonly jarPath?: string
  /** openapi-generator only: the openapitools.json pinning the version and cache (default `./openapitools.json`). */
  readonly openapitools?: string
}

/** What was written. */
export interface GenerateResult {
  readonly files: readonly string[]
  readonly operations: number
  readonly seconds: number
  readonly directory: string
  /** What the user should know, e.g. encrypted-looking fields without `x-apisign-encrypt` markers. */
  readonly warnings: readonly string[]
}

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => (statSync(join(dir, f)).isDirectory() ? listFiles(join(dir, f), base) : [relative(base, join(dir, f))]))
}

function nameOf(options: GenerateOptions): string {
  if (options.name !== undefined) {
    if (!/^[A-Za-z0-9._-]+$/.test(options.name)) throw new TypeError('name must be letters, digits, dot, dash or underscore')
    return options.name
  }
  if (typeof options.spec === 'string' && !/^https?:/i.test(options.spec)) {
    return (options.spec.split(/[\\/]/).pop() ?? 'client').replace(/\.(ya?ml|json)$/i, '')
  }
  return 'client'
}

/**
 * Generate a typed axios or fetch client for an OpenAPI 3.0/3.1 spec with `@hey-api/openapi-ts` (offline), into
 * `<out>/<name>/`, replacing what was there (regeneration is one command and idempotent: same spec, same
 * bytes). Beside it, `apisign.json` records the operations and the encryption config derived from
 * `x-apisign-encrypt`. The signing wiring is not in the output: `wireClient(client, createClient(profile))`
 * lives in apisign, so regenerating can never lose it.
 *
 * @example
 * ```ts
 * import { generate } from 'apisign/codegen'
 * const { files, operations } = await generate({ spec: 'openapi/payments.yaml', out: 'generated' })
 * ```
 */
export async function generate(options: GenerateOptions): Promise<GenerateResult> {
  const started = performance.now()
  const client = options.client ?? 'axios'
  if (client !== 'axios' && client !== 'fetch') throw new TypeError("client must be 'axios' or 'fetch'")
  const spec: OpenApiDocument = await loadSpec(options.spec)
  const directory = resolve(options.out, nameOf(options))
  const importExtension = options.importExtension ?? '.js'
  if (importExtension !== '.js' && importExtension !== 'none') throw new TypeError('importExtension must be ".js" or "none"')
  let generatorVersion: string | undefined
  if ((options.generator ?? 'hey-api') === 'openapi-generator') {
    const oag = { ...(options.jarPath === undefined ? {} : { jarPath: options.jarPath }), ...(options.openapitools === undefined ? {} : { openapitools: options.openapitools }) }
    generatorVersion = runOpenApiGenerator(spec, directory, client, oag).version
  } else {
    rmSync(directory, { recursive: true, force: true })
    mkdirSync(directory, { recursive: true })
    const { createClient } = await import('@hey-api/openapi-ts')
    try {
      await createClient({
        input: structuredClone(spec) as never,
        // hey-api would otherwise look for a tsconfig upward from its own install folder (not the project's)
        // and, finding none, drop the `.js` of every import: 80 errors under strict NodeNext. So the
        // extension is given and the search is off (tsConfigPath null; a relative path would be resolved
        // against hey-api's folder too).
        output: { path: join(directory, 'client'), tsConfigPath: null, module: importExtension === 'none' ? {} : { extension: '.js' } },
        plugins: [client === 'fetch' ? '@hey-api/client-fetch' : '@hey-api/client-axios', '@hey-api/typescript', '@hey-api/sdk'],
        logs: { level: 'silent' },
      } as never)
    } catch (cause) {
      throw new ApisignError('ERR_CODEGEN_FAILED', `@hey-api/openapi-ts could not generate a client for this spec`, { cause })
    }
  }
  const operations = operationsOf(spec)
  const encryption = deriveEncryptionConfig(spec)
  const warnings: string[] = []
  if (encryption.paths.length === 0) {
    // Real Mastercard specs (MDES) mark encryption by field names, never with x-apisign-encrypt: without a
    // config those fields would go out in clear and the partner would refuse them.
    const found = findEncryptedFields(spec)
    if (found.length > 0) {
      const list = found.slice(0, 3).map((c) => `${c.method.toUpperCase()} ${c.path} ${c.direction} ${c.container}.${c.valueField}`).join('; ')
      warnings.push(`the spec has ${found.length} encrypted-looking field(s) (${list}${found.length > 3 ? '; ...' : ''}) and no ${'x-apisign-encrypt'} markers: run apisign encryption init --spec <spec> to scaffold an encryption config, then confirm it`)
    }
  }
  const manifest = {
    generator: options.generator ?? 'hey-api',
    ...(generatorVersion === undefined ? {} : { generatorVersion, client }),
    title: (spec['info'] as { title?: string } | undefined)?.title ?? null,
    version: (spec['info'] as { version?: string } | undefined)?.version ?? null,
    operations: operations.map(([path, method, op]) => {
      const security = Array.isArray(op['security']) ? op['security'] : Array.isArray(spec['security']) ? spec['security'] : undefined
      return { operationId: op['operationId'] ?? null, method: method.toUpperCase(), path, ...(security === undefined ? {} : { security }) }
    }),
    // Which apisign scheme each security scheme is: the names authForSpec(spec, credentials) takes.
    securitySchemes: Object.fromEntries(
      Object.entries(((spec['components'] as { securitySchemes?: Record<string, OpenApiSecurityScheme> } | undefined)?.securitySchemes ?? {})).map(([name, scheme]) => [name, schemeIdOf(scheme)]),
    ),
    encryption,
  }
  writeFileSync(join(directory, 'apisign.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  return { files: listFiles(directory), operations: operations.length, seconds: (performance.now() - started) / 1000, directory, warnings }
}

function schemeIdOf(scheme: OpenApiSecurityScheme): string | null {
  try {
    return schemeOf(scheme) ?? null
  } catch {
    return null // an x-apisign-scheme apisign does not know: recorded as unknown, the spec still generates
  }
}
