import { ApisignError } from '../errors.js'

/** One step of a field path: a property name, an array index, or `*` (every element of an array). */
export type PathSegment = string | number | typeof WILDCARD
/**
 * The `[*]` wildcard segment.
 *
 * @example
 * ```ts
 * parseFieldPath('items[*].pan') // ['items', WILDCARD, 'pan']
 * ```
 */
export const WILDCARD: unique symbol = Symbol('*')

/**
 * Parse a field path. Accepted forms: `$` or `""` (the root), `a.b.c`, `$.a.b`, numeric segments as array
 * indexes (`items.0.pan`, the reference's form), brackets (`items[0].pan`) and the `[*]` wildcard
 * (`items[*].pan`, as client-encryption-java does; the Node reference has neither: Insomnia #43).
 *
 * @example
 * ```ts
 * parseFieldPath('$.items[*].card') // ['items', WILDCARD, 'card']
 * ```
 */
export function parseFieldPath(path: string): PathSegment[] {
  if (typeof path !== 'string') throw new TypeError('a field path must be a string')
  let text = path.trim()
  if (text === '$' || text === '') return []
  if (text.startsWith('$.')) text = text.slice(2)
  else if (text.startsWith('$[')) text = text.slice(1)
  const segments: PathSegment[] = []
  for (const part of text.replace(/\[/g, '.[').split('.')) {
    if (part === '') {
      if (segments.length === 0 && text.startsWith('[')) continue
      throw new ApisignError('ERR_ENCRYPTION_CONFIG', `field path ${JSON.stringify(path)} has an empty segment`)
    }
    if (part.startsWith('[')) {
      const inner = /^\[(\*|\d+)\]$/.exec(part)?.[1]
      if (inner === undefined) throw new ApisignError('ERR_ENCRYPTION_CONFIG', `field path ${JSON.stringify(path)} has a malformed [index]`)
      segments.push(inner === '*' ? WILDCARD : Number(inner))
    } else if (/^\d+$/.test(part)) {
      segments.push(Number(part))
    } else {
      segments.push(part)
    }
  }
  return segments
}

type Container = Record<string, unknown> | unknown[]
const isContainer = (v: unknown): v is Container => v !== null && typeof v === 'object'
export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)

/** Concrete paths (wildcards expanded against `root`) that exist in `root`. */
export function expandPath(root: unknown, segments: readonly PathSegment[]): Array<Array<string | number>> {
  let current: Array<{ value: unknown; path: Array<string | number> }> = [{ value: root, path: [] }]
  for (const segment of segments) {
    const next: typeof current = []
    for (const { value, path } of current) {
      if (segment === WILDCARD) {
        if (Array.isArray(value)) value.forEach((item, i) => next.push({ value: item, path: [...path, i] }))
      } else if (isContainer(value) && Object.hasOwn(value, segment)) {
        next.push({ value: (value as Record<string | number, unknown>)[segment], path: [...path, segment] })
      }
    }
    current = next
  }
  return current.map((c) => c.path)
}

/** Read the value at a concrete path (undefined when absent). */
export function getAt(root: unknown, path: readonly (string | number)[]): unknown {
  let value = root
  for (const key of path) {
    if (!isContainer(value) || !Object.hasOwn(value, key)) return undefined
    value = (value as Record<string | number, unknown>)[key]
  }
  return value
}

/** Write `value` at a concrete path, creating intermediate objects. `root` must be a container. */
export function setAt(root: Container, path: readonly (string | number)[], value: unknown): void {
  let node: Container = root
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i] as string | number
    let child = (node as Record<string | number, unknown>)[key]
    if (!isContainer(child)) {
      child = typeof path[i + 1] === 'number' ? [] : {}
      ;(node as Record<string | number, unknown>)[key] = child
    }
    node = child as Container
  }
  ;(node as Record<string | number, unknown>)[path[path.length - 1] as string | number] = value
}

/** Remove the value at a concrete path (array elements are left as holes' replacement: removed by key). */
export function deleteAt(root: Container, path: readonly (string | number)[]): void {
  const parent = getAt(root, path.slice(0, -1))
  if (!isContainer(parent)) return
  const key = path[path.length - 1] as string | number
  if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1)
  else delete (parent as Record<string | number, unknown>)[key]
}
