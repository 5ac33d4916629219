// Loaded with `node --import` by bench/oauth1.mjs into a process of its own, before anything else: RSA is
// replaced by a hashing stand-in (SHA-256 of the data to sign), for apisign and the reference alike, so
// what remains of each case is its non-RSA work (issue 15 item 7). Benchmarks only; never the library.
import { createRequire, syncBuiltinESMExports } from 'node:module'

const crypto = createRequire(import.meta.url)('node:crypto')
const { createHash } = crypto
const stand = (data) => createHash('sha256').update(data).digest()
crypto.sign = (_algorithm, data, _key, callback) => {
  const signature = stand(data)
  if (typeof callback === 'function') return void process.nextTick(callback, null, signature)
  return signature
}
crypto.createSign = () => {
  const hash = createHash('sha256')
  return {
    update(data) {
      hash.update(data)
      return this
    },
    sign(_key, encoding) {
      const signature = hash.digest()
      return encoding === undefined ? signature : signature.toString(encoding)
    },
  }
}
syncBuiltinESMExports()
