import { resolve } from 'node:path'
import type { Command } from 'commander'
import { ApisignError } from '../../errors.js'
import { generate } from '../../codegen/index.js'
import { type CliIo, printResult } from '../io.js'

/** `apisign generate`: OpenAPI spec -> typed client (PRODUCT.md CLI contract). */
export function registerGenerate(program: Command, io: CliIo): void {
  program
    .command('generate')
    .description('Generate a typed axios or fetch client from an OpenAPI 3.0/3.1 spec (file or URL)')
    .requiredOption('--spec <fileOrUrl>', 'OpenAPI spec, YAML or JSON, path or http(s) URL')
    .requiredOption('--out <dir>', 'output folder (the client goes to <out>/<name>/)')
    .option('--name <name>', 'client name (default: the spec file name)')
    .option('--generator <generator>', 'hey-api (default) | openapi-generator', 'hey-api')
    .option('--client <client>', 'axios (default) | fetch: hey-api client-axios | client-fetch (wire with createClient | createFetch); openapi-generator typescript-axios | typescript-fetch', 'axios')
    .option('--jar <file>', 'openapi-generator: the generator JAR (else OPENAPI_GENERATOR_CLI_JAR, else fetched into the cache)')
    .option('--openapitools <file>', 'openapi-generator: the openapitools.json pinning its version and cache (default ./openapitools.json)')
    .option('--import-extension <ext>', 'hey-api: extension of relative imports, js (NodeNext, default) | none (bundlers)', 'js')
    .option('--json', 'print { files, operations, seconds }')
    .action(async (flags: { spec: string; out: string; name?: string; generator: string; client: string; jar?: string; openapitools?: string; importExtension: string; json?: boolean }) => {
      if (flags.generator !== 'hey-api' && flags.generator !== 'openapi-generator') {
        throw new ApisignError('ERR_CLI_USAGE', '--generator must be hey-api or openapi-generator')
      }
      if (flags.client !== 'axios' && flags.client !== 'fetch') throw new ApisignError('ERR_CLI_USAGE', '--client must be axios or fetch')
      const ext = flags.importExtension.replace(/^\./, '')
      if (ext !== 'js' && ext !== 'none') throw new ApisignError('ERR_CLI_USAGE', '--import-extension must be js or none')
      const spec = /^https?:\/\//i.test(flags.spec) ? flags.spec : resolve(io.cwd, flags.spec)
      const result = await generate({
        spec,
        out: resolve(io.cwd, flags.out),
        generator: flags.generator,
        importExtension: ext === 'js' ? '.js' : 'none',
        client: flags.client,
        ...(flags.name === undefined ? {} : { name: flags.name }),
        ...(flags.jar === undefined ? {} : { jarPath: resolve(io.cwd, flags.jar) }),
        ...(flags.openapitools === undefined ? {} : { openapitools: resolve(io.cwd, flags.openapitools) }),
      })
      for (const warning of result.warnings) io.stderr(`warning: ${warning}\n`)
      printResult(io, flags.json === true, { files: result.files, operations: result.operations, seconds: Number(result.seconds.toFixed(3)), ...(result.warnings.length === 0 ? {} : { warnings: result.warnings }) })
    })
}
