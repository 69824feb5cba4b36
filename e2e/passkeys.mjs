// End-to-end tests of TNO's passkeys (WebAuthn) in Debian's chromium, with
// Chromium's virtual authenticator (DevTools protocol, WebAuthn domain),
// against the second TNO run.sh starts, whose issuer is
// http://localhost:PORT (TNO offers passkeys only on a host name):
//   1. a person signs in with their password to /account/security, adds a
//      passkey, gets their recovery codes (first second factor), and the
//      security page lists it;
//   2. in another browser holding the same credential: the identifier page
//      → « Se connecter avec une clé d’accès » → the application, without
//      a password (acr eidas2, amr hwk or swk, user, mfa);
//   3. the password, then the passkey on the second-factor page;
//      and the same through the identifier field's autofill (conditional
//      mediation);
//   4. an authenticator without the passkey: the browser's error, then the
//      password; a passkey TNO does not know: TNO's refusal;
//   5. without JavaScript: the passkey forms stay hidden, the password and
//      a recovery code still sign in, the enrolment page says why;
//   6. axe-core on every passkey page, French and English, 1280 and 320 px;
//   7. the README's screenshots passkey-signin.png, security-passkeys.png.
// Every page with a passkey form must be allowed TNO's own script (CSP
// script-src 'self') and nothing else; no CSP violation, no console error.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assert, axe, env, launch, Reporter, startCallback } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const issuer = env('PK_ISSUER');
const app = { id: env('PK_APP_CLIENT'), secret: env('PK_APP_SECRET'), name: env('APP_NAME') };
const keyed = { user: env('PK_USER'), password: env('PK_PASSWORD') }; // adds a passkey
const plain = { user: env('PK_PLAIN_USER'), password: env('PK_PLAIN_PASSWORD') }; // password only
const screenshotDir = env('SCREENSHOT_DIR'); // "none": no screenshot
const LANGS = ['fr', 'en'];
const DESKTOP = { width: 1280, height: 800 };
const NARROW = 320;
const PASSKEY_NAME = 'Ordinateur du bureau';

const t = new Reporter('passkeys', { watchdogMs: 90_000 });

// ------------------------------------------------------------- messages

const messages = Object.fromEntries(LANGS.map((l) => [l,
  JSON.parse(fs.readFileSync(path.join(here, '..', 'internal', 'web', 'messages', `${l}.json`), 'utf8'))]));

// M returns TNO's message key in lang, its %s and %d replaced by args.
function M(lang, key, ...args) {
  const msg = messages[lang][key] ?? messages.fr[key];
  assert.ok(msg !== undefined, `no message ${key}`);
  let i = 0;
  return msg.replace(/%[sd]/g, () => String(args[i++]));
}

// ---------------------------------------------------------------- set-up

const browser = await launch();
t.onExit(() => browser.close());
const callback = await startCallback(Number(env('CALLBACK_PORT')));
t.onExit(callback.close);
const issuerOrigin = new URL(issuer).origin;
const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
assert.equal(discovery.issuer, issuer, 'the passkeys TNO answers with its localhost issuer');

// The virtual authenticator of every browser: a platform authenticator
// (internal transport) that keeps discoverable credentials and verifies
// its user, which is what TNO asks for (resident key and user
// verification required).
const AUTHENTICATOR = { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true };

