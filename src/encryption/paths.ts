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
 * indexes (`items.0.pan`, the reference's form), brackets (`items[0].pan`), the `[*]` wildcard
 * (`items[*].pan`, as client-encryption-java does; the Node reference has neither: Insomnia #43), quoted
 * names (`$['data']['object']`, Jayway JsonPath's bracket notation) and a name right after `]`
 * (`$.fields[*]field1`, which Jayway reads as `$.fields[*].field1`: client-encryption-java's own wildcard
 * tests are written that way).
 *
 * @example
 * ```ts
 * parseFieldPath('$.items[*].card') // ['items', WILDCARD, 'card']
 * parseFieldPath('$.fields[*]field1') // ['fields', WILDCARD, 'field1']
 * ```
 */
export function parseFieldPath(path: string): PathSegment[] {
  if (typeof path !== 'string') throw new TypeError('a field path must be a string')
  let text = path.trim()
  if (text === '$' || text === '') return []
  if (text.startsWith('$.') || text.startsWith('$[')) text = text.slice(1)
  else if (text.startsWith('.')) throw new ApisignError('ERR_ENCRYPTION_CONFIG', `field path ${JSON.stringify(path)} has an empty segment`)
  const segments: PathSegment[] = []
  // One token at a time: `.name` (the dot optional at the start and right after `]`), `[index]`, `[*]`,
  // `['name']` or `["name"]`.
  const token = /\.([^.[\]]+)|([^.[\]]+)|\[(\*|\d+)\]|\[(?:'([^']*)'|"([^"]*)")\]/y
  let at = 0
  while (at < text.length) {
    token.lastIndex = at
    const m = token.exec(text)
    // A bare name (no dot) is only allowed first or right after `]`.
    if (m === null || (m[2] !== undefined && at !== 0 && text[at - 1] !== ']')) {
      const reason = text[at] === '[' ? 'a malformed [index]' : 'an empty segment'
      throw new ApisignError('ERR_ENCRYPTION_CONFIG', `field path ${JSON.stringify(path)} has ${reason}`)
    }
    at = token.lastIndex
    const name = m[1] ?? m[2]
    if (name !== undefined) segments.push(/^\d+$/.test(name) ? Number(name) : name)
    else if (m[3] !== undefined) segments.push(m[3] === '*' ? WILDCARD : Number(m[3]))
    else segments.push((m[4] ?? m[5]) as string)
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
