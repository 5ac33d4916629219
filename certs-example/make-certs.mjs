#!/usr/bin/env node
// Makes THROWAWAY test material for the demo and local experiments: never real keys.
// `npm run certs` (or `node certs-example/make-certs.mjs [--out DIR] [--force]`).
// node:crypto makes the keys; node-forge only does what node:crypto cannot: create X.509 certificates,
// a CSR and a PKCS#12 keystore (PRODUCT.md dependency rule).
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import forge from 'node-forge'

const HERE = dirname(fileURLToPath(import.meta.url))
/** The files this script writes, relative to the output folder. */
export const FILES = Object.freeze({
  signingKey: 'signing-key.pem',
  signingCert: 'signing-cert.pem',
  signingCsr: 'signing-key.csr',
  keystore: 'signing.p12',
  keystorePassword: 'signing.p12.password',
  encryptionKey: 'encryption-key.pem',
  encryptionCert: 'encryption-cert.pem',
  // The partner's own encryption key pair (a real MDES set-up has two): the client encrypts requests to
  // partnerEncryptionCert, the partner decrypts them with partnerEncryptionKey; responses go the other way,
  // to encryptionCert (yours), decrypted with encryptionKey.
  partnerEncryptionKey: 'partner-encryption-key.pem',
  partnerEncryptionCert: 'partner-encryption-cert.pem',
  // TLS: a local test CA, a server certificate for 127.0.0.1/localhost/::1 (the mock gateway's) and a
  // client certificate (mTLS), both issued by that CA; the client pair also as a PKCS#12.
  caKey: 'ca-key.pem',
  caCert: 'ca-cert.pem',
  serverKey: 'server-key.pem',
  serverCert: 'server-cert.pem',
  clientKey: 'client-key.pem',
  clientCert: 'client-cert.pem',
  clientKeystore: 'client.p12',
  clientKeystorePassword: 'client.p12.password',
})
export const KEYSTORE_ALIAS = 'keyalias'

function writePrivate(path, data) {
  writeFileSync(path, data, { mode: 0o600 })
  chmodSync(path, 0o600) // an existing file keeps its mode on write; private material is always 0600
}