// open returns a new browser context (its own cookies, and its own
// virtual authenticator unless authenticator is false) and its page;
// credential, if given, is put into that authenticator first.
//
// presence is whether the authenticator answers at once (the person
// touches it) or never. The identifier page asks the browser at once, in
// the background, for the passkeys its autofill may offer (conditional
// mediation), and Chromium's virtual authenticator answers that request
// as soon as it holds a credential for the site, as if the person had
// picked it: with presence on, the page signs in by itself. So a test of
// the button opens the page with presence off (that background request
// then waits for ever), turns presence on (b.presence(true)) and clicks:
// passkey.js cancels the background request and asks again.
//
// lang "en" is chosen the way TNO remembers it (the tno_lang cookie).
// Every console error, script error and Content-Security-Policy violation
// is collected in problems; documents keeps the main frame's document
// responses (their headers: the CSP).
async function open(lang = 'fr', { authenticator = true, credential, presence = true, ...options } = {}) {
  const ctx = await browser.newContext({ locale: 'fr-FR', viewport: DESKTOP, ...options });
  ctx.setDefaultTimeout(10_000);
  ctx.setDefaultNavigationTimeout(10_000);
  if (lang !== 'fr') {
    await ctx.addCookies([{ name: 'tno_lang', value: lang, url: issuer }]);
  }
  // Violations reach the console too ("Refused to ..."); the event also
  // catches those of a page that navigates away at once.
  await ctx.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || '(inline)'}`);
    });
  });
  const page = await ctx.newPage();
  const problems = [];
  const documents = [];
  // Not those of the application's callback page (the suite's, with no
  // favicon), nor Chromium's "Failed to load resource" for a TNO page sent
  // with an error status (the refusal of a passkey is a 401 page).
  page.on('console', (m) => {
    if (m.type() !== 'error' || new URL(page.url()).origin !== issuerOrigin) return;
    const at = m.location().url;
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text()) &&
      documents.some((r) => r.url() === at && r.status() >= 400 && r.status() < 500)) return;
    problems.push(`${page.url()}: console: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`${page.url()}: ${err}`));
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/login/passkey') b.passkeyPosts++;
  });
  page.on('response', (r) => {
    if (r.request().resourceType() === 'document' && r.frame() === page.mainFrame()) documents.push(r);
  });
  const b = {
    ctx, page, problems,
    passkeyPosts: 0, // answers posted to /login/passkey
    // csp is the Content-Security-Policy of the page shown.
    csp: () => {
      assert.ok(documents.length > 0, 'no document loaded');
      return documents[documents.length - 1].headers()['content-security-policy'] ?? '';
    },
    close: async () => {
      await ctx.close();
      assert.deepEqual(problems, [], 'CSP violations, console or script errors');
    },
  };
  if (authenticator) {
    b.cdp = await ctx.newCDPSession(page);
    await b.cdp.send('WebAuthn.enable');
    ({ authenticatorId: b.authenticatorId } = await b.cdp.send('WebAuthn.addVirtualAuthenticator',
      { options: { ...AUTHENTICATOR, automaticPresenceSimulation: presence } }));
    if (credential) {
      await b.cdp.send('WebAuthn.addCredential', { authenticatorId: b.authenticatorId, credential });
    }
    b.credentials = async () => (await b.cdp.send('WebAuthn.getCredentials', { authenticatorId: b.authenticatorId })).credentials;
    b.presence = (enabled) => b.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: b.authenticatorId, enabled });
  }
  return b;
}

function b64url(buf) {
  return buf.toString('base64url');
}

// authorize returns a new authorization request of client (PKCE S256).
function authorize(client) {
  const verifier = b64url(crypto.randomBytes(32));
  const q = new URLSearchParams({
    response_type: 'code', client_id: client.id, redirect_uri: callback.uri, scope: 'openid profile',
    state: b64url(crypto.randomBytes(12)), nonce: b64url(crypto.randomBytes(12)),
    code_challenge: b64url(crypto.createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256',
  });
  return { url: `${discovery.authorization_endpoint}?${q}`, state: q.get('state'), nonce: q.get('nonce'), verifier, client };
}

async function goto(page, url) {
  return page.goto(url, { waitUntil: 'load' });
}

// submit clicks button (a locator) and waits for the page that follows.
async function submit(page, button) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
}

function submitButton(page) {
  return page.locator('main form:not([data-passkey]) button[type="submit"]').first();
}

async function h1(page) {
  return (await page.locator('h1').first().innerText()).trim();
}

// passkeyForm is the page's passkey form (shown by passkey.js), and
// passkeyButton its button.
function passkeyForm(page) {
  return page.locator('main form[data-passkey]');
}

function passkeyButton(page, lang, key = 'passkey.use') {
  return passkeyForm(page).getByRole('button', { name: M(lang, key), exact: true });
}

