// katex ships no type declarations; the site uses only renderToString.
declare module 'katex' {
  const katex: {renderToString(tex: string, options?: Record<string, unknown>): string};
  export default katex;
}
