// apisign/profiles: sandbox and production environment profiles. Curated named exports.
export { loadProfile, environmentWithDotEnv } from './load.js'
export type { Environment, LoadProfileOptions, Profile, ProfileSpec, ProfilesFile } from './load.js'
