// Issue 15 item 1: no folder of src/ imports one that imports it back. Checked over what ships (dist/: the
// compiled .js, static and dynamic imports, and the .d.ts, where type-only imports survive), folder by folder.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../helpers/shared.js'

const DIST = join(REPO_ROOT, 'dist')
// `import x from '...'`, `export { x } from '...'`, `import '...'`, `import('...')`, `import type ... from`.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : /\.(js|d\.ts)$/.test(e.name) ? [join(dir, e.name)] : []))
}

/** The unit of the check: the first folder under dist/, or the file itself for a top-level file (errors, index). */
const unitOf = (file: string) => {
  const parts = relative(DIST, file).split(sep)
  return parts.length === 1 ? (parts[0] as string).replace(/\.(js|d\.ts)$/, '') : (parts[0] as string)
}

type Edges = Map<string, Map<string, string>> // from -> to -> one file edge that proves it

function folderGraph(): Edges {
  const edges: Edges = new Map()
  for (const file of files(DIST)) {
    const from = unitOf(file)
    for (const match of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
      const target = resolve(dirname(file), match[2] as string)
      // A specifier that names no compiled module is text (a TSDoc @example), not an import.
      if (!existsSync(target)) continue
      const to = unitOf(target)
      if (to === from) continue
      const out = edges.get(from) ?? new Map<string, string>()
      if (!out.has(to)) out.set(to, `${relative(DIST, file)} -> ${match[2]}`)
      edges.set(from, out)
    }
  }
  return edges
}

/** Every cycle's strongly connected component (Tarjan), each with the file edges inside it. */
function cycles(edges: Edges): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const out: string[][] = []
  let n = 0
  const nodes = new Set<string>([...edges.keys(), ...[...edges.values()].flatMap((m) => [...m.keys()])])
  const visit = (v: string) => {
    index.set(v, n)
    low.set(v, n++)
    stack.push(v)
    onStack.add(v)
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number))
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = []
      let w: string
      do {
        w = stack.pop() as string
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1) {
        const inside = new Set(component)
        out.push(component.flatMap((a) => [...(edges.get(a) ?? [])].filter(([b]) => inside.has(b)).map(([b, proof]) => `${a} -> ${b} (${proof})`)))
      }
    }
  }
  for (const v of nodes) if (!index.has(v)) visit(v)
  return out
}

describe('the import graph between src/ folders (compiled, dist/)', () => {
  it('the cycle finder finds a planted cycle and passes a layered graph', () => {
    const graph = (pairs: Array<[string, string]>): Edges => {
      const e: Edges = new Map()
      for (const [a, b] of pairs) e.set(a, (e.get(a) ?? new Map()).set(b, `${a}/x.js -> ../${b}/y.js`))
      return e
    }
    expect(cycles(graph([['http', 'schemes'], ['schemes', 'pipeline'], ['verify', 'schemes']]))).toEqual([])
    const found = cycles(graph([['http', 'schemes'], ['schemes', 'verify'], ['verify', 'schemes'], ['schemes', 'pipeline']]))
    expect(found).toHaveLength(1)
    expect(found[0]?.sort()).toEqual(['schemes -> verify (schemes/x.js -> ../verify/y.js)', 'verify -> schemes (verify/x.js -> ../schemes/y.js)'])
  })

  it('has no cycle', () => {
    expect(existsSync(join(DIST, 'index.js')), 'run npm run build first (npm test does)').toBe(true)
    const edges = folderGraph()
    // The graph is real: the transports sit on the pipeline and the schemes, the schemes on the seam types.
    expect(edges.get('http')?.has('pipeline')).toBe(true)
    expect(edges.get('schemes')?.has('pipeline')).toBe(true)
    expect(cycles(edges)).toEqual([])
  })

  it('the seam types import nothing but errors', () => {
    for (const ext of ['js', 'd.ts']) {
      const text = readFileSync(join(DIST, 'pipeline', `types.${ext}`), 'utf8')
      expect([...text.matchAll(SPECIFIER)].map((m) => m[2])).toEqual(ext === 'js' ? [] : ['../errors.js'])
    }
  })
})
