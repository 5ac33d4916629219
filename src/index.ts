// Curated root entry point: named re-exports only (no `export *`), see reference/anchors-style.md §9 rule 1.
export { ApisignError, isApisignError, describeType } from './errors.js'
export type { ApisignErrorCode, ApisignErrorOptions } from './errors.js'
export { parseDuration } from './option-values.js'
export type { Duration } from './option-values.js'