function selfSigned(keys, commonName, days) {
  const cert = forge.pki.createCertificate()
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKey)
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`
  cert.validity.notBefore = new Date(Date.now() - 60_000)
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000)
  const subject = [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'apisign throwaway test material' },
  ]
  cert.setSubject(subject)
  cert.setIssuer(subject)
  cert.setExtensions([{ name: 'basicConstraints', cA: false }, { name: 'keyUsage', digitalSignature: true, keyEncipherment: true }])
  cert.sign(forge.pki.privateKeyFromPem(keys.privateKey), forge.md.sha256.create())
  return cert
}

/** A certificate for `keys` issued by the CA (`ca`: { cert, key } as forge objects). */
function issued(keys, commonName, days, ca, extensions) {
  const cert = forge.pki.createCertificate()
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKey)
  cert.serialNumber = `02${randomBytes(8).toString('hex')}`
  cert.validity.notBefore = new Date(Date.now() - 60_000)
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000)
  cert.setSubject([{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'apisign throwaway test material' }])
  cert.setIssuer(ca.cert.subject.attributes)
  cert.setExtensions([{ name: 'basicConstraints', cA: false }, ...extensions])
  cert.sign(ca.key, forge.md.sha256.create())
  return cert
}

function rsaPair() {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  })
}

/**
 * Create the throwaway material in `outDir` (default `certs-example/out`). Existing material is kept
 * unless `force` is set. Returns the absolute paths and the keystore alias and password.
 */
export function makeCerts({ outDir = join(HERE, 'out'), force = false } = {}) {
  const dir = resolve(outDir)
  const paths = Object.fromEntries(Object.entries(FILES).map(([k, f]) => [k, join(dir, f)]))
  if (!force && Object.values(paths).every((p) => existsSync(p))) {
    return { ...paths, alias: KEYSTORE_ALIAS, created: false }
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const signing = rsaPair()
  const signingCert = selfSigned(signing, 'apisign-sandbox-signing', 365)
  writePrivate(paths.signingKey, signing.privateKey)
  writeFileSync(paths.signingCert, forge.pki.certificateToPem(signingCert))

  // What a partner portal asks for: a CSR for the signing key.
  const csr = forge.pki.createCertificationRequest()
  csr.publicKey = forge.pki.publicKeyFromPem(signing.publicKey)
  csr.setSubject([{ name: 'commonName', value: 'apisign-sandbox-signing' }, { name: 'organizationName', value: 'apisign throwaway test material' }])
  csr.sign(forge.pki.privateKeyFromPem(signing.privateKey), forge.md.sha256.create())
  writeFileSync(paths.signingCsr, forge.pki.certificationRequestToPem(csr))

  const password = randomBytes(12).toString('base64url')
  const p12 = forge.pkcs12.toPkcs12Asn1(forge.pki.privateKeyFromPem(signing.privateKey), [signingCert], password, {
    friendlyName: KEYSTORE_ALIAS,
    algorithm: 'aes256',
  })
  writePrivate(paths.keystore, Buffer.from(forge.asn1.toDer(p12).getBytes(), 'binary'))
  writePrivate(paths.keystorePassword, `${password}\n`)

  const encryption = rsaPair()
  writePrivate(paths.encryptionKey, encryption.privateKey)
  writeFileSync(paths.encryptionCert, forge.pki.certificateToPem(selfSigned(encryption, 'apisign-sandbox-encryption', 365)))
  const partner = rsaPair()
  writePrivate(paths.partnerEncryptionKey, partner.privateKey)
  writeFileSync(paths.partnerEncryptionCert, forge.pki.certificateToPem(selfSigned(partner, 'apisign-sandbox-partner-encryption', 365)))

  // The local test CA and what it issues (X.509 creation: node-forge's one allowed use).
  const caPair = rsaPair()
  const caCert = forge.pki.createCertificate()
  caCert.publicKey = forge.pki.publicKeyFromPem(caPair.publicKey)
  caCert.serialNumber = `03${randomBytes(8).toString('hex')}`
  caCert.validity.notBefore = new Date(Date.now() - 60_000)
  caCert.validity.notAfter = new Date(Date.now() + 365 * 86_400_000)
  const caSubject = [{ name: 'commonName', value: 'apisign throwaway test CA' }, { name: 'organizationName', value: 'apisign throwaway test material' }]
  caCert.setSubject(caSubject)
  caCert.setIssuer(caSubject)
  caCert.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }, { name: 'subjectKeyIdentifier' }])
  const caKey = forge.pki.privateKeyFromPem(caPair.privateKey)
  caCert.sign(caKey, forge.md.sha256.create())
  writePrivate(paths.caKey, caPair.privateKey)
  writeFileSync(paths.caCert, forge.pki.certificateToPem(caCert))
  const ca = { cert: caCert, key: caKey }
  const server = rsaPair()
  writePrivate(paths.serverKey, server.privateKey)
  writeFileSync(paths.serverCert, forge.pki.certificateToPem(issued(server, 'localhost', 365, ca, [
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
  ])))
  const clientPair = rsaPair()
  const clientCert = issued(clientPair, 'apisign-sandbox-client', 365, ca, [
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', clientAuth: true },
  ])
  writePrivate(paths.clientKey, clientPair.privateKey)
  writeFileSync(paths.clientCert, forge.pki.certificateToPem(clientCert))
  const clientPassword = randomBytes(12).toString('base64url')
  const clientP12 = forge.pkcs12.toPkcs12Asn1(forge.pki.privateKeyFromPem(clientPair.privateKey), [clientCert, caCert], clientPassword, { friendlyName: 'client', algorithm: 'aes256' })
  writePrivate(paths.clientKeystore, Buffer.from(forge.asn1.toDer(clientP12).getBytes(), 'binary'))
  writePrivate(paths.clientKeystorePassword, `${clientPassword}\n`)
  return { ...paths, alias: KEYSTORE_ALIAS, created: true }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const outIndex = args.indexOf('--out')
  const outDir = outIndex === -1 ? undefined : args[outIndex + 1]
  const result = makeCerts({ ...(outDir ? { outDir } : {}), force: args.includes('--force') })
  console.log(`${result.created ? 'created' : 'kept existing'} throwaway test material in ${dirname(result.signingKey)}:`)
  for (const f of Object.values(FILES)) console.log(`  ${f}`)
  console.log(`PKCS#12 alias: ${KEYSTORE_ALIAS}; its password is in ${FILES.keystorePassword}. Never use these for anything real.`)
}
