// The concrete cases of the reference libraries' own test suites, restated against apisign's public API.
// Each test names its source: `node:` is Mastercard/client-encryption-nodejs (test/, HEAD 6a21112),
// `java:` is Mastercard/client-encryption-java (src/test/java/com/mastercard/developer/encryption/, HEAD
// cd54a08). The inputs are made here (our keys from ../shared, sealed by apisign or by the Node reference),
// not copied from those suites.
//
// Where the two references disagree, apisign's choice (also in README "Encrypt payload fields"):
// - Extra fields inside an encrypted object: Node deletes the whole object with them; Java removes only the
//   encryption fields, keeps the rest and removes the object once empty. apisign does what Java does.
// - Decrypting to `$`: both replace the body with the plaintext (Node drops the siblings for `obj: "$"`,
//   Java for `withDecryptionPath(..., "$")`). apisign merges an object plaintext into the response's other
//   top-level fields, so nothing the partner sent is lost; an array or primitive plaintext replaces the body.
// - An out path whose parent is missing: Java throws "Parent path not found"; Node creates the parents.
//   apisign creates them (the Node behaviour; generated clients' bodies often omit empty parents).
// - A decrypt element holding a plain value: both refuse (Java "JSON object expected", Node "Input not
//   valid"); apisign refuses with ERR_ENCRYPTION_CONFIG naming the element. A JWE element may be the token
//   string itself (Node #65), which both references accept in their own way.
// - Paths: Node has dotted names only; Java has Jayway JsonPath (`$['a']`, `[*]`, `$.fields[*]field1`).
//   apisign reads both.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { rmSync } from 'node:fs'
import { createEncryption } from '../../src/encryption/index.js'
import { failure } from '../helpers/failure.js'
import { readShared, sharedPath } from '../helpers/shared.js'

