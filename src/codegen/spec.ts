import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { ApisignError } from '../errors.js'

/** An OpenAPI document, parsed. */
export type OpenApiDocument = Record<string, unknown> & { readonly paths?: Record<string, Record<string, unknown>> }

/**
 * Load an OpenAPI 3.0/3.1 spec from a file (YAML or JSON), an http(s) URL, or an object.
 *
 * @example
 * ```ts
 * const spec = await loadSpec('openapi/payments.yaml')
 * ```
 */
export async function loadSpec(spec: string | Record<string, unknown>): Promise<OpenApiDocument> {
  let doc: unknown = spec
  if (typeof spec === 'string') {
    let text: string
    if (/^https?:\/\//i.test(spec)) {
      const response = await fetch(spec).catch((cause: unknown) => {
        throw new ApisignError('ERR_SPEC_INVALID', `spec URL ${spec} could not be fetched`, { cause })
      })
      if (!response.ok) throw new ApisignError('ERR_SPEC_INVALID', `spec URL ${spec} answered HTTP ${response.status}`)
      text = await response.text()
    } else {
      try {
        text = readFileSync(spec, 'utf8')
      } catch (cause) {
        throw new ApisignError('ERR_FILE_NOT_FOUND', `spec file ${spec} cannot be read`, { cause })
      }
    }
    try {
      doc = text.trimStart().startsWith('{') ? JSON.parse(text) : parseYaml(text)
    } catch (cause) {
      throw new ApisignError('ERR_SPEC_INVALID', `spec ${spec} is not valid YAML or JSON`, { cause })
    }
  }
  if (doc === null || typeof doc !== 'object' || typeof (doc as { openapi?: unknown }).openapi !== 'string' || !/^3\.[01]\./.test((doc as { openapi: string }).openapi)) {
    throw new ApisignError('ERR_SPEC_INVALID', 'spec must be an OpenAPI 3.0 or 3.1 document')
  }
  if (typeof (doc as OpenApiDocument).paths !== 'object' || (doc as OpenApiDocument).paths === null) {
    throw new ApisignError('ERR_SPEC_INVALID', 'spec has no paths')
  }
  return doc as OpenApiDocument
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']

/**
 * Every operation of a spec: `[path, method, operation]`.
 *
 * @example
 * ```ts
 * for (const [path, method, op] of operationsOf(await loadSpec('openapi/payments.yaml'))) console.log(method, path, op.operationId)
 * ```
 */
export function operationsOf(spec: OpenApiDocument): Array<[string, string, Record<string, unknown>]> {
  const out: Array<[string, string, Record<string, unknown>]> = []
  for (const [path, item] of Object.entries(spec.paths ?? {})) {
    for (const m of METHODS) {
      const op = (item as Record<string, unknown>)[m]
      if (op !== null && typeof op === 'object') out.push([path, m, op as Record<string, unknown>])
    }
  }
  return out
}
