// axios exports these two helpers under `axios/unsafe/*` (package.json "exports"); they are what
// `axios.getUri` runs after re-merging the whole config, which the adapter's config already is.
declare module 'axios/unsafe/core/buildFullPath.js' {
  export default function buildFullPath(baseURL: string | undefined, requestedURL: string | undefined, allowAbsoluteUrls: boolean | undefined, config?: unknown): string
}
declare module 'axios/unsafe/helpers/buildURL.js' {
  export default function buildURL(url: string, params?: unknown, options?: unknown): string
}
