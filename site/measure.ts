/**
 * Page weight and first-render time of the built site in headless Chromium (cold cache, 1280 px):
 * bytes transferred until the network is idle (what a reader downloads on opening the page,
 * without scrolling), first contentful paint and the load event. Usage:
 *   npm run build:site && npx tsx site/measure.ts [DIR]      (default build/site)
 * MEASURE_IDENTITY=1 asks the server for uncompressed responses.
 */
import {resolve} from 'node:path';
import {serve} from './serve';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

async function main(): Promise<void> {
  const dir = resolve(process.argv[2] ?? 'build/site');
  const {server, url} = await serve(dir, 0);
  const {chromium} = await import('playwright-core');
  const browser = await chromium.launch({executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu']});
  const pages = ['index.html', 'chapters/01-attention.html', 'chapters/02-transformer.html', 'chapters/03-vit.html', 'chapters/04-cifar-training.html', 'source/lib/attention/softmax.html'];
  console.log('page | requests | KB transferred | first contentful paint ms | load event ms');
  for (const p of pages) {
    // MEASURE_IDENTITY=1: ask for uncompressed responses (the bytes of the files themselves)
    const context = await browser.newContext({viewport: {width: 1280, height: 900}, ...(process.env.MEASURE_IDENTITY ? {extraHTTPHeaders: {'accept-encoding': 'identity'}} : {})});
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    let bytes = 0, requests = 0;
    cdp.on('Network.loadingFinished', (e: any) => { bytes += e.encodedDataLength; requests++; });
    await page.goto(url + p, {waitUntil: 'load', timeout: 120_000});
    await page.waitForLoadState('networkidle', {timeout: 120_000});
    await page.waitForTimeout(500);
    const t = await page.evaluate(() => {
      const fcp = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN;
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      return {fcp, load: nav.loadEventEnd};
    });
    console.log(`${p} | ${requests} | ${(bytes / 1024).toFixed(0)} | ${t.fcp.toFixed(0)} | ${t.load.toFixed(0)}`);
    await context.close();
  }
  await browser.close();
  server.closeAllConnections();
  server.close();
}

main().catch(e => { console.error(e); process.exit(1); });
