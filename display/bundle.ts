/**
 * The one function that sends a MIME bundle to the notebook: tslab's display_data message. The
 * browser runner replaces this module (site/runner/shims/bundle.ts); everything else in
 * display/show.ts is shared by the kernel and the browser.
 */
import * as jupyter from 'tslab/dist/jupyter';

export function displayBundle(data: Record<string, unknown>, metadata: Record<string, unknown> = {}): void {
  const write = (jupyter as any).lastWriteDisplayData;
  if (!write) throw new Error('displayBundle: not running inside a tslab kernel cell');
  write({data, metadata, transient: {}}, false);
}
