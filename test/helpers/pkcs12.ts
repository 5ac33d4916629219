// Builds PKCS#12 keystores of shapes forge's toPkcs12Asn1 cannot make (non-RSA keys, several keys, bags
// without names, unreadable certificates), so the keystore reader's branches are tested on real PFX bytes
// (RFC 7292 §4: PFX { version 3, authSafe, macData } with SafeContents of keyBag / shrouded keyBag / certBag).
import { sign } from 'node:crypto'
import forge from 'node-forge'

const { asn1, pki } = forge
const C = asn1.Class
const T = asn1.Type

export interface KeyBagSpec {
  /** PKCS#8 PrivateKeyInfo DER (any algorithm, or deliberately unreadable bytes). */
  readonly pkcs8: Uint8Array
  readonly name?: string
  /** localKeyId, hex. */
  readonly localKeyId?: string
  /** Encrypt as a pkcs8ShroudedKeyBag with the keystore password (default true). */
  readonly shrouded?: boolean
}

export interface CertBagSpec {
  /** Certificate DER (or any DER, to make a certificate nobody can read). */
  readonly der: Uint8Array
  readonly name?: string
  readonly localKeyId?: string
}

const bin = (bytes: Uint8Array) => Buffer.from(bytes).toString('binary')
const oid = (name: string) => asn1.create(C.UNIVERSAL, T.OID, false, asn1.oidToDer(pki.oids[name] as string).getBytes())

function attributes(name: string | undefined, localKeyId: string | undefined) {
  const attrs: forge.asn1.Asn1[] = []
  if (localKeyId !== undefined) {
    attrs.push(
      asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [
        oid('localKeyId'),
        asn1.create(C.UNIVERSAL, T.SET, true, [asn1.create(C.UNIVERSAL, T.OCTETSTRING, false, forge.util.hexToBytes(localKeyId))]),
      ]),
    )
  }
  if (name !== undefined) {
    attrs.push(
      asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [
        oid('friendlyName'),
        asn1.create(C.UNIVERSAL, T.SET, true, [asn1.create(C.UNIVERSAL, T.BMPSTRING, false, name)]),
      ]),
    )
  }
  return attrs.length === 0 ? [] : [asn1.create(C.UNIVERSAL, T.SET, true, attrs)]
}

const dataContentInfo = (inner: forge.asn1.Asn1) =>
  asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [
    oid('data'),
    asn1.create(C.CONTEXT_SPECIFIC, 0, true, [asn1.create(C.UNIVERSAL, T.OCTETSTRING, false, asn1.toDer(inner).getBytes())]),
  ])

/** A PFX with the given bags, MAC-protected (SHA-1 HMAC, as OpenSSL's legacy default) with `password`. */
export function buildPkcs12(password: string, keys: readonly KeyBagSpec[], certs: readonly CertBagSpec[] = []): Buffer {
  const keyBags = keys.map((k) => {
    const info = asn1.fromDer(bin(k.pkcs8))
    const shrouded = k.shrouded ?? true
    return asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [
      oid(shrouded ? 'pkcs8ShroudedKeyBag' : 'keyBag'),
      asn1.create(C.CONTEXT_SPECIFIC, 0, true, [shrouded ? pki.encryptPrivateKeyInfo(info, password, { algorithm: 'aes256' }) : info]),
      ...attributes(k.name, k.localKeyId),
    ])
  })
  const certBags = certs.map((c) =>
    asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [
      oid('certBag'),
      asn1.create(C.CONTEXT_SPECIFIC, 0, true, [
        asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [
          oid('x509Certificate'),
          asn1.create(C.CONTEXT_SPECIFIC, 0, true, [asn1.create(C.UNIVERSAL, T.OCTETSTRING, false, bin(c.der))]),
        ]),
      ]),
      ...attributes(c.name, c.localKeyId),
    ]),
  )
  const contents: forge.asn1.Asn1[] = []
  if (certBags.length > 0) contents.push(dataContentInfo(asn1.create(C.UNIVERSAL, T.SEQUENCE, true, certBags)))
  if (keyBags.length > 0) contents.push(dataContentInfo(asn1.create(C.UNIVERSAL, T.SEQUENCE, true, keyBags)))
  const safe = asn1.create(C.UNIVERSAL, T.SEQUENCE, true, contents)

  const salt = forge.random.getBytesSync(8)
  const iterations = 2048
  const macKey = forge.pkcs12.generateKey(password, forge.util.createBuffer(salt), 3, iterations, 20)
  const hmac = forge.hmac.create()
  hmac.start('sha1', macKey)
  hmac.update(asn1.toDer(safe).getBytes())
  const macData = asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [
    asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [
      asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [oid('sha1'), asn1.create(C.UNIVERSAL, T.NULL, false, '')]),
      asn1.create(C.UNIVERSAL, T.OCTETSTRING, false, hmac.digest().getBytes()),
    ]),
    asn1.create(C.UNIVERSAL, T.OCTETSTRING, false, salt),
    asn1.create(C.UNIVERSAL, T.INTEGER, false, asn1.integerToDer(iterations).getBytes()),
  ])
  const pfx = asn1.create(C.UNIVERSAL, T.SEQUENCE, true, [
    asn1.create(C.UNIVERSAL, T.INTEGER, false, asn1.integerToDer(3).getBytes()),
    dataContentInfo(safe),
    macData,
  ])
  return Buffer.from(asn1.toDer(pfx).getBytes(), 'binary')
}

/**
 * A real X.509 certificate (RSA key, self-signed) whose signature algorithm forge does not know
 * (RSASSA-PKCS1-v1_5 with SHA3-256, RFC 8692's sibling OID 2.16.840.1.101.3.4.3.14): node reads it, forge
 * keeps only its ASN.1.
 */
export function sha3SignedCertificate(privateKeyPem: string): Buffer {
  const key = pki.privateKeyFromPem(privateKeyPem) as forge.pki.rsa.PrivateKey
  const cert = pki.createCertificate()
  cert.publicKey = pki.setRsaPublicKey(key.n, key.e)
  cert.serialNumber = '01'
  cert.validity.notBefore = new Date('2024-01-01T00:00:00Z')
  cert.validity.notAfter = new Date('2034-01-01T00:00:00Z')
  const subject = [{ name: 'commonName', value: 'apisign sha3 test' }]
  cert.setSubject(subject)
  cert.setIssuer(subject)
  const sha3Rsa = '2.16.840.1.101.3.4.3.14'
  cert.siginfo.algorithmOid = sha3Rsa
  cert.signatureOid = sha3Rsa
  // getTBSCertificate is public in forge but missing from its type definitions.
  const { getTBSCertificate } = pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }
  const tbs = Buffer.from(asn1.toDer(getTBSCertificate(cert)).getBytes(), 'binary')
  // Signed with node:crypto (forge has no SHA3); the signature is real, though nothing here verifies it.
  cert.signature = sign('sha3-256', tbs, privateKeyPem).toString('binary')
  return Buffer.from(asn1.toDer(pki.certificateToAsn1(cert)).getBytes(), 'binary')
}
