// Generation time (issue 15 item 7): `apisign generate` vs a bare @hey-api/openapi-ts run on the same spec
// file, each run a process of its own (start-up, imports and parsing the spec included, as a user pays
// them), interleaved, medians of BENCH_RUNS (default 3). Specs: a 500-operation spec built here and the
// example specs. Target: apisign <= 1.2x bare.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const tmp = mkdtempSync(join(ROOT, '.bench-codegen-'))
const count = (d) => readdirSync(d).reduce((n, f) => n + (statSync(join(d, f)).isDirectory() ? count(join(d, f)) : 1), 0)
const big = { openapi: '3.0.3', info: { title: 'Big', version: '1' }, paths: {}, components: { schemas: {} } }
for (let i = 0; i < 500; i++) {
  big.components.schemas[`Thing${i}`] = { type: 'object', properties: { id: { type: 'string' }, n: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } } }
  big.paths[`/things${i}/{id}`] = { get: { operationId: `getThing${i}`, tags: [`t${i % 20}`], parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, { name: 'q', in: 'query', schema: { type: 'array', items: { type: 'string' } } }], responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: `#/components/schemas/Thing${i}` } } } } } } }
}
const bigFile = join(tmp, 'big.yaml')
writeFileSync(bigFile, stringify(big))
const specs = {
  '500 operations (built here, YAML)': bigFile,
  'openapi/payments.yaml': join(ROOT, 'openapi/payments.yaml'),
  'openapi/payments-mini.yaml': join(ROOT, 'openapi/payments-mini.yaml'),
}
// The bare side: what a user of @hey-api/openapi-ts runs, with the plugins apisign generate uses.
const bareScript = (spec, out) => `
  const { createClient } = await import('@hey-api/openapi-ts')
  await createClient({ input: ${JSON.stringify(spec)}, output: { path: ${JSON.stringify(out)} }, plugins: ['@hey-api/client-axios', '@hey-api/typescript', '@hey-api/sdk'], logs: { level: 'silent' } })`
const timed = (args) => {
  const t = performance.now()
  execFileSync(process.execPath, args, { stdio: 'pipe', cwd: ROOT })
  return (performance.now() - t) / 1000
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
console.log(`Code generation, each run a fresh process (parsing included), median of ${RUNS} interleaved runs; Node ${process.version}`)
console.log('| spec | bare openapi-ts s | apisign generate s | files | ratio |')
console.log('| --- | ---: | ---: | ---: | ---: |')
for (const [name, spec] of Object.entries(specs)) {
  const bare = []
  const ours = []
  for (let i = 0; i < RUNS; i++) {
    bare.push(timed(['--input-type=module', '-e', bareScript(spec, join(tmp, 'bare', 'client'))]))
    ours.push(timed([join(ROOT, 'dist/cli/main.js'), 'generate', '--spec', spec, '--out', tmp, '--name', 'ours', '--json']))
  }
  const b = median(bare)
  const o = median(ours)
  console.log(`| ${name} | ${b.toFixed(2)} | ${o.toFixed(2)} | ${count(join(tmp, 'ours'))} | ${(o / b).toFixed(2)}x |`)
}
rmSync(tmp, { recursive: true, force: true })
