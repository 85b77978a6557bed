/** lib/esm.cjs in the browser runner: the ESM packages lib/viz/render.ts loads, bundled. */
export function importESM(specifier: string): Promise<any> {
  if (specifier === 'vega') return import('vega');
  // @ts-ignore: vega-lite's types need moduleResolution node16; the bundler (esbuild) resolves it
  if (specifier === 'vega-lite') return import('vega-lite');
  return Promise.reject(new Error(`importESM("${specifier}"): only vega and vega-lite are bundled for the browser runner`));
}
