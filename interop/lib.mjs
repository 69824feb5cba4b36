// Shared helpers for the interop scripts: settings from the environment
// (set by run.sh), a tiny test reporter, and a headless Chromium driven by
// playwright-core.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export { assert };

// env returns a required environment variable.
export function env(name) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    throw new Error(`environment variable ${name} is not set (run interop/run.sh)`);
  }
  return v;
}

// Reporter prints one line per test, "PASS <suite>: <name> (<ms> ms)" or
// "FAIL <suite>: <name>: <reason>", which run.sh counts. A test that
// depends on an earlier one is reported as failed ("skipped") when that
// one failed, so that nothing silently disappears from the count.
export class Reporter {
  constructor(suite, { watchdogMs = 90_000 } = {}) {
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

  // test runs fn and returns true when it passed. needs lists the results
  // of earlier tests this one depends on.
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
      if (err && err.cause) console.log(`    cause: ${err.cause.stack || err.cause}`);
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
// download browsers here, so Debian's chromium is used.
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

// Browser is one fresh Chromium profile (its own user-data-dir, so no
// cookie is shared with another Browser) with one page, recording every
// request it sends.
export class Browser {
  static async open() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tno-interop-chromium-'));
    const context = await chromium.launchPersistentContext(dir, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 30_000,
      locale: 'fr-FR',
    });
    context.setDefaultTimeout(15_000);
    context.setDefaultNavigationTimeout(15_000);
    const b = new Browser(context, dir);
    b.page = context.pages()[0] || (await context.newPage());
    return b;
  }

  constructor(context, dir) {
    this.context = context;
    this.dir = dir;
    this.requests = [];
    context.on('request', (req) => {
      this.requests.push({ url: new URL(req.url()), method: req.method(), request: req });
    });
  }

  // mark returns a function listing the requests sent since mark was
  // called. Each has url, method and request (playwright's Request: its
  // response() and redirectedFrom() tell what happened).
  mark() {
    const from = this.requests.length;
    return () => this.requests.slice(from);
  }

  async cookies(url) {
    return this.context.cookies(url);
  }

  async close() {
    await this.context.close().catch(() => {});
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// isTNO reports whether url is on TNO's origin with the given path.
export function isTNOPath(url, issuer, pathname) {
  const u = new URL(url);
  return u.origin === new URL(issuer).origin && u.pathname === pathname;
}

// submit clicks the form's submit button and waits for the resulting
// navigation to finish.
async function submit(page) {
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.locator('form button[type="submit"]').click(),
  ]);
}

// signIn goes through TNO's sign-in on page (which must show it): the
// identifier page, then the password page (identifier first; after a
// wrong password the page already asks for the password again).
export async function signIn(page, identifier, password) {
  if (await page.locator('input[name="password"]').count() === 0) {
    await page.locator('input[name="identifier"]').fill(identifier);
    await submit(page);
  }
  await page.locator('input[name="password"]').fill(password);
  await submit(page);
}

// parseLines parses "KEY=value" lines.
export function parseLines(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}
