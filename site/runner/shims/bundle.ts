/** display/bundle.ts in the browser runner: a MIME bundle goes to the page through the kernel's display hook. */
type Hook = (bundle: {data: Record<string, unknown>; metadata: Record<string, unknown>}) => void;

export function displayBundle(data: Record<string, unknown>, metadata: Record<string, unknown> = {}): void {
  const hook = (globalThis as {__courseDisplay?: Hook}).__courseDisplay;
  if (!hook) throw new Error('displayBundle: not running inside the browser runner');
  hook({data, metadata});
}