// signIn goes from the identifier page through the password page.
async function signIn(page, who) {
  await page.locator('input[name="identifier"]').fill(who.user);
  await submit(page, submitButton(page));
  assert.equal(await page.locator('input[name="password"]').count(), 1, `no password field at ${page.url()}`);
  await page.locator('input[name="password"]').fill(who.password);
  await submit(page, submitButton(page));
}

// atCallback checks that the browser is back at the application with a
// code for req, and returns the code.
function atCallback(page, req) {
  const u = new URL(page.url());
  assert.equal(`${u.origin}${u.pathname}`, callback.uri, `expected the callback, at ${page.url()}`);
  assert.equal(u.searchParams.get('error'), null, `error at the callback: ${u.search}`);
  assert.equal(u.searchParams.get('state'), req.state, 'state');
  assert.equal(u.searchParams.get('iss'), issuer, 'iss');
  const code = u.searchParams.get('code');
  assert.ok(code, `no code at ${page.url()}`);
  return code;
}

// redeem exchanges code at the token endpoint (the application's secret)
// and returns the ID token's payload.
async function redeem(req, code) {
  const res = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(req.client.id)}:${encodeURIComponent(req.client.secret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: callback.uri, code_verifier: req.verifier }),
  });
  const tok = await res.json();
  assert.equal(res.status, 200, `token endpoint: ${JSON.stringify(tok)}`);
  const idt = JSON.parse(Buffer.from(tok.id_token.split('.')[1], 'base64url').toString());
  assert.equal(idt.iss, issuer, 'iss of the ID token');
  assert.equal(idt.aud === app.id || (Array.isArray(idt.aud) && idt.aud.includes(app.id)), true, `aud ${idt.aud}`);
  assert.equal(idt.nonce, req.nonce, 'nonce of the ID token');
  return idt;
}

// passkeyAMR checks the methods and level of a sign-in with a passkey
// (plus the password when withPassword).
function passkeyAMR(idt, withPassword) {
  const amr = idt.amr ?? [];
  assert.ok(amr.includes('hwk') || amr.includes('swk'), `amr ${JSON.stringify(amr)}: hwk or swk`);
  assert.ok(amr.includes('user'), `amr ${JSON.stringify(amr)}: user (verified by the authenticator)`);
  assert.ok(amr.includes('mfa'), `amr ${JSON.stringify(amr)}: mfa`);
  assert.equal(amr.includes('pwd'), withPassword, `amr ${JSON.stringify(amr)}: pwd ${withPassword ? '' : 'not '}expected`);
  assert.equal(idt.acr, 'eidas2', 'acr');
}

// scriptAllowed checks that the page's CSP lets TNO's own script run
// (script-src 'self'), and only it.
function scriptAllowed(b, what) {
  const csp = b.csp();
  assert.match(csp, /(^|;)\s*default-src 'none'/, `${what}: CSP ${csp}`);
  const script = csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src'));
  assert.equal(script, "script-src 'self'", `${what}: CSP ${csp}`);
}

// pressPasskeyWithKeyboard moves the focus with Tab to the passkey button of
// the page, checks it shows its focus, and presses Enter.
async function pressPasskeyWithKeyboard(page, lang) {
  await page.locator('input[name="identifier"]').focus();
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(() => {
      const el = document.activeElement;
      const s = getComputedStyle(el);
      return {
        inPasskeyForm: !!el.closest('form[data-passkey]') && el.tagName === 'BUTTON', text: (el.innerText || '').trim(),
        focusVisible: el.matches(':focus-visible'), outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2,
      };
    });
    if (f.inPasskeyForm) {
      assert.equal(f.text, M(lang, 'passkey.use'));
      assert.ok(f.focusVisible && f.outline, 'the passkey button shows its focus');
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
      return;
    }
  }
  throw new Error('the passkey button was not reached with Tab');
}

// ---------------------------------------------------------- page checks

// The pages axe-core must see, and in which languages.
const PAGES = {
  'identifier-passkey': LANGS, 'identifier-passkey-error': LANGS, 'identifier-passkey-refused': ['fr'],
  'passkey-enrol': LANGS, 'security-passkey': LANGS, 'factor-passkey': LANGS,
};
const seen = new Map(); // "page|lang" → { url, violations: [{ width, ... }], overflow }

