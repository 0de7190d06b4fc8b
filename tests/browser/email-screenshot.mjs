// Renders one email's HTML in headless Chromium as a phone (375 px) and a desktop (1024 px)
// mail client would, takes a full-page screenshot of each, and prints what a person would
// check, as JSON: the language, no sideways scrolling, the call to action inside the screen
// and legible (its text/background contrast ratio), the body text size.
// Usage: node email-screenshot.mjs <email.html> <output dir>
import { chromium } from 'playwright-core';
import path from 'node:path';

const [, , htmlPath, outDir] = process.argv;
if (!htmlPath || !outDir) {
  console.error('usage: node email-screenshot.mjs <email.html> <output dir>');
  process.exit(2);
}

// WCAG 2 relative luminance and contrast ratio of two `rgb(...)` colours.
function luminance(rgb) {
  const [r, g, b] = rgb.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // The flags this machine needs (FIELD-NOTES): no sandbox as root, no background traffic.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const out = {};
try {
  for (const [name, width] of [['phone', 375], ['desktop', 1024]]) {
    const page = await browser.newPage({ viewport: { width, height: 800 } });
    // Mail clients load no remote content by default: neither do we.
    await page.route('**/*', (route) =>
      route.request().url().startsWith('file:') ? route.continue() : route.abort());
    await page.goto('file://' + path.resolve(htmlPath));
    const facts = await page.evaluate(() => {
      const links = [...document.querySelectorAll('a')];
      const cta = links.find((a) => getComputedStyle(a).backgroundColor !== 'rgba(0, 0, 0, 0)');
      const box = cta && cta.getBoundingClientRect();
      const body = [...document.querySelectorAll('td')].find((td) => td.querySelector('p'));
      return {
        lang: document.documentElement.lang,
        title: document.title,
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
        bodyFontPx: body ? parseFloat(getComputedStyle(body).fontSize) : 0,
        text: document.body.innerText,
        cta: cta && {
          text: cta.textContent.trim(),
          href: cta.getAttribute('href'),
          left: box.left, right: box.right, top: box.top, height: box.height,
          color: getComputedStyle(cta).color,
          background: getComputedStyle(cta).backgroundColor,
        },
      };
    });
    if (facts.cta) facts.cta.contrast = Math.round(contrast(facts.cta.color, facts.cta.background) * 100) / 100;
    facts.screenshot = path.join(outDir, `email-${name}.png`);
    await page.screenshot({ path: facts.screenshot, fullPage: true });
    out[name] = facts;
    await page.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
