import { readShared } from '../helpers/shared.js'

/** Resolve the vectors' `@keys/<file>` references: `.b64` files are base64 of a binary file. */
export function resolveKeys<T>(config: T): T {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(config as Record<string, unknown>)) {
    if (typeof v === 'string' && v.startsWith('@keys/')) {
      const file = v.slice('@keys/'.length)
      const bytes = readShared('keys/encryption', file)
      out[k] = file.endsWith('.b64') ? Buffer.from(bytes.toString('utf8'), 'base64') : bytes
    } else out[k] = v
  }
  return out as T
}

/** Deep equality ignoring object key order (JSON values). */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]))
  }
  return value
}

/** The config with toDecrypt replaced by the inverse of toEncrypt, so every encrypted field comes back. */
export function inverseConfig(config: Record<string, unknown>): Record<string, unknown> {
  const paths = (config['paths'] as Array<{ path: string; toEncrypt: Array<{ element: string; obj: string }> }>).map((p) => ({
    path: p.path,
    toEncrypt: p.toEncrypt,
    toDecrypt: p.toEncrypt.map((m) => ({ element: m.obj, obj: m.element })),
  }))
  return { ...config, paths }
}

