// Which security requirements an OpenAPI operation declares (OpenAPI 3.x §4.8.10 `security`: a list of
// alternatives, each naming the schemes that must all pass; `{}` allows anonymous calls; the operation's
// list replaces the document's).
import { ApisignError } from '../errors.js'

/** An OpenAPI `securitySchemes` entry (with apisign's `x-apisign-scheme` to name a non-standard scheme). */
export interface OpenApiSecurityScheme {
  readonly type?: string
  readonly scheme?: string
  readonly bearerFormat?: string
  readonly in?: string
  readonly name?: string
  readonly 'x-apisign-scheme'?: string
  readonly [extension: string]: unknown
}

/** One alternative of a `security` list: scheme name -> scopes. */
export type SecurityRequirement = Readonly<Record<string, readonly string[]>>

/** A route table of a spec: finds the operation of a method and a path (relative to the base path). */
export interface OperationIndex {
  /**
   * The operation's security alternatives (its own `security`, else the document's), or `undefined` when
   * no operation matches. `declared` is false when neither says anything; `security: []` declared means
   * anonymous.
   */
  find(method: string, path: string): { readonly template: string; readonly operationId?: string; readonly security: readonly SecurityRequirement[]; readonly declared: boolean } | undefined
  /** `components.securitySchemes`. */
  readonly securitySchemes: Readonly<Record<string, OpenApiSecurityScheme>>
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * Index a spec's operations for per-request lookup; literal paths win over templated ones
 * (`/users/me` before `/users/{id}`), as OpenAPI 3.x §4.8.8 requires.
 *
 * @example
 * ```ts
 * const index = indexOperations(spec)
 * index.find('GET', '/users/u-1/balance')?.security // [{ ostHmac: [] }]
 * ```
 */
export function indexOperations(spec: Readonly<Record<string, unknown>>): OperationIndex {
  const paths = spec['paths']
  if (paths === null || typeof paths !== 'object') throw new ApisignError('ERR_SPEC_INVALID', 'spec has no paths')
  const global = Array.isArray(spec['security']) ? (spec['security'] as SecurityRequirement[]) : undefined
  const components = (spec['components'] ?? {}) as Record<string, unknown>
  const securitySchemes = (components['securitySchemes'] ?? {}) as Record<string, OpenApiSecurityScheme>
  const routes = Object.entries(paths as Record<string, Record<string, unknown>>)
    .map(([template, item]) => ({
      template,
      params: (template.match(/\{[^}]+\}/g) ?? []).length,
      pattern: new RegExp(`^${template.split(/\{[^}]+\}/).map(escape).join('[^/]+')}$`),
      item,
    }))
    .sort((a, b) => a.params - b.params)
  return {
    securitySchemes,
    find(method, path) {
      const m = method.toLowerCase()
      for (const route of routes) {
        if (!METHODS.includes(m) || !route.pattern.test(path)) continue
        const op = route.item[m] as Record<string, unknown> | undefined
        if (op === undefined || op === null || typeof op !== 'object') continue
        const security = Array.isArray(op['security']) ? (op['security'] as SecurityRequirement[]) : global
        return { template: route.template, ...(typeof op['operationId'] === 'string' ? { operationId: op['operationId'] } : {}), security: security ?? [], declared: security !== undefined }
      }
      return undefined
    },
  }
}

/**
 * The path of a URL below a base path (`/ost/v2/users` with base `/ost/v2` -> `/users`), or undefined.
 *
 * @example
 * ```ts
 * pathBelow('/ost/v2/users', '/ost/v2') // '/users'
 * ```
 */
export function pathBelow(pathname: string, basePath: string): string | undefined {
  const base = basePath.replace(/\/+$/, '')
  if (base === '') return pathname
  if (pathname === base) return '/'
  return pathname.startsWith(`${base}/`) ? pathname.slice(base.length) : undefined
}
