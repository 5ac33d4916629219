// Types for the plain-JS script, so TypeScript tests and the demo can import it.
export declare const FILES: Readonly<Record<'signingKey' | 'signingCert' | 'signingCsr' | 'keystore' | 'keystorePassword' | 'encryptionKey' | 'encryptionCert' | 'partnerEncryptionKey' | 'partnerEncryptionCert' | 'caKey' | 'caCert' | 'serverKey' | 'serverCert' | 'clientKey' | 'clientCert' | 'clientKeystore' | 'clientKeystorePassword', string>>
export declare const KEYSTORE_ALIAS: string
export interface MadeCerts extends Record<keyof typeof FILES, string> {
  readonly alias: string
  readonly created: boolean
}
export declare function makeCerts(options?: { outDir?: string; force?: boolean }): MadeCerts
