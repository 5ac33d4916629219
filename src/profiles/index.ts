// apisign/profiles: sandbox and production environment profiles. Curated named exports.
export { loadProfile, environmentWithDotEnv, readProfileSource, profileEnvironment, hostMismatch } from './load.js'
export type { Environment, LoadProfileOptions, Profile, ProfileSource, ProfileSpec, ProfilesFile, SchemeProfileAuth, SecretReference } from './load.js'
export type { OAuth2ProfileAuth, ProfileKeyFile } from './oauth2.js'
export type { ProfileTlsSpec } from './tls.js'