const certPem = readShared('keys/encryption/certificate.pem').toString()
const keyPem = readShared('keys/encryption/private-key-pkcs8.pem').toString()
const dir = mkdtempSync(join(tmpdir(), 'apisign-refsuites-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
/** Write a private file (0600, as apisign demands of key files) and return its path. */
function keyFile(name: string, data: string | Buffer): string {
  const path = join(dir, name)
  writeFileSync(path, data, { mode: 0o600 })
  chmodSync(path, 0o600)
  return path
}
const b64 = (file: string) => Buffer.from(readShared('keys/encryption', file).toString(), 'base64')

type Mapping = { element: string; obj: string }
const legacyBase = {
  encryptedValueFieldName: 'encryptedValue', ivFieldName: 'iv', encryptedKeyFieldName: 'encryptedKey',
  oaepHashingAlgorithmFieldName: 'oaepHashingAlgorithm', publicKeyFingerprintFieldName: 'publicKeyFingerprint',
  oaepPaddingDigestAlgorithm: 'SHA-256', dataEncoding: 'hex', encryptionCertificate: certPem,
}
const legacy = (toDecrypt: Mapping[], toEncrypt: Mapping[] = [], extra: Record<string, unknown> = {}) =>
  createEncryption({ ...legacyBase, privateKey: keyPem, ...extra, paths: [{ path: '/r$', toEncrypt, toDecrypt }] })
const jwe = (toDecrypt: Mapping[], toEncrypt: Mapping[] = [], field = 'encryptedData') =>
  createEncryption({ mode: 'JWE', encryptedValueFieldName: field, encryptionCertificate: certPem, privateKey: keyPem, paths: [{ path: '/r$', toEncrypt, toDecrypt }] })

/** A legacy encrypted object `{ encryptedValue, iv, encryptedKey, oaepHashingAlgorithm, publicKeyFingerprint }` for `value`. */
function sealLegacy(value: unknown, digest = 'SHA-256'): Record<string, unknown> {
  const enc = legacy([], [{ element: 'v', obj: 'sealed' }], { oaepPaddingDigestAlgorithm: digest })
  return (enc.encrypt({ url: '/r', body: { v: value } }).body as { sealed: Record<string, unknown> }).sealed
}
/** A compact JWE for `value`. */
function sealJwe(value: unknown): string {
  const enc = jwe([], [{ element: 'v', obj: 'encryptedData' }])
  return (enc.encrypt({ url: '/r', body: { v: value } }).body as { encryptedData: string }).encryptedData
}
const code = (fn: () => unknown) => failure(fn).code

describe('keyStore holds an unencrypted PEM or DER key, as mastercard-client-encryption accepts', () => {
  const sealed = sealLegacy({ accountNumber: '5123456789012345' })
  const files: Array<[string, string]> = [
    // node: utils.test.js "#getPrivateKey valid pkcs8 pem in keyStore"; field-level-crypto.test.js "with valid config with private pkcs8 pem keystore"
    ['pkcs8 pem', keyFile('k8.pem', keyPem)],
    // node: utils.test.js "#getPrivateKey valid pkcs1 pem in keyStore"; field-level-crypto.test.js "with valid config with private pkcs1 pem keystore"
    ['pkcs1 pem', keyFile('k1.pem', readShared('keys/encryption/private-key-pkcs1.pem'))],
    // node: utils.test.js "#getPrivateKey valid pkcs8 der in keyStore"; jwe-crypto.test.js "with valid config with private pkcs8 der keystore"
    ['pkcs8 der', keyFile('k8.der', b64('private-key-pkcs8.der.b64'))],
    // node: utils.test.js "#getPrivateKey valid pkcs1 der in keyStore"
    ['pkcs1 der', keyFile('k1.der', b64('private-key-pkcs1.der.b64'))],
  ]
  for (const [kind, path] of files) {
    it(`keyStore pointing at a ${kind} key without a password decrypts`, () => {
      const enc = createEncryption({ ...legacyBase, keyStore: path, paths: [{ path: '/r$', toDecrypt: [{ element: 'enc', obj: 'data' }] }] })
      expect(enc.decrypt({ url: '/r', body: { enc: sealed } }).body).toEqual({ data: { accountNumber: '5123456789012345' } })
    })
  }
  const p12 = keyFile('keystore.unknown_extension', b64('keystore.p12.b64'))
  it('a PKCS#12 keystore is recognised by content, whatever its file name', () => {
    // node: utils.test.js "#getPrivateKey valid p12, unknown extension"
    const enc = createEncryption({ ...legacyBase, keyStore: p12, keyStoreAlias: 'keyalias', keyStorePassword: 'keystorepassword', paths: [{ path: '/r$', toDecrypt: [{ element: 'enc', obj: 'data' }] }] })
    expect(enc.decrypt({ url: '/r', body: { enc: sealed } }).body).toEqual({ data: { accountNumber: '5123456789012345' } })
  })
  it('a PKCS#12 keystore without keyStorePassword is a password error naming keyStore', () => {
    // node: utils.test.js "#getPrivateKey empty password" (Keystore password is not set)
    const f = failure(() => createEncryption({ ...legacyBase, keyStore: p12, keyStoreAlias: 'keyalias', paths: [{ path: '/r$', toDecrypt: [] }] }))
    expect(f.code).toBe('ERR_KEY_PASSWORD')
    expect(f.message).toMatch(/^encryption config keyStore: .*PKCS#12 keystore; give its password/)
  })
  it('an alias the keystore does not hold is ERR_KEY_ALIAS_NOT_FOUND', () => {
    // node: utils.test.js "#getPrivateKey valid p12, alias not found"
    expect(code(() => createEncryption({ ...legacyBase, keyStore: p12, keyStoreAlias: 'mykeyalias1', keyStorePassword: 'keystorepassword', paths: [{ path: '/r$' }] }))).toBe('ERR_KEY_ALIAS_NOT_FOUND')
  })
  it('an empty key file in keyStore or privateKey is ERR_KEY_INVALID', () => {
    // node: utils.test.js "#getPrivateKey empty unencrypted file keyStore" / "empty unencrypted file in privateKey"
    const empty = keyFile('empty.pem', '')
    expect(code(() => createEncryption({ ...legacyBase, keyStore: empty, paths: [{ path: '/r$' }] }))).toBe('ERR_KEY_INVALID')
    expect(code(() => createEncryption({ ...legacyBase, privateKey: empty, paths: [{ path: '/r$' }] }))).toBe('ERR_KEY_INVALID')
  })
  it('a keyStorePassword that is not a string is a config error', () => {
    expect(failure(() => createEncryption({ ...legacyBase, keyStore: p12, keyStorePassword: 42, paths: [{ path: '/r$' }] }))).toEqual({
      code: 'ERR_ENCRYPTION_CONFIG', message: 'encryption config: keyStorePassword must be a string',
    })
  })
})

describe('decrypting into the whole body keeps the response\'s other top-level fields', () => {
  it('root element: the encryption fields go, the siblings stay, the plaintext lands at obj', () => {
    // node: field-level-encryption.test.js "decrypt response replacing whole body" (element "", notDelete kept)
    const body = { ...sealLegacy({ accountNumber: '5123456789012345' }), notDelete: 'kept' }
    for (const element of ['', '$']) {
      expect(legacy([{ element, obj: 'encryptedData' }]).decrypt({ url: '/r', body }).body).toEqual({ encryptedData: { accountNumber: '5123456789012345' }, notDelete: 'kept' })
    }
  })
  it('root element and root obj: the plaintext merges into what is left', () => {
    // java: FieldLevelEncryptionWithDefaultJsonEngineTest.testDecryptPayload_ShouldSupportRootAsInputPathAndOutputPath
    const body = { ...sealLegacy({ field1: 'value1', field2: 'value2' }), requestId: 'r-1' }
    expect(legacy([{ element: '$', obj: '$' }]).decrypt({ url: '/r', body }).body).toEqual({ field1: 'value1', field2: 'value2', requestId: 'r-1' })
  })
  it('root element into a field: none of the encryption fields remain at the root', () => {
    // java: FieldLevelEncryptionWithDefaultJsonEngineTest.testDecryptPayload_ShouldSupportRootAsInputPath
    const out = legacy([{ element: '$', obj: '$.encryptedData' }]).decrypt({ url: '/r', body: sealLegacy({ field1: 'value1', field2: 'value2' }) }).body
    expect(out).toEqual({ encryptedData: { field1: 'value1', field2: 'value2' } })
  })
  it('a field into the root: Java and Node replace the body, apisign merges (nothing the partner sent is lost)', () => {
    // java: FieldLevelEncryptionWithDefaultJsonEngineTest.testDecryptPayload_ShouldSupportRootAsOutputPath
    const body = { encryptedData: sealLegacy({ field1: 'value1', field2: 'value2' }), correlationId: 'c-9' }
    expect(legacy([{ element: '$.encryptedData', obj: '$' }]).decrypt({ url: '/r', body }).body).toEqual({ field1: 'value1', field2: 'value2', correlationId: 'c-9' })
  })
  it('JWE: a root object holding the token keeps its other fields', () => {
    // node: field-level-encryption.test.js "decrypt response replacing whole body", in the JWE form
    const body = { encryptedData: sealJwe({ accountNumber: '5123456789012345' }), notDelete: 'kept' }
    expect(jwe([{ element: '$', obj: '$' }]).decrypt({ url: '/r', body }).body).toEqual({ accountNumber: '5123456789012345', notDelete: 'kept' })
    expect(jwe([{ element: '', obj: 'card' }]).decrypt({ url: '/r', body }).body).toEqual({ card: { accountNumber: '5123456789012345' }, notDelete: 'kept' })
  })
  it('root arrays come back as arrays, at the root or at a path', () => {
    // node: field-level-encryption.test.js "decrypt root arrays" / "decrypt root arrays to path";
    // java: FieldLevelEncryptionWithDefaultJsonEngineTest.testEncryptPayload_ShouldEncryptRootArrays / testDecryptPayload_ShouldDecryptRootArrays
    const enc = legacy([{ element: '$', obj: '$' }], [{ element: '$', obj: '$' }])
    const sealed = enc.encrypt({ url: '/r', body: [{}, {}] }).body
    expect(enc.decrypt({ url: '/r', body: sealed }).body).toEqual([{}, {}])
    expect(legacy([{ element: '$', obj: 'path.to.foo' }]).decrypt({ url: '/r', body: sealed }).body).toEqual({ path: { to: { foo: [{}, {}] } } })
    // java: JweEncryptionWithDefaultJsonEngineTest.testDecryptPayload_ShouldDecryptRootArrays (field name differs from the container's)
    const token = sealJwe([{}, {}])
    expect(jwe([{ element: '$.encryptedData', obj: '$' }], [], 'encryptedResponse').decrypt({ url: '/r', body: { encryptedData: token } }).body).toEqual([{}, {}])
  })
})

describe('Jayway-style paths', () => {
  it('$.fields[*]field1 is read as $.fields[*].field1 (legacy)', () => {
    // java: FieldLevelEncryptionWithDefaultJsonEngineTest.testEncryptPayload_ShouldEncryptWithWildcard
    const enc = legacy([{ element: '$.fields[*]encryptedData', obj: '$.fields[*]field1' }], [{ element: '$.fields[*]field1', obj: '$.fields[*]encryptedData' }])
    const body = { fields: [{ field1: 'AAAA', field2: 'asdf' }, { field1: 'BBBB', field2: 'zxcv' }] }
    const sealed = enc.encrypt({ url: '/r', body }).body as { fields: Array<Record<string, unknown>> }
    expect(sealed.fields.map((f) => Object.keys(f).sort())).toEqual([['encryptedData', 'field2'], ['encryptedData', 'field2']])
    expect(enc.decrypt({ url: '/r', body: sealed }).body).toEqual(body)
  })
  it('$.fields[*]field1 into $.fields[*] (JWE: the token sits next to the other fields)', () => {
    // java: JweEncryptionWithDefaultJsonEngineTest.testEncryptPayload_ShouldEncryptWithWildcard
    const enc = jwe([{ element: '$.fields[*]encryptedData', obj: '$.fields[*]field1' }], [{ element: '$.fields[*]field1', obj: '$.fields[*]' }])
    const body = { fields: [{ field1: 'AAAA', field2: 'asdf' }, { field1: 'BBBB', field2: 'zxcv' }] }
    const sealed = enc.encrypt({ url: '/r', body }).body as { fields: Array<Record<string, unknown>> }
    expect(typeof sealed.fields[1]?.['encryptedData']).toBe('string')
    expect(sealed.fields[1]?.['field2']).toBe('zxcv')
    expect(enc.decrypt({ url: '/r', body: sealed }).body).toEqual(body)
  })
  it("bracket-quoted names: $['data3'] and $['data4']['object']", () => {
    // java: FieldLevelEncryptionWithDefaultJsonEngineTest.testEncryptPayload_ShouldSupportBasicExistingJsonPaths
    const enc = legacy([], [
      { element: '$.data1', obj: '$.encryptedData1' },
      { element: 'data2', obj: 'encryptedData2' },
      { element: "$['data3']", obj: "$['encryptedData3']" },
      { element: "$['data4']['object']", obj: "$['encryptedData4']['object']" },
    ])
    const out = enc.encrypt({ url: '/r', body: { data1: {}, data2: {}, data3: {}, data4: { object: {} }, encryptedData4: { object: {} } } }).body as Record<string, Record<string, Record<string, unknown>>>
    expect(Object.keys(out).sort()).toEqual(['data4', 'encryptedData1', 'encryptedData2', 'encryptedData3', 'encryptedData4'])
    expect(out['data4']).toEqual({})
    for (const k of ['encryptedData1', 'encryptedData2', 'encryptedData3']) expect(typeof out[k]?.['encryptedValue']).toBe('string')
    expect(typeof out['encryptedData4']?.['object']?.['encryptedValue']).toBe('string')
  })
  it('element and obj must put [*] at the same place', () => {
    // java: FieldLevelEncryptionConfigBuilderTest.testBuild_ShouldThrowIllegalArgumentException_WhenNotHavingWildcardOnBothDecryptionPaths / ...EncryptionPaths
    expect(code(() => legacy([{ element: '$.fields[*]encryptedData', obj: '$.field1' }]))).toBe('ERR_ENCRYPTION_CONFIG')
    expect(code(() => legacy([], [{ element: '$.fields[*]field1', obj: '$.encryptedData' }]))).toBe('ERR_ENCRYPTION_CONFIG')
  })
})

describe('what an encrypted object leaves behind', () => {
  it('fields that are not encryption fields stay in the encrypted object', () => {
    // java: FieldLevelEncryptionWithDefaultJsonEngineTest.testDecryptPayload_ShouldKeepInputObject_WhenContainsAdditionalFields
    // (node: lib deletes the whole object; apisign follows Java)
    const body = { encryptedData: { ...sealLegacy({}), field: 'fieldValue' } }
    expect(legacy([{ element: 'encryptedData', obj: 'data' }]).decrypt({ url: '/r', body }).body).toEqual({ encryptedData: { field: 'fieldValue' }, data: {} })
  })
  it('fingerprint fields the config does not name are kept', () => {
    // java: FieldLevelEncryptionWithDefaultJsonEngineTest.testDecryptPayload_ShouldKeepCertificateAndKeyFingerprints_WhenFieldNamesNotSetInConfig
    const sealed = sealLegacy({})
    const { publicKeyFingerprintFieldName, ...withoutName } = legacyBase
    expect(sealed[publicKeyFingerprintFieldName]).toMatch(/^[0-9a-f]{64}$/)
    const enc = createEncryption({ ...withoutName, privateKey: keyPem, paths: [{ path: '/r$', toDecrypt: [{ element: 'encryptedData', obj: 'data' }] }] })
    const out = enc.decrypt({ url: '/r', body: { encryptedData: { ...sealed, encryptionCertificateFingerprint: 'abc' } } }).body as Record<string, Record<string, unknown>>
    expect(out['data']).toEqual({})
    expect(Object.keys(out['encryptedData'] ?? {}).sort()).toEqual(['encryptionCertificateFingerprint', 'publicKeyFingerprint'])
  })
  it('an encrypted object left empty is removed', () => {
    // java: FieldLevelEncryptionWithDefaultJsonEngineTest.testDecryptPayload_Nominal; node: payload-encryption.test.js "#decryptBody nested properties, create new obj" (SHA-512)
    const body = { path: { to: { encryptedFoo: sealLegacy({ accountNumber: '5123456789012345' }, 'SHA-512') } } }
    expect(legacy([{ element: 'path.to.encryptedFoo', obj: 'path.to.foo' }]).decrypt({ url: '/r', body }).body).toEqual({ path: { to: { foo: { accountNumber: '5123456789012345' } } } })
  })
  it('JWE: the parent of a token left empty is removed, a parent with other fields is kept', () => {
    // java: JweEncryptionWithDefaultJsonEngineTest.testDecryptPayload_ShouldRemoveParentEncryptedFieldIfEmpty
    const token = sealJwe({ data: {} })
    const enc = jwe([{ element: '$.encryptedDataParent.encryptedData', obj: '$.unencrypted' }])
    expect(enc.decrypt({ url: '/r', body: { encryptedDataParent: { encryptedData: token } } }).body).toEqual({ unencrypted: { data: {} } })
    expect(enc.decrypt({ url: '/r', body: { encryptedDataParent: { encryptedData: token, id: 7 } } }).body).toEqual({ encryptedDataParent: { id: 7 }, unencrypted: { data: {} } })
    // java: JweEncryptionWithDefaultJsonEngineTest.testDecryptPayload_ShouldSupportPayloadWithEncryptedValueParent
    expect(jwe([{ element: '$.encryptedDataParent.encryptedData', obj: '$' }]).decrypt({ url: '/r', body: { encryptedDataParent: { encryptedData: token } } }).body).toEqual({ data: {} })
  })
  it('JWE: an object holding the token and a first-level token string, in one response', () => {
    // node: jwe-encryption.test.js "#decrypt decrypt response" and "decrypt first level element in response"
    const enc = jwe([{ element: 'foo.elem1', obj: 'foo' }, { element: 'encryptedData', obj: 'decryptedData' }])
    const body = { encryptedData: sealJwe({ accountNumber: '5123456789012345' }), foo: { elem1: { encryptedData: sealJwe({ accountNumber: '5123456789012345' }) } } }
    expect(enc.decrypt({ url: '/r', body }).body).toEqual({ foo: { accountNumber: '5123456789012345' }, decryptedData: { accountNumber: '5123456789012345' } })
  })
  it('JWE in place (MDES form): the encrypted object becomes the token, its siblings stay', () => {
    // node: jwe-encryption.test.js "#encrypt encrypt body payload"
    const enc = jwe([{ element: 'elem1.encryptedData', obj: 'elem1.encryptedData' }], [{ element: 'elem1.encryptedData', obj: 'elem1' }])
    const body = { elem1: { encryptedData: { accountNumber: '5123456789012345' }, shouldBeThere: 'shouldBeThere' } }
    const sealed = enc.encrypt({ url: '/r', body }).body as { elem1: Record<string, unknown> }
    expect(sealed.elem1['shouldBeThere']).toBe('shouldBeThere')
    expect(typeof sealed.elem1['encryptedData']).toBe('string')
    expect(enc.decrypt({ url: '/r', body: sealed }).body).toEqual(body)
  })
})

describe('a configured decrypt path that holds a plain value is an error, not a pass-through', () => {
  it('legacy: a string where the encrypted object should be', () => {
    // java: FieldLevelEncryptionWithDefaultJsonEngineTest.testDecryptPayload_ShouldThrowIllegalArgumentException_WhenInPathIsPathToJsonPrimitive
    expect(failure(() => legacy([{ element: 'encryptedData', obj: 'data' }]).decrypt({ url: '/r', body: { encryptedData: 'string' } }))).toEqual({
      code: 'ERR_ENCRYPTION_CONFIG',
      message: 'encryption config: toDecrypt element "encryptedData" holds a plain value (type string), not an encrypted object (check the path)',
    })
  })
  it('legacy: a number, a boolean or an array, including a whole body that is not an object', () => {
    for (const value of [1984, false, ['x']]) expect(code(() => legacy([{ element: 'encryptedData', obj: 'data' }]).decrypt({ url: '/r', body: { encryptedData: value } }))).toBe('ERR_ENCRYPTION_CONFIG')
    expect(code(() => legacy([{ element: '$', obj: '$' }]).decrypt({ url: '/r', body: 'plain text' }))).toBe('ERR_ENCRYPTION_CONFIG')
  })
  it('JWE: a number where the token should be, or a non-string token field; a string that is no JWE is ERR_JWE_INVALID', () => {
    // node: jwe-crypto.test.js "#decryptData() with null" / "with empty string" (refused); java: ...WhenInPathIsPathToJsonPrimitive
    const enc = jwe([{ element: 'encryptedData', obj: 'data' }])
    expect(code(() => enc.decrypt({ url: '/r', body: { encryptedData: 42 } }))).toBe('ERR_ENCRYPTION_CONFIG')
    expect(failure(() => jwe([{ element: 'wrap', obj: 'data' }]).decrypt({ url: '/r', body: { wrap: { encryptedData: 42 } } })).message).toBe(
      'encryption config: toDecrypt element "wrap.encryptedData" holds a plain value (type number), not an encrypted token or object (check the path)',
    )
    expect(code(() => enc.decrypt({ url: '/r', body: { encryptedData: 'string' } }))).toBe('ERR_JWE_INVALID')
  })
  it('absent, null, or an object without the encrypted value: nothing to decrypt, the body is returned as it is', () => {
    // java: testDecryptPayload_ShouldDoNothing_WhenInPathDoesNotExistInPayload / ..._WhenEncryptedValueDoesNotExistInPayload;
    // node: field-level-encryption.test.js "decrypt response with no valid config" / "decrypt with header when node not found in body"
    const enc = legacy([{ element: 'encryptedData', obj: 'data' }])
    for (const body of [{ data: {} }, { encryptedData: null }, { encryptedData: { iv: 'ba57', oaepHashingAlgorithm: 'SHA256' } }]) {
      expect(enc.decrypt({ url: '/r', body }).body).toBe(body)
    }
    // node: field-level-encryption.test.js "decrypt without config": no endpoint matches, a string body passes
    expect(enc.decrypt({ url: '/foobar', body: 'body' }).body).toBe('body')
  })
})

describe('the other concrete cases of the two suites', () => {
  it('primitives decrypt to their type, to another path or to the same path', () => {
    // java: testDecryptPayload_ShouldDecryptPrimitiveTypes_String/_Integer/_Boolean and their _ForSamePath twins;
    // node: payload-encryption.test.js "#decryptBody primitive type"; java issue #3
    for (const value of ['string', 1984, false]) {
      expect(legacy([{ element: 'encryptedData', obj: 'data' }]).decrypt({ url: '/r', body: { encryptedData: sealLegacy(value) } }).body).toEqual({ data: value })
      expect(legacy([{ element: 'data', obj: 'data' }]).decrypt({ url: '/r', body: { data: sealLegacy(value) } }).body).toEqual({ data: value })
    }
  })
  it('arrays decrypt to the same or another path', () => {
    // java: testDecryptPayload_ShouldDecryptArrayFields / _ForSamePath; testEncryptPayload_ShouldEncryptArrayFields
    expect(legacy([{ element: '$.encryptedItems', obj: '$.items' }]).decrypt({ url: '/r', body: { encryptedItems: sealLegacy([{}, {}]) } }).body).toEqual({ items: [{}, {}] })
    expect(legacy([{ element: '$.items', obj: '$.items' }]).decrypt({ url: '/r', body: { items: sealLegacy([{}, {}]) } }).body).toEqual({ items: [{}, {}] })
  })
  it('an object plaintext merges into an obj that already holds data', () => {
    // java: testDecryptPayload_ShouldMergeJsonObjects_WhenOutPathAlreadyContainData
    const body = { encryptedData: sealLegacy({ field1: 'field1Value', field2: 'field2Value' }), data: { field1: 'previousField1Value', field3: 'field3Value' } }
    expect(legacy([{ element: 'encryptedData', obj: 'data' }]).decrypt({ url: '/r', body }).body).toEqual({ data: { field1: 'field1Value', field2: 'field2Value', field3: 'field3Value' } })
  })
  it('decrypting to the same path overwrites the encrypted object', () => {
    // java: testDecryptPayload_ShouldOverwriteInputObject_WhenOutPathSameAsInPath_ObjectData
    const body = { encryptedData: sealLegacy({ field1: 'field1Value', field2: 'field2Value' }) }
    expect(legacy([{ element: 'encryptedData', obj: 'encryptedData' }]).decrypt({ url: '/r', body }).body).toEqual({ encryptedData: { field1: 'field1Value', field2: 'field2Value' } })
  })
  it('a payload without its OAEP digest field is decrypted with the configured digest', () => {
    // java: testDecryptPayload_ShouldUseOaepDigestAlgorithmFromConfig_WhenOaepDigestAlgorithmNotReturnedInPayload
    const { oaepHashingAlgorithm, ...sealed } = sealLegacy({ a: 1 }, 'SHA-512')
    expect(oaepHashingAlgorithm).toBe('SHA512')
    expect(legacy([{ element: 'e', obj: 'd' }], [], { oaepPaddingDigestAlgorithm: 'SHA-512' }).decrypt({ url: '/r', body: { e: sealed } }).body).toEqual({ d: { a: 1 } })
  })
  it('the wrong private key is a uniform decryption failure', () => {
    // java: testDecryptPayload_ShouldThrowEncryptionException_WhenDecryptionErrorOccurs ("Failed to unwrap secret key!")
    const enc = legacy([{ element: 'e', obj: 'd' }], [], { privateKey: readShared('keys/encryption/other-private-key-pkcs8.pem') })
    expect(code(() => enc.decrypt({ url: '/r', body: { e: sealLegacy({ a: 1 }) } }))).toBe('ERR_LEGACY_DECRYPTION_FAILED')
  })
  it('several encrypted fields each get their own key and IV', () => {
    // java: testEncryptPayload_ShouldSupportMultipleEncryptions
    const enc = legacy([], [{ element: 'data1', obj: 'encryptedData1' }, { element: 'data2', obj: 'encryptedData2' }])
    const out = enc.encrypt({ url: '/r', body: { data1: {}, data2: {}, encryptedData1: {}, encryptedData2: {} } }).body as Record<string, Record<string, string>>
    expect(Object.keys(out).sort()).toEqual(['encryptedData1', 'encryptedData2'])
    expect(out['encryptedData1']?.['iv']).not.toBe(out['encryptedData2']?.['iv'])
    expect(out['encryptedData1']?.['encryptedKey']).not.toBe(out['encryptedData2']?.['encryptedKey'])
  })
  it('an element missing from the payload encrypts nothing', () => {
    // java: testEncryptPayload_ShouldDoNothing_WhenInPathDoesNotExistInPayload; node: payload-encryption.test.js "#encryptBody elem not found"
    const body = { data: {}, encryptedData: {} }
    expect(legacy([], [{ element: 'objectNotInPayload', obj: 'encryptedData' }]).encrypt({ url: '/r', body }).body).toEqual(body)
  })
  it('an obj whose parents are missing is created (Node); Java would throw "Parent path not found"', () => {
    // node: payload-encryption.test.js "#encryptBody destination obj not exists"; java: testEncryptPayload_ShouldThrowIllegalArgumentException_WhenOutPathParentDoesNotExistInPayload;
    // java: JweEncryptionWithDefaultJsonEngineTest.testEncryptPayload_ShouldCreateEncryptedValue_WhenOutPathParentDoesNotExistInPayload
    const out = legacy([], [{ element: 'data', obj: 'parentNotInPayload.encryptedData' }]).encrypt({ url: '/r', body: { data: {}, keep: 1 } }).body as Record<string, Record<string, Record<string, unknown>>>
    expect(out['keep']).toBe(1)
    expect(typeof out['parentNotInPayload']?.['encryptedData']?.['encryptedValue']).toBe('string')
    const root = jwe([], [{ element: '$', obj: '$.encryptedDataParent' }]).encrypt({ url: '/r', body: { data: {} } }).body as Record<string, Record<string, unknown>>
    expect(Object.keys(root)).toEqual(['encryptedDataParent'])
    expect(typeof root['encryptedDataParent']?.['encryptedData']).toBe('string')
  })
  it('an unsupported OAEP digest is refused when the config is built', () => {
    // java: FieldLevelEncryptionConfigBuilderTest.testBuild_ShouldThrowIllegalArgumentException_WhenUnsupportedOaepPaddingDigestAlgorithm
    // (the Node reference accepts any string and silently uses SHA-1)
    expect(code(() => legacy([], [], { oaepPaddingDigestAlgorithm: 'MD5' }))).toBe('ERR_ENCRYPTION_CONFIG')
  })
  it('an endpoint regex matches a full URL anywhere, as the Node reference does', () => {
    // node: utils.test.js "#utils.hasConfig when path has wildcard" ("/mappings/*" against https://api.example.com/mappings/0123456)
    const enc = createEncryption({ ...legacyBase, privateKey: keyPem, paths: [{ path: '/mappings/*', toEncrypt: [{ element: 'elem2.encryptedData', obj: 'elem2' }] }] })
    expect(enc.matches('https://api.example.com/mappings/0123456')).toEqual({ encrypt: true, decrypt: false })
    expect(enc.matches('/endpoint')).toEqual({ encrypt: false, decrypt: false })
  })
})

describe('encrypt-side cases', () => {
  it('an obj that already holds data is merged into; old encryption fields are replaced', () => {
    // java: testEncryptPayload_ShouldMergeJsonObjects_WhenOutPathAlreadyContainData
    const out = legacy([], [{ element: 'data', obj: 'encryptedData' }]).encrypt({ url: '/r', body: { data: {}, encryptedData: { field1: 'field1Value', iv: 'previousIvValue' } } }).body as { encryptedData: Record<string, string> }
    expect(out.encryptedData['field1']).toBe('field1Value')
    expect(out.encryptedData['iv']).toMatch(/^[0-9a-f]{32}$/)
  })
  it('in place (element x.encryptedValue into x): x gets the ciphertext and every encryption field', () => {
    // java: testEncryptPayload_ShouldOverwriteInputObject_WhenOutPathSameAsInPath; node: field-level-encryption.test.js "encrypt property of primitive type"
    const enc = legacy([{ element: 'elem1', obj: 'elem1.encryptedValue' }], [{ element: 'elem1.encryptedValue', obj: 'elem1' }])
    const out = enc.encrypt({ url: '/r', body: { elem1: { encryptedValue: 'plaintext', shouldBeThere: 'shouldBeThere' } } }).body as { elem1: Record<string, string> }
    expect(Object.keys(out.elem1).sort()).toEqual(['encryptedKey', 'encryptedValue', 'iv', 'oaepHashingAlgorithm', 'publicKeyFingerprint', 'shouldBeThere'])
    expect(enc.decrypt({ url: '/r', body: out }).body).toEqual({ elem1: { encryptedValue: 'plaintext', shouldBeThere: 'shouldBeThere' } })
  })
  it('primitives encrypt and come back with their type', () => {
    // java: testEncryptPayload_ShouldEncryptPrimitiveTypes ("string", false, 1984)
    const enc = legacy([{ element: 'encryptedData', obj: 'data' }], [{ element: 'data', obj: 'encryptedData' }])
    for (const data of ['string', false, 1984]) {
      const sealed = enc.encrypt({ url: '/r', body: { data, encryptedData: {} } }).body as Record<string, unknown>
      expect(sealed).not.toHaveProperty('data')
      expect(enc.decrypt({ url: '/r', body: sealed }).body).toEqual({ data })
    }
  })
  it('header mode: the whole body into one field, the parameters in headers; and back, headers in any case', () => {
    // node: field-level-encryption.test.js "encrypt with header" and "encrypt root arrays with header config"
    const headerConfig = {
      ...legacyBase, ivFieldName: undefined, encryptedKeyFieldName: undefined, oaepHashingAlgorithmFieldName: undefined, publicKeyFingerprintFieldName: undefined,
      encryptedValueFieldName: 'data', oaepPaddingDigestAlgorithm: 'SHA-512', privateKey: keyPem, publicKeyFingerprintType: 'certificate',
      ivHeaderName: 'x-iv', encryptedKeyHeaderName: 'x-encrypted-key', oaepHashingAlgorithmHeaderName: 'x-oaep-hashing-algorithm', publicKeyFingerprintHeaderName: 'x-public-key-fingerprint',
      paths: [{ path: '/resource$', toEncrypt: [{ element: '', obj: 'encrypted_payload' }], toDecrypt: [{ element: 'encrypted_payload', obj: '' }] }, { path: '/array-resp$', toEncrypt: [{ element: '$', obj: '$' }], toDecrypt: [{ element: '$', obj: '$' }] }],
    }
    const enc = createEncryption(JSON.parse(JSON.stringify(headerConfig)) as Record<string, unknown>)
    const body = { encrypted_payload: { data: { accountNumber: '5123456789012345' } } }
    const sealed = enc.encrypt({ url: '/resource', body })
    expect(Object.keys(sealed.headers).sort()).toEqual(['x-encrypted-key', 'x-iv', 'x-oaep-hashing-algorithm', 'x-public-key-fingerprint'])
    expect(sealed.headers['x-oaep-hashing-algorithm']).toBe('SHA512')
    expect(Object.keys(sealed.body as object)).toEqual(['encrypted_payload'])
    const upper = Object.fromEntries(Object.entries(sealed.headers).map(([k, v]) => [k.toUpperCase(), v]))
    expect(enc.decrypt({ url: '/resource', body: sealed.body, headers: upper }).body).toEqual(body)
    const arrays = enc.encrypt({ url: '/array-resp', body: [{}, {}] })
    expect(enc.decrypt({ url: '/array-resp', body: arrays.body, headers: arrays.headers }).body).toEqual([{}, {}])
  })
})

describe('made by the Node reference itself, read by apisign', () => {
  const require = createRequire(import.meta.url)
  const { FieldLevelEncryption } = require('mastercard-client-encryption') as { FieldLevelEncryption: new (c: unknown) => { encrypt(e: string, h: unknown, b: unknown): { body: unknown } } }
  it('a reference-encrypted root body with a sibling added by the partner keeps the sibling', () => {
    // node: field-level-encryption.test.js "decrypt response replacing whole body", with the reference's own output
    const config = {
      ...legacyBase, encryptedValueFieldName: 'encryptedData', publicKeyFingerprintType: 'certificate',
      encryptionCertificate: sharedPath('keys/encryption/certificate.pem'), privateKey: sharedPath('keys/encryption/private-key-pkcs8.pem'),
      paths: [{ path: '/r$', toEncrypt: [{ element: '$', obj: '$' }], toDecrypt: [{ element: '', obj: 'encryptedData' }] }],
    }
    const made = new FieldLevelEncryption(config).encrypt('/r', {}, { accountNumber: '5123456789012345' }).body as Record<string, unknown>
    const ours = createEncryption({ ...config, encryptionCertificate: certPem, privateKey: keyPem })
    expect(ours.decrypt({ url: '/r', body: { ...made, notDelete: 'kept' } }).body).toEqual({ encryptedData: { accountNumber: '5123456789012345' }, notDelete: 'kept' })
  })
})