// check runs axe-core on the page at 1280 px and 320 px wide (its passkey
// form shown first, when it has one), measures any horizontal scrolling
// at 320 px and records what it found under name; the tests at the end
// report it.
async function check(page, name, lang) {
  assert.ok(PAGES[name]?.includes(lang), `unknown page ${name} (${lang})`);
  assert.equal(await page.getAttribute('html', 'lang'), lang, `<html lang> of ${name}`);
  if (name !== 'security-passkey') {
    assert.ok(await passkeyForm(page).isVisible(), `${name}: the passkey form is shown`);
  }
  const entry = { url: page.url(), violations: [], overflow: 0 };
  const before = page.viewportSize();
  try {
    for (const width of [DESKTOP.width, NARROW]) {
      await page.setViewportSize({ width, height: DESKTOP.height });
      for (const v of await axe(page)) entry.violations.push({ width, ...v });
      if (width === NARROW) {
        entry.overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      }
    }
  } finally {
    await page.setViewportSize(before);
  }
  seen.set(`${name}|${lang}`, entry);
}

// shot saves a full-page screenshot at 1280×800 as docs/screenshots/file.
async function shot(page, file) {
  if (screenshotDir === 'none') return;
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: path.join(screenshotDir, file), fullPage: true, caret: 'hide', animations: 'disabled' });
}

// ------------------------------------------------------------------ tests

// The passkey, as the first browser's authenticator holds it after each
// use (its signature counter moves on: TNO refuses a counter going back,
// the mark of a cloned authenticator), given to the next browser.
let credential;
let recoveryCodes = [];

// take keeps the credential of b's authenticator for the next browser.
async function take(b) {
  const creds = await b.credentials();
  assert.equal(creds.length, 1, 'one credential in the authenticator');
  credential = creds[0];
}

// 1. A passkey added from the security page.
const enrolled = await t.test('security page: add a passkey (virtual authenticator), recovery codes, the list (fr, en)', async () => {
  const b = await open('fr');
  const { page } = b;
  await goto(page, `${issuer}/account/security`);
  assert.equal(await page.locator('input[name="identifier"]').count(), 1, `sign-in first, at ${page.url()}`);
  // The watch on CSP violations works: an inline script is refused.
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.inlineRan = true';
    document.head.append(s);
  });
  await page.waitForFunction(() => true); // a round trip for the console
  assert.equal(await page.evaluate(() => window.inlineRan === true), false, 'an inline script ran');
  assert.ok(b.problems.some((p) => /CSP violation: script-src/.test(p)), `the violation is seen: ${JSON.stringify(b.problems)}`);
  b.problems.length = 0;
  await signIn(page, keyed);
  assert.equal(new URL(page.url()).pathname, '/account/security', `back at the security page: ${page.url()}`);
  assert.equal(await h1(page), M('fr', 'security.heading'));
  assert.equal(await page.getByRole('heading', { name: M('fr', 'security.passkeys_heading'), level: 2 }).count(), 1, 'the passkeys section');

  await submit(page, page.getByRole('button', { name: M('fr', 'security.passkey_add'), exact: true }));
  assert.equal(new URL(page.url()).pathname, '/account/security/passkey');
  assert.equal(await h1(page), M('fr', 'passkey.enrol_heading'));
  scriptAllowed(b, 'the passkey enrolment page');
  assert.equal(await passkeyForm(page).getAttribute('data-passkey'), 'create');
  await check(page, 'passkey-enrol', 'fr');
  await page.getByLabel(M('fr', 'passkey.name_label')).fill(PASSKEY_NAME);
  await submit(page, passkeyButton(page, 'fr', 'passkey.create'));

  // The first second factor: the recovery codes.
  assert.equal(new URL(page.url()).pathname, '/account/security/passkey/confirm');
  assert.equal(await h1(page), M('fr', 'recovery.heading'));
  recoveryCodes = (await page.locator('ul.codes li code').allInnerTexts()).map((c) => c.trim());
  assert.equal(recoveryCodes.length, 10, 'ten recovery codes');
  await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: M('fr', 'recovery.continue') }).click()]);

  // The security page lists it, bound to this device (the virtual
  // authenticator's credential is not backed up).
  assert.equal((await page.getByRole('status').innerText()).trim(), M('fr', 'security.notice_enrolled_passkey'));
  const item = page.locator('li.consent', { has: page.getByRole('heading', { name: PASSKEY_NAME, level: 3 }) });
  assert.equal(await item.count(), 1, `the passkey « ${PASSKEY_NAME} » is listed`);
  assert.match(await item.innerText(), new RegExp(M('fr', 'security.passkey_device')));
  assert.equal(await item.getByRole('button', { name: M('fr', 'security.remove_passkey') }).count(), 1, 'a button removes it');
  assert.match(await page.locator('main').innerText(), new RegExp(M('fr', 'security.recovery_left', 10)));
  assert.match(b.csp(), /default-src 'none'/, 'the security page keeps the strict CSP');
  await check(page, 'security-passkey', 'fr');
  await shot(page, 'security-passkeys.png');

  const creds = await b.credentials();
  assert.equal(creds.length, 1, 'one credential created');
  assert.equal(creds[0].rpId, 'localhost', 'rp ID');
  assert.equal(creds[0].isResidentCredential, true, 'a discoverable credential');
  assert.equal(creds[0].userName, 'claire.petit@val-de-seine.example.org', 'the account the authenticator shows');
  credential = creds[0];

  // The same pages in English (the language cookie).
  await b.ctx.addCookies([{ name: 'tno_lang', value: 'en', url: issuer }]);
  await goto(page, `${issuer}/account/security`);
  assert.equal(await h1(page), M('en', 'security.heading'));
  await check(page, 'security-passkey', 'en');
  await submit(page, page.getByRole('button', { name: M('en', 'security.passkey_add'), exact: true }));
  assert.equal(await h1(page), M('en', 'passkey.enrol_heading'));
  scriptAllowed(b, 'the passkey enrolment page (en)');
  await check(page, 'passkey-enrol', 'en');
  await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: M('en', 'enrol.cancel') }).click()]);
  assert.equal(new URL(page.url()).pathname, '/account/security');
  await take(b);
  await b.close();
});

