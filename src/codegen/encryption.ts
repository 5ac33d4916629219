import type { OpenApiDocument } from './spec.js'
import { operationsOf } from './spec.js'

/**
 * The vendor extension that marks a schema property as encrypted.
 *
 * @example
 * ```ts
 * // in the spec: properties: { card: { $ref: '#/components/schemas/Card', x-apisign-encrypt: true } }
 * spec.components.schemas.Payment.properties.card[ENCRYPT_EXTENSION] // true
 * ```
 */
export const ENCRYPT_EXTENSION = 'x-apisign-encrypt'

function resolve(spec: OpenApiDocument, value: unknown, seen = new Set<string>()): Record<string, unknown> | undefined {
  if (value === null || typeof value !== 'object') return undefined
  const ref = (value as { $ref?: unknown }).$ref
  if (typeof ref === 'string' && ref.startsWith('#/') && !seen.has(ref)) {
    seen.add(ref)
    let node: unknown = spec
    for (const part of ref.slice(2).split('/')) node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')]
    return resolve(spec, node, seen)
  }
  return value as Record<string, unknown>
}

/**
 * Field paths (`card`, `items[*].cardToken`) of properties marked `x-apisign-encrypt` in a schema.
 *
 * @example
 * ```ts
 * encryptedFields(spec, requestSchema) // ['card', 'payer.account']
 * ```
 */
export function encryptedFields(spec: OpenApiDocument, schemaIn: unknown, prefix = '', depth = 0): string[] {
  const schema = resolve(spec, schemaIn)
  if (schema === undefined || depth > 6) return []
  const out: string[] = []
  for (const part of [...((schema['allOf'] as unknown[]) ?? [])]) out.push(...encryptedFields(spec, part, prefix, depth + 1))
  if (schema['type'] === 'array' || schema['items'] !== undefined) out.push(...encryptedFields(spec, schema['items'], `${prefix}[*]`, depth + 1))
  for (const [name, prop] of Object.entries((schema['properties'] as Record<string, unknown>) ?? {})) {
    const path = prefix === '' ? name : `${prefix}.${name}`
    const resolved = resolve(spec, prop)
    if ((prop as Record<string, unknown>)[ENCRYPT_EXTENSION] === true || resolved?.[ENCRYPT_EXTENSION] === true) out.push(path)
    else out.push(...encryptedFields(spec, prop, path, depth + 1))
  }
  return [...new Set(out)]
}

const jsonSchemaOf = (spec: OpenApiDocument, holder: unknown): unknown => {
  const resolved = resolve(spec, holder)
  const content = resolved?.['content'] as Record<string, { schema?: unknown }> | undefined
  return content?.['application/json']?.schema
}

/**
 * Derive a `mastercard-client-encryption`-style config (JWE) from a spec's `x-apisign-encrypt` markers:
 * request-body fields become `toEncrypt`, response fields `toDecrypt`, each encrypted in place
 * (`card` -> `card: { encryptedData: <JWE> }`), one entry per path (a regex anchored at the end, the
 * template's parameters as `[^/]+`). Keys are not part of it: add `encryptionCertificate` and
 * `privateKey` (or `keyStore`) from the profile.
 *
 * @example
 * ```ts
 * const config = { ...deriveEncryptionConfig(spec), encryptionCertificate: './partner.crt', privateKey: './key.pem' }
 * ```
 */
export function deriveEncryptionConfig(spec: OpenApiDocument, encryptedValueFieldName = 'encryptedData') {
  const byPath = new Map<string, { toEncrypt: Set<string>; toDecrypt: Set<string> }>()
  for (const [path, , op] of operationsOf(spec)) {
    const entry = byPath.get(path) ?? { toEncrypt: new Set<string>(), toDecrypt: new Set<string>() }
    for (const f of encryptedFields(spec, jsonSchemaOf(spec, op['requestBody']))) entry.toEncrypt.add(f)
    for (const [code, response] of Object.entries((op['responses'] as Record<string, unknown>) ?? {})) {
      if (/^2/.test(code)) for (const f of encryptedFields(spec, jsonSchemaOf(spec, response))) entry.toDecrypt.add(f)
    }
    byPath.set(path, entry)
  }
  const paths = [...byPath.entries()]
    .filter(([, e]) => e.toEncrypt.size + e.toDecrypt.size > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, e]) => ({
      path: `${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`,
      toEncrypt: [...e.toEncrypt].sort().map((f) => ({ element: f, obj: f })),
      toDecrypt: [...e.toDecrypt].sort().map((f) => ({ element: f, obj: f })),
    }))
  return { mode: 'JWE' as const, encryptedValueFieldName, paths }
}
