// Loads one page in headless Chromium and saves what the browser saw as HAR, through
// Playwright's recorder (`recordHar`, bodies embedded). Usage: node chromium_har.js URL OUT.har
// Needs Debian's chromium and the npm package playwright-core (NODE_PATH may point at it).
const { chromium } = require('playwright-core');

(async () => {
  const [url, out] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const context = await browser.newContext({ recordHar: { path: out, content: 'embed' } });
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => document.title === 'done', null, { timeout: 20000 });
  await context.close();
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