// 2. Without a password, in another browser holding the same passkey.
await t.test('passwordless: identifier page → « Se connecter avec une clé d’accès » → the application, acr eidas2 (fr)', async () => {
  const b = await open('fr', { credential, presence: false });
  const { page } = b;
  const req = authorize(app);
  await goto(page, req.url);
  assert.equal(new URL(page.url()).pathname, '/login', `identifier page at ${page.url()}`);
  assert.equal(await h1(page), M('fr', 'login.heading', app.name));
  scriptAllowed(b, 'the identifier page');
  assert.equal(await page.locator('input[name="identifier"]').getAttribute('autocomplete'), 'username webauthn', 'conditional UI');
  assert.equal(await passkeyForm(page).getAttribute('data-passkey'), 'get');
  assert.ok(await passkeyButton(page, 'fr').isVisible(), 'the passkey button is shown');
  await check(page, 'identifier-passkey', 'fr');
  await shot(page, 'passkey-signin.png');
  await b.presence(true);
  await pressPasskeyWithKeyboard(page, 'fr');
  const idt = await redeem(req, atCallback(page, req));
  passkeyAMR(idt, false);
  console.log(`passkeys: passwordless sign-in: acr ${idt.acr}, amr ${JSON.stringify(idt.amr)}`);
  assert.equal(b.passkeyPosts, 1, 'one answer posted');
  await take(b);
  await b.close();
}, { needs: [enrolled] });

// The browser's autofill (conditional mediation): the virtual
// authenticator answers the identifier page's background request at once,
// as a person picking their passkey in the identifier field's suggestions.
await t.test('conditional UI: the passkey offered by the identifier field\'s autofill signs in (fr)', async () => {
  const b = await open('fr', { credential });
  const { page } = b;
  const req = authorize(app);
  await Promise.all([page.waitForURL((u) => u.href.startsWith(callback.uri), { waitUntil: 'load' }), goto(page, req.url)]);
  const idt = await redeem(req, atCallback(page, req));
  passkeyAMR(idt, false);
  assert.equal(b.passkeyPosts, 1, 'one answer posted');
  await take(b);
  await b.close();
}, { needs: [enrolled] });

