// "Typed public API with TSDoc on every export and an @example" (developers' guide): checked over what the
// package's entry points actually export, through the TypeScript compiler's own view of the docs.
import { join } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../helpers/shared.js'

const ENTRIES = ['index', 'oauth1/index', 'keys/index', 'encryption/index', 'http/index', 'profiles/index', 'verify/index', 'testing/index', 'codegen/index', 'schemes/index', 'quotas/index', 'errors']

function exportedDocs() {
  const files = ENTRIES.map((e) => join(REPO_ROOT, 'src', `${e}.ts`))
  const program = ts.createProgram(files, { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true })
  const checker = program.getTypeChecker()
  const out: Array<{ entry: string; name: string; kind: 'value' | 'type'; documented: boolean; example: boolean }> = []
  for (const [i, file] of files.entries()) {
    const source = program.getSourceFile(file)
    const moduleSymbol = source === undefined ? undefined : checker.getSymbolAtLocation(source)
    if (moduleSymbol === undefined) throw new Error(`cannot read ${file}`)
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
      const documented = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim().length > 0
      const example = symbol.getJsDocTags(checker).some((t) => t.name === 'example')
      const kind = symbol.flags & ts.SymbolFlags.Value ? 'value' : 'type'
      out.push({ entry: ENTRIES[i] as string, name: exported.name, kind, documented, example })
    }
  }
  return out
}

describe('public API documentation', () => {
  const docs = exportedDocs()
  it('every export of every entry point has a TSDoc comment', () => {
    expect(docs.length).toBeGreaterThan(150)
    expect(docs.filter((d) => !d.documented).map((d) => `${d.entry}: ${d.name}`)).toEqual([])
  })
  it('every exported function, class and constant has an @example', () => {
    expect(docs.filter((d) => d.kind === 'value' && !d.example).map((d) => `${d.entry}: ${d.name}`)).toEqual([])
  })
})
