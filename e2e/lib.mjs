// Helpers of the end-to-end suite: settings from the environment (set by
// run.sh), the reporter run.sh counts (the same as interop/lib.mjs), a
// headless Debian chromium, RFC 6238 codes, axe-core and the applications'
// callback server.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

export { assert };

// env returns a required environment variable.
export function env(name) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    throw new Error(`environment variable ${name} is not set (run e2e/run.sh)`);
  }
  return v;
}

// Reporter prints one line per test, "PASS <suite>: <name> (<ms> ms)" or
// "FAIL <suite>: <name>: <reason>", which run.sh counts. A test that
// depends on an earlier one is reported as failed ("skipped") when that
// one failed, so that nothing silently disappears from the count.
export class Reporter {
  constructor(suite, { watchdogMs = 100_000 } = {}) {
    this.suite = suite;
    this.failed = 0;
    this.passed = 0;
    this.cleanups = [];
    const timer = setTimeout(() => {
      console.log(`FAIL ${suite}: watchdog: the suite did not finish within ${watchdogMs} ms`);
      process.exit(1);
    }, watchdogMs);
    timer.unref();
  }

  async test(name, fn, { needs = [] } = {}) {
    if (needs.some((ok) => !ok)) {
      console.log(`FAIL ${this.suite}: ${name}: skipped, an earlier test it depends on failed`);
      this.failed++;
      return false;
    }
    const start = Date.now();
    try {
      await fn();
      console.log(`PASS ${this.suite}: ${name} (${Date.now() - start} ms)`);
      this.passed++;
      return true;
    } catch (err) {
      let msg = (err && (err.stack || err.message)) || String(err);
      if (err && err.code === 'ERR_ASSERTION' && !err.generatedMessage && 'expected' in err) {
        msg = `${err.message}: got ${JSON.stringify(err.actual)}, want ${JSON.stringify(err.expected)}\n${msg}`;
      }
      console.log(`FAIL ${this.suite}: ${name}: ${msg.split('\n').join('\n    ')}`);
      this.failed++;
      return false;
    }
  }

  onExit(fn) {
    this.cleanups.push(fn);
  }

  async finish() {
    for (const fn of this.cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        console.error(`cleanup: ${err}`);
      }
    }
    console.log(`${this.suite}: ${this.passed} passed, ${this.failed} failed`);
    process.exitCode = this.failed ? 1 : 0;
  }
}

// The flags from /work/shared/DEPENDENCIES.md; playwright-core cannot
// download browsers here, so Debian's chromium is used. playwright gives
// the browser a fresh profile (--user-data-dir) under TMPDIR.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}

// ------------------------------------------------------------ RFC 6238

// base32Decode decodes RFC 4648 base32 (spaces and padding ignored).
export function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = s.replace(/[\s=]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const i = alphabet.indexOf(ch);
    if (i < 0) throw new Error(`not base32: ${JSON.stringify(ch)}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

// totpStep is the RFC 6238 time step of t (ms), 30-second steps.
export function totpStep(t = Date.now()) {
  return Math.floor(t / 1000 / 30);
}

// totpCode is the 6-digit HMAC-SHA1 code of step for the base32 key
// (RFC 6238 over RFC 4226's dynamic truncation).
export function totpCode(key, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', base32Decode(key)).update(counter).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  return String(bin % 1_000_000).padStart(6, '0');
}

// ------------------------------------------------------------- axe-core

const require = createRequire(import.meta.url);
const AXE_PATH = require.resolve('axe-core/axe.min.js');
const AXE_SOURCE = fs.readFileSync(AXE_PATH, 'utf8');

// injectAxe puts axe-core into the page. TNO's Content-Security-Policy
// forbids every script but its own (no inline script, which is what
// page.addScriptTag({path}) inserts), and the suite keeps that policy in
// force, since the screenshots and the checks must see what people see.
// So axe's source is evaluated through the DevTools protocol, which the
// page's CSP does not govern; addScriptTag is the fallback.
async function injectAxe(page) {
  if (await page.evaluate(() => typeof window.axe === 'object')) return;
  await page.evaluate(`${AXE_SOURCE}\n;void 0`);
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.addScriptTag({ path: AXE_PATH });
  }
}

// axe runs axe-core with its default rule set (every WCAG 2.x A and AA
// rule and the best practices) and returns the violations as plain
// objects: id, impact, help, and each node's target and summary.
export async function axe(page) {
  await injectAxe(page);
  const res = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary, html: n.html })),
    }));
  });
  return res;
}

// ------------------------------------------------------------- callback

// startCallback serves the applications' redirect URI on port: it answers
// every GET /callback with a small page and remembers its query.
export async function startCallback(port) {
  const hits = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, `http://127.0.0.1:${port}`);
    if (url.pathname !== '/callback') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    hits.push(Object.fromEntries(url.searchParams));
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="fr"><meta charset="utf-8"><title>Application</title>' +
      '<main><h1>Retour dans l’application</h1><p id="page">PAGE=callback</p></main></html>');
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    uri: `http://127.0.0.1:${port}/callback`,
    hits,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
