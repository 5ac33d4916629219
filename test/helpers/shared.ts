// Access to ../shared (vectors, keys, wycheproof) from the repo root, as CI lays it out.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)))
export const SHARED = resolve(REPO_ROOT, '../shared')

export function sharedPath(...parts: string[]): string {
  return resolve(SHARED, ...parts)
}

export function readShared(...parts: string[]): Buffer {
  return readFileSync(sharedPath(...parts))
}

export function readSharedJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(readShared(...parts).toString('utf8')) as T
}
