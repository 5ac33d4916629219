// Generation time: apisign generate vs a bare @hey-api/openapi-ts run on the same spec, side by side,
// for a 500-operation spec built here and for the example specs. Target: apisign <= 1.2x bare.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createClient } from '@hey-api/openapi-ts'
import { parse } from 'yaml'
import { readFileSync } from 'node:fs'
import { generate } from '../dist/codegen/index.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const tmp = mkdtempSync(join(ROOT, '.bench-codegen-'))
const count = (d) => readdirSync(d).reduce((n, f) => n + (statSync(join(d, f)).isDirectory() ? count(join(d, f)) : 1), 0)
const big = { openapi: '3.0.3', info: { title: 'Big', version: '1' }, paths: {}, components: { schemas: {} } }
for (let i = 0; i < 500; i++) {
  big.components.schemas[`Thing${i}`] = { type: 'object', properties: { id: { type: 'string' }, n: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } } }
  big.paths[`/things${i}/{id}`] = { get: { operationId: `getThing${i}`, tags: [`t${i % 20}`], parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, { name: 'q', in: 'query', schema: { type: 'array', items: { type: 'string' } } }], responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: `#/components/schemas/Thing${i}` } } } } } } }
}
const specs = {
  '500 operations (built here)': big,
  'openapi/payments.yaml': parse(readFileSync(join(ROOT, 'openapi/payments.yaml'), 'utf8')),
  'openapi/payments-mini.yaml': parse(readFileSync(join(ROOT, 'openapi/payments-mini.yaml'), 'utf8')),
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
console.log('| spec | bare openapi-ts s | apisign generate s | files | ratio |')
console.log('| --- | ---: | ---: | ---: | ---: |')
for (const [name, spec] of Object.entries(specs)) {
  const bare = []
  const ours = []
  let files = 0
  for (let i = 0; i < 3; i++) {
    let t = performance.now()
    await createClient({ input: structuredClone(spec), output: { path: join(tmp, 'bare', 'client') }, plugins: ['@hey-api/client-axios', '@hey-api/typescript', '@hey-api/sdk'], logs: { level: 'silent' } })
    bare.push((performance.now() - t) / 1000)
    t = performance.now()
    const r = await generate({ spec: structuredClone(spec), out: tmp, name: 'ours' })
    ours.push((performance.now() - t) / 1000)
    files = r.files.length
  }
  const b = median(bare)
  const o = median(ours)
  console.log(`| ${name} | ${b.toFixed(2)} | ${o.toFixed(2)} | ${files} | ${(o / b).toFixed(2)}x |`)
}
rmSync(tmp, { recursive: true, force: true })