// 3. The password, then the passkey as the second factor.
for (const lang of LANGS) {
  await t.test(`second factor: the password, then the passkey (${lang})`, async () => {
    const b = await open(lang, { credential, presence: false });
    const { page } = b;
    const req = authorize(app);
    await goto(page, req.url);
    await signIn(page, keyed);
    await b.presence(true); // the factor page asks nothing in the background
    assert.equal(await h1(page), M(lang, 'factor.heading'));
    assert.match(await page.locator('main').innerText(), new RegExp(M(lang, 'factor.intro_passkey')));
    scriptAllowed(b, 'the factor page');
    assert.equal(await passkeyForm(page).getAttribute('data-conditional'), null, 'no conditional UI after the password');
    await check(page, 'factor-passkey', lang);
    await submit(page, passkeyButton(page, lang));
    const idt = await redeem(req, atCallback(page, req));
    passkeyAMR(idt, true);
    if (lang === 'fr') console.log(`passkeys: password then passkey: acr ${idt.acr}, amr ${JSON.stringify(idt.amr)}`);
    await take(b);
    await b.close();
  }, { needs: [enrolled] });
}

// 4. An authenticator without the passkey: the browser refuses, the page
// says so, and the password still works.
for (const lang of LANGS) {
  await t.test(`no passkey in the authenticator: the error, then the password (${lang})`, async () => {
    const b = await open(lang);
    const { page } = b;
    const req = authorize(app);
    await goto(page, req.url);
    scriptAllowed(b, 'the identifier page');
    if (lang === 'en') await check(page, 'identifier-passkey', lang);
    const alert = passkeyForm(page).getByRole('alert');
    assert.equal(await alert.isVisible(), false, 'no error before trying');
    await passkeyButton(page, lang).click();
    await alert.waitFor({ state: 'visible', timeout: 5_000 });
    assert.equal((await alert.innerText()).trim(), M(lang, 'passkey.browser_error'));
    assert.equal(new URL(page.url()).pathname, '/login', 'still on the identifier page');
    await check(page, 'identifier-passkey-error', lang);
    await signIn(page, plain);
    const idt = await redeem(req, atCallback(page, req));
    assert.deepEqual(idt.amr, ['pwd'], 'amr of a password');
    assert.equal(idt.acr, 'eidas1', 'acr of a password');
    await b.close();
  });
}

// A passkey for localhost TNO does not know (another site's account, or
// one removed): the browser signs, TNO refuses, the identifier page says
// so and offers the passkey again.
await t.test('a passkey TNO does not know: refused on the identifier page (fr)', async () => {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const b = await open('fr', {
    presence: false,
    credential: {
      credentialId: crypto.randomBytes(16).toString('base64'), isResidentCredential: true, rpId: 'localhost',
      privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
      userHandle: crypto.randomBytes(16).toString('base64'), signCount: 0,
      userName: 'inconnu@example.org', userDisplayName: 'Inconnu',
    },
  });
  const { page } = b;
  const req = authorize(app);
  await goto(page, req.url);
  await b.presence(true);
  // The page that says no asks again in the background (conditional
  // mediation), which the virtual authenticator would answer at once, and
  // so on: presence off again as the answer leaves.
  await page.route('**/login/passkey', async (route) => {
    await b.presence(false);
    await route.continue();
  });
  const res = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), passkeyButton(page, 'fr').click()]);
  assert.equal(res[0].status(), 401, 'status of the refusal');
  assert.equal(new URL(page.url()).pathname, '/login/passkey');
  assert.equal((await page.locator('#login-error').innerText()).trim(), M('fr', 'passkey.refused'));
  // The identifier was not what failed: the field is not marked invalid.
  assert.equal(await page.getAttribute('input[name="identifier"]', 'aria-invalid'), null, 'the field is not marked');
  scriptAllowed(b, 'the refusal page');
  await check(page, 'identifier-passkey-refused', 'fr');
  assert.equal(b.passkeyPosts, 1, 'one answer posted');
  // The language link of that page (the answer to a POST) stays in the
  // sign-in, and the password still works from there.
  await Promise.all([page.waitForNavigation(), page.locator('a.lang-link').click()]);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await h1(page), M('en', 'login.heading', app.name), `the language link leads to ${page.url()}`);
  assert.ok(await passkeyForm(page).isVisible(), 'the passkey form again');
  await signIn(page, plain);
  atCallback(page, req);
  await b.close();
});

