// What a call that must fail threw: an ApisignError's code, or 'TypeError' for programmer misuse.
import { isApisignError } from '../../src/errors.js'

/**
 * Run `fn`, expect it to throw an ApisignError or a TypeError, and return its code and message;
 * `inspect` sees each ApisignError first (e.g. to assert its message holds no secret).
 */
export function failure(fn: () => unknown, inspect: (message: string) => void = () => undefined): { code: string; message: string } {
  try {
    fn()
  } catch (error) {
    if (isApisignError(error)) {
      inspect(error.message)
      return { code: error.code, message: error.message }
    }
    if (error instanceof TypeError) return { code: 'TypeError', message: error.message }
    throw error
  }
  throw new Error('expected a failure')
}

/** Await `promise`, expect it to reject, and return what it rejected with. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (e) {
    return e
  }
  throw new Error('expected a rejection')
}
