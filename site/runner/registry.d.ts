/** The module registry the runner's bundle generates (site/runner/bundle.ts, registrySource). */
declare module 'course:registry' {
  /** 'lib/attention/softmax' → the module; also 'fs' and 'path' (the data API) */
  export const modules: Record<string, unknown>;
  /** lib modules that cannot run in a browser */
  export const nodeOnly: string[];
}