// 5. Without JavaScript.
await t.test('without JavaScript: the passkey form stays hidden, the password signs in', async () => {
  const b = await open('fr', { javaScriptEnabled: false, authenticator: false });
  const { page } = b;
  const req = authorize(app);
  await goto(page, req.url);
  assert.equal(await passkeyForm(page).count(), 1, 'the passkey form is in the page');
  assert.equal(await passkeyForm(page).isVisible(), false, 'but hidden');
  await signIn(page, plain);
  atCallback(page, req);
  await b.close();
});

// The person with a passkey: the factor page offers the recovery code
// (its passkey form hidden), then the enrolment page says it needs
// JavaScript.
await t.test('without JavaScript: a recovery code instead of the passkey, the enrolment page needs JavaScript', async () => {
  const c = await open('fr', { javaScriptEnabled: false, authenticator: false });
  await goto(c.page, `${issuer}/account/security`);
  await signIn(c.page, keyed);
  assert.equal(await h1(c.page), M('fr', 'factor.heading'));
  assert.equal(await passkeyForm(c.page).count(), 1, 'the factor page has a passkey form');
  assert.equal(await passkeyForm(c.page).isVisible(), false, 'hidden without JavaScript');
  assert.equal(await c.page.locator('input[name="method"]').inputValue(), 'recovery', 'the code field takes a recovery code');
  await c.page.locator('input[name="code"]').fill(recoveryCodes[0]);
  await submit(c.page, submitButton(c.page));
  assert.equal(new URL(c.page.url()).pathname, '/account/security', `the security page at ${c.page.url()}`);
  await submit(c.page, c.page.getByRole('button', { name: M('fr', 'security.passkey_add'), exact: true }));
  assert.equal(await h1(c.page), M('fr', 'passkey.enrol_heading'));
  assert.equal(await passkeyForm(c.page).isVisible(), false, 'the enrolment form is hidden');
  assert.equal((await c.page.locator('main .alert').first().innerText()).trim(), M('fr', 'passkey.needs_js'));
  await c.close();
}, { needs: [enrolled] });

// 6. axe-core and reflow.
const summary = [];
for (const [name, langs] of Object.entries(PAGES)) {
  for (const lang of langs) {
    const e = seen.get(`${name}|${lang}`);
    summary.push({ name, lang, e });
    await t.test(`axe-core: ${name} (${lang}), 1280 px and 320 px: no violation`, async () => {
      assert.ok(e, 'page not reached (an earlier test failed)');
      const lines = e.violations.map((v) => `${v.width}px ${v.id} (${v.impact}) ${v.help}: ${v.nodes.map((n) => `${n.target} ${n.html}`).join(' | ')}`);
      if (lines.length) {
        const err = new Error(`${lines.length} violation(s) at ${e.url}:\n${lines.join('\n')}`);
        err.stack = err.message;
        throw err;
      }
    });
  }
}
await t.test('reflow: no passkey page scrolls sideways at 320 px (WCAG 1.4.10)', async () => {
  const wide = summary.filter((s) => s.e && s.e.overflow > 0).map((s) => `${s.name} (${s.lang}) +${s.e.overflow}px`);
  assert.ok(wide.length === 0, `pages wider than 320 px: ${wide.join(', ')}`);
});

console.log('axe-core summary (violations at 1280 px / 320 px):');
for (const { name, lang, e } of summary) {
  if (!e) {
    console.log(`  ${name} (${lang}): not reached`);
    continue;
  }
  const at = (w) => e.violations.filter((v) => v.width === w).map((v) => v.id);
  console.log(`  ${name} (${lang}): ${at(1280).length} / ${at(320).length}${at(1280).length + at(320).length ? ` ${[...new Set([...at(1280), ...at(320)])].join(', ')}` : ''}`);
}

await t.finish();
