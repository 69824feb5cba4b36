// End-to-end tests of TNO's sign-in pages in Debian's chromium (started by
// run.sh, which provides TNO, its people and applications):
//   1. authorize → identifier → password (wrong, then right) → organization
//      chooser → the application's callback, and the consent page;
//   2. the person's security page: an authenticator app enrolled from the
//      key the QR page shows, recovery codes; then sign-ins with the second
//      factor, a recovery code that works once;
//   3. keyboard only, with a visible focus;
//   4. without JavaScript;
//   5. axe-core on every page reached, French and English, 1280 and 320 px;
//   6. the README's screenshots (docs/screenshots/).
// The expected texts are read from TNO's own message files.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assert, axe, env, launch, Reporter, startCallback, totpCode, totpStep } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const issuer = env('TNO_ISSUER');
const territory = env('TERRITORY_NAME');
const app = { id: env('APP_CLIENT'), secret: env('APP_SECRET'), name: env('APP_NAME') };
const consentApp = { id: env('CONSENT_CLIENT'), secret: env('CONSENT_SECRET'), name: env('CONSENT_NAME') };
const chooser = { user: env('CHOOSER_USER'), password: env('CHOOSER_PASSWORD') };
const totpUsers = {
  fr: { user: env('TOTP_USER_FR'), password: env('TOTP_PASSWORD_FR') },
  en: { user: env('TOTP_USER_EN'), password: env('TOTP_PASSWORD_EN') },
};
const tempUsers = {
  fr: { user: env('TEMP_USER_FR'), password: env('TEMP_PASSWORD_FR') },
  en: { user: env('TEMP_USER_EN'), password: env('TEMP_PASSWORD_EN') },
};
const outsider = { user: env('OUTSIDER_USER'), password: env('OUTSIDER_PASSWORD') };
const screenshotDir = env('SCREENSHOT_DIR'); // "none": no screenshot
const LANGS = ['fr', 'en'];
const DESKTOP = { width: 1280, height: 800 };
const NARROW = 320;

const t = new Reporter('e2e');

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
const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();

// open returns a new browser context (no cookie shared with another) and
// its page. lang "en" is chosen the way TNO remembers a ?lang= choice
// (its tno_lang cookie); French is the default. Every Content-Security-
// Policy report and script error is collected in problems.
async function open(lang = 'fr', options = {}) {
  const ctx = await browser.newContext({ locale: 'fr-FR', viewport: DESKTOP, ...options });
  ctx.setDefaultTimeout(10_000);
  ctx.setDefaultNavigationTimeout(10_000);
  if (lang !== 'fr') {
    await ctx.addCookies([{ name: 'tno_lang', value: lang, url: issuer }]);
  }
  const page = await ctx.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) {
      problems.push(`${page.url()}: ${m.text()}`);
    }
  });
  page.on('pageerror', (err) => problems.push(`${page.url()}: ${err}`));
  return {
    ctx, page, problems,
    close: async () => {
      await ctx.close();
      assert.deepEqual(problems, [], 'CSP reports or script errors');
    },
  };
}

function b64url(buf) {
  return buf.toString('base64url');
}

// authorize returns a new authorization request of client (PKCE S256).
function authorize(client, { scope = 'openid profile siret', prompt } = {}) {
  const verifier = b64url(crypto.randomBytes(32));
  const q = new URLSearchParams({
    response_type: 'code', client_id: client.id, redirect_uri: callback.uri, scope,
    state: b64url(crypto.randomBytes(12)), nonce: b64url(crypto.randomBytes(12)),
    code_challenge: b64url(crypto.createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256',
  });
  if (prompt) q.set('prompt', prompt);
  return { url: `${discovery.authorization_endpoint}?${q}`, state: q.get('state'), verifier, client };
}

// submit clicks button (a locator) and waits for the page that follows.
async function submit(page, button) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
}

function submitButton(page) {
  return page.locator('main form button[type="submit"]').first();
}

async function goto(page, url) {
  return page.goto(url, { waitUntil: 'load' });
}

async function h1(page) {
  return (await page.locator('h1').first().innerText()).trim();
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

// redeem exchanges code at the token endpoint and returns userinfo.
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
  const ui = await fetch(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${tok.access_token}` } });
  assert.equal(ui.status, 200, 'userinfo');
  const idt = JSON.parse(Buffer.from(tok.id_token.split('.')[1], 'base64url').toString());
  return { userinfo: await ui.json(), idToken: idt };
}

// ---------------------------------------------------------- page checks

// The pages axe-core must see, each in every language.
const PAGES = [
  'error-expired', 'error-unknown-client', 'error-refused', 'identifier', 'password', 'password-error', 'chooser',
  'consent', 'account-consents', 'password-change', 'password-change-error',
  'security-empty', 'totp-enrol', 'totp-enrol-error', 'recovery-codes', 'security-with-app',
  'factor', 'factor-error', 'factor-recovery', 'factor-recovery-error',
];
const seen = new Map(); // "page|lang" → { url, violations: [{ width, ... }], overflow }

// check runs axe-core on the page at 1280 px and 320 px wide, measures any
// horizontal scrolling at 320 px (WCAG 1.4.10, reflow) and records what it
// found under name; the tests at the end report it.
async function check(page, name, lang) {
  assert.ok(PAGES.includes(name), `unknown page name ${name}`);
  assert.equal(await page.getAttribute('html', 'lang'), lang, `<html lang> of ${name}`);
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

// identifierStep fills the identifier page and goes to the password page.
async function identifierStep(page, lang, identifier) {
  await page.locator('input[name="identifier"]').fill(identifier);
  await submit(page, submitButton(page));
  assert.equal(await page.locator('input[name="password"]').count(), 1, `no password field at ${page.url()}`);
}

async function passwordStep(page, password) {
  await page.locator('input[name="password"]').fill(password);
  await submit(page, submitButton(page));
}

// signIn goes from the identifier page through the password page.
async function signIn(page, lang, who) {
  await identifierStep(page, lang, who.user);
  await passwordStep(page, who.password);
}

// ------------------------------------------------------------------ tests

const results = {};

// 1. Sign-in with the organization chooser, then a consent, per language.
for (const lang of LANGS) {
  const b = await open(lang);
  results[`chooser-${lang}`] = await t.test(`sign-in with the organization chooser (${lang})`, async () => {
    const { page } = b;
    // Error pages first: an unknown (or expired) sign-in, an unknown client.
    let res = await goto(page, `${issuer}/login?request=nope`);
    assert.equal(res.status(), 400, '/login?request=nope status');
    assert.equal(await h1(page), M(lang, 'error.title'));
    assert.ok((await page.locator('main').innerText()).includes(M(lang, 'error.expired')), 'the expired message');
    await check(page, 'error-expired', lang);
    res = await goto(page, `${discovery.authorization_endpoint}?response_type=code&client_id=nobody&redirect_uri=${encodeURIComponent(callback.uri)}&scope=openid`);
    assert.equal(res.status(), 400, 'unknown client status');
    await check(page, 'error-unknown-client', lang);

    const req = authorize(app);
    await goto(page, req.url);
    assert.equal(new URL(page.url()).pathname, '/login', `identifier page at ${page.url()}`);
    assert.equal(await h1(page), M(lang, 'login.heading', app.name));
    assert.equal((await page.locator('.brand').innerText()).trim(), territory, 'territory name in the header');
    assert.ok(await page.locator('.brand img').evaluate((img) => img.complete && img.naturalWidth > 0), 'the territory logo loads');
    assert.equal((await submitButton(page).innerText()).trim(), M(lang, 'login.continue'));
    assert.equal(await page.locator('main input:not([type="hidden"])').count(), 1, 'one field on the identifier page');
    await check(page, 'identifier', lang);
    if (lang === 'fr') await shot(page, 'signin-identifier.png');

    await identifierStep(page, lang, chooser.user);
    assert.equal((await page.locator('.identity-value').innerText()).trim(), chooser.user, 'identifier shown');
    const change = page.getByRole('link', { name: M(lang, 'login.change_identifier') });
    assert.equal(await change.count(), 1, '« Modifier l’identifiant » link');
    assert.equal((await submitButton(page).innerText()).trim(), M(lang, 'login.submit'));
    await check(page, 'password', lang);
    if (lang === 'fr') await shot(page, 'signin-password.png');

    // « Modifier l’identifiant » goes back to the identifier, kept.
    await Promise.all([page.waitForNavigation(), change.click()]);
    assert.equal(await page.locator('input[name="identifier"]').inputValue(), chooser.user, 'identifier kept');
    await identifierStep(page, lang, chooser.user);

    await passwordStep(page, `${chooser.password}-wrong`);
    const alert = page.getByRole('alert');
    assert.equal((await alert.innerText()).trim(), M(lang, 'login.invalid'));
    assert.equal(await page.getAttribute('input[name="password"]', 'aria-invalid'), 'true');
    assert.ok((await page.title()).startsWith(M(lang, 'common.title_error', M(lang, 'login.title'))), `the title says there is an error: ${await page.title()}`);
    await check(page, 'password-error', lang);

    await passwordStep(page, chooser.password);
    assert.equal(new URL(page.url()).pathname, '/select', `chooser at ${page.url()}`);
    assert.equal(await page.locator('input[type="radio"][name="membership"]').count(), 2, 'two memberships to choose from');
    assert.equal(await h1(page), M(lang, 'chooser.heading', app.name));
    await check(page, 'chooser', lang);
    if (lang === 'fr') await shot(page, 'chooser.png');

    // Without a choice the browser's own validation keeps the page.
    await page.getByLabel(/Ville de Bords-de-Seine/).check();
    await submit(page, submitButton(page));
    const code = atCallback(page, req);
    const { userinfo } = await redeem(req, code);
    assert.equal(userinfo.siret, '21690123100011', 'the organization chosen reaches the application');
  });

  results[`consent-${lang}`] = await t.test(`consent page and « Mes autorisations » (${lang})`, async () => {
    const { page } = b;
    const req = authorize(consentApp, { scope: 'openid profile email', prompt: 'consent' });
    await goto(page, req.url);
    assert.equal(new URL(page.url()).pathname, '/consent', `consent page at ${page.url()}`);
    assert.equal(await h1(page), M(lang, 'consent.heading', consentApp.name));
    assert.match(await page.locator('.who').innerText(), /Marie Martin/);
    await check(page, 'consent', lang);
    await submit(page, page.getByRole('button', { name: M(lang, 'consent.allow') }));
    atCallback(page, req);
    await goto(page, `${issuer}/account/consents`);
    assert.equal(await h1(page), M(lang, 'account.heading'));
    assert.match(await page.locator('main').innerText(), new RegExp(consentApp.name));
    await check(page, 'account-consents', lang);
  }, { needs: [results[`chooser-${lang}`]] });
  await b.close();
}

// A person no membership lets into the application: the refusal page.
for (const lang of LANGS) {
  await t.test(`no membership for the application: the refusal page (${lang})`, async () => {
    const b = await open(lang);
    const { page } = b;
    await goto(page, authorize(app).url);
    await signIn(page, lang, outsider);
    assert.equal(await h1(page), M(lang, 'refused.title'));
    await check(page, 'error-refused', lang);
    await b.close();
  });
}

// Forced change of a temporary password.
for (const lang of LANGS) {
  await t.test(`temporary password: the forced change page (${lang})`, async () => {
    const b = await open(lang);
    const { page } = b;
    const req = authorize(app);
    await goto(page, req.url);
    await signIn(page, lang, tempUsers[lang]);
    assert.equal(await h1(page), M(lang, 'password_change.heading'));
    await check(page, 'password-change', lang);
    const fresh = `Nouveau mot de passe ${crypto.randomBytes(6).toString('hex')}`;
    await page.locator('input[name="new_password"]').fill(fresh);
    await page.locator('input[name="confirm_password"]').fill(`${fresh}!`);
    await submit(page, submitButton(page));
    assert.equal((await page.getByRole('alert').innerText()).trim(), M(lang, 'password.mismatch'));
    await check(page, 'password-change-error', lang);
    await page.locator('input[name="new_password"]').fill(fresh);
    await page.locator('input[name="confirm_password"]').fill(fresh);
    await submit(page, submitButton(page));
    atCallback(page, req);
    await b.close();
  });
}

// 2. The authenticator app: enrolment on the security page, then sign-ins
// with a code, a recovery code (once).
let enrolled = {};
for (const lang of LANGS) {
  const who = totpUsers[lang];
  const state = {};
  const enrolOK = await t.test(`security page: enrol an authenticator app, recovery codes (${lang})`, async () => {
    const b = await open(lang);
    const { page } = b;
    await goto(page, `${issuer}/account/security`);
    assert.equal(await page.locator('input[name="identifier"]').count(), 1, `sign-in first, at ${page.url()}`);
    await signIn(page, lang, who);
    assert.equal(new URL(page.url()).pathname, '/account/security', `back at the security page: ${page.url()}`);
    assert.equal(await h1(page), M(lang, 'security.heading'));
    assert.ok((await page.locator('main').innerText()).includes(M(lang, 'security.none')), 'no app yet');
    await check(page, 'security-empty', lang);

    await submit(page, page.getByRole('button', { name: M(lang, 'security.enrol') }));
    assert.equal(await h1(page), M(lang, 'enrol.heading'));
    assert.equal(await page.locator('figure.qr svg[role="img"]').count(), 1, 'the QR code');
    const key = (await page.locator('code.key').innerText()).trim();
    assert.match(key, /^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/, 'the key, in groups of four');
    await check(page, 'totp-enrol', lang);
    if (lang === 'fr') await shot(page, 'security-enrol.png');

    // A wrong code first: the page says so and keeps the same key.
    const step = totpStep();
    const right = totpCode(key, step);
    let wrong = right;
    while ([-1, 0, 1].some((d) => totpCode(key, step + d) === wrong)) {
      wrong = String((Number(wrong) + 1) % 1_000_000).padStart(6, '0');
    }
    await page.locator('input[name="code"]').fill(wrong);
    await submit(page, submitButton(page));
    assert.equal((await page.getByRole('alert').innerText()).trim(), M(lang, 'factor.invalid_totp'));
    assert.equal((await page.locator('code.key').innerText()).trim(), key, 'same key after a wrong code');
    await check(page, 'totp-enrol-error', lang);

    state.enrolStep = totpStep();
    state.enrolCode = totpCode(key, state.enrolStep);
    await page.locator('input[name="code"]').fill(state.enrolCode);
    await page.locator('input[name="name"]').fill(lang === 'fr' ? 'Téléphone professionnel' : 'Work phone');
    await submit(page, submitButton(page));
    assert.equal(await h1(page), M(lang, 'recovery.heading'));
    const codes = (await page.locator('ul.codes li code').allInnerTexts()).map((c) => c.trim());
    assert.equal(codes.length, 10, 'ten recovery codes');
    await check(page, 'recovery-codes', lang);
    if (lang === 'fr') await shot(page, 'recovery-codes.png');

    await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: M(lang, 'recovery.continue') }).click()]);
    assert.equal((await page.getByRole('status').innerText()).trim(), M(lang, 'security.notice_enrolled'));
    assert.match(await page.locator('main').innerText(), lang === 'fr' ? /Téléphone professionnel/ : /Work phone/);
    await check(page, 'security-with-app', lang);
    Object.assign(state, { key, codes });
    await b.close();
  });
  enrolled[lang] = state;

  await t.test(`second factor: a code from the app, a used one refused (${lang})`, async () => {
    const b = await open(lang);
    const { page } = b;
    const req = authorize(app);
    await goto(page, req.url);
    await signIn(page, lang, who);
    assert.equal(await h1(page), M(lang, 'factor.heading'));
    const form = page.locator(`main form[action="/login/factor"]`);
    assert.equal(await form.count(), 1, 'the factor form posts to /login/factor');
    assert.equal(await form.locator('input[name="code"]').count(), 1);
    assert.equal(await page.getByRole('link', { name: M(lang, 'factor.use_recovery') }).count(), 1, 'link to use a recovery code');
    await check(page, 'factor', lang);
    if (lang === 'fr') await shot(page, 'signin-factor.png');

    // The code that confirmed the enrolment was used: refused.
    await page.locator('input[name="code"]').fill(state.enrolCode);
    await submit(page, submitButton(page));
    assert.equal((await page.getByRole('alert').innerText()).trim(), M(lang, 'factor.invalid_totp'));
    await check(page, 'factor-error', lang);

    // The next time step's code (accepted: one step of clock drift).
    await page.locator('input[name="code"]').fill(totpCode(state.key, Math.max(totpStep(), state.enrolStep) + 1));
    await submit(page, submitButton(page));
    const { idToken } = await redeem(req, atCallback(page, req));
    assert.ok(idToken.amr.includes('otp') && idToken.amr.includes('pwd'), `amr ${idToken.amr}`);
    assert.equal(idToken.acr, 'eidas2', 'acr after two factors');
    await b.close();
  }, { needs: [enrolOK] });

  await t.test(`second factor: a recovery code works once (${lang})`, async () => {
    for (const attempt of ['first', 'again']) {
      const b = await open(lang);
      const { page } = b;
      const req = authorize(app);
      await goto(page, req.url);
      await signIn(page, lang, who);
      await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: M(lang, 'factor.use_recovery') }).click()]);
      assert.equal(await page.locator('input[name="method"]').inputValue(), 'recovery');
      assert.equal(await page.getByRole('link', { name: M(lang, 'factor.use_totp') }).count(), 1, 'link back to the app code');
      if (attempt === 'first') await check(page, 'factor-recovery', lang);
      await page.locator('input[name="code"]').fill(state.codes[0].toLowerCase());
      await submit(page, submitButton(page));
      if (attempt === 'first') {
        atCallback(page, req);
      } else {
        assert.equal((await page.getByRole('alert').innerText()).trim(), M(lang, 'factor.invalid_recovery'), 'a used recovery code');
        await check(page, 'factor-recovery-error', lang);
        await page.locator('input[name="code"]').fill(state.codes[1]);
        await submit(page, submitButton(page));
        atCallback(page, req);
      }
      await b.close();
    }
  }, { needs: [enrolOK] });
}

// 3. Keyboard only.

// focusInfo describes the focused element and how its focus shows.
async function focusInfo(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { tag: 'body' };
    const s = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    return {
      tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name'), type: el.getAttribute('type'),
      cls: el.className, text: (el.innerText || el.value || '').trim().slice(0, 40),
      focusVisible: el.matches(':focus-visible'),
      outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`,
      outlineShown: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2,
      inViewport: r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight,
    };
  });
}

function describe(f) {
  return `${f.tag}${f.id ? `#${f.id}` : ''}${f.name ? `[name=${f.name}]` : ''}${f.text ? ` «${f.text}»` : ''}`;
}

// tabTo presses Tab until matches(focus) holds, checking on the way that
// every focused element shows a visible focus ring; returns the path.
async function tabTo(page, matches, what, max = 15) {
  const path = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focusInfo(page);
    path.push(describe(f));
    assert.ok(f.tag !== 'body', `Tab left the page after ${path.join(' → ')}`);
    assert.ok(f.focusVisible && f.outlineShown, `no visible focus on ${describe(f)} (outline ${f.outline}, :focus-visible ${f.focusVisible})`);
    assert.ok(f.inViewport, `focused ${describe(f)} is off screen`);
    if (matches(f)) return path;
  }
  throw new Error(`${what} not reached with Tab: ${path.join(' → ')}`);
}

await t.test('keyboard only: identifier, password and chooser with Tab and Enter, focus visible', async () => {
  const b = await open('fr');
  const { page } = b;
  const req = authorize(app);
  await goto(page, req.url);
  // First Tab: the skip link, shown on focus; Enter moves to the content.
  await page.keyboard.press('Tab');
  let f = await focusInfo(page);
  assert.ok(/skip-link/.test(f.cls), `first Tab should reach the skip link, got ${describe(f)}`);
  assert.ok(f.inViewport && f.outlineShown && f.focusVisible, `skip link visible with its focus ring (${f.outline})`);
  await page.keyboard.press('Enter');
  f = await focusInfo(page);
  assert.equal(f.id, 'contenu', 'Enter on the skip link moves focus to the content');
  await tabTo(page, (x) => x.name === 'identifier', 'the identifier field');
  await page.keyboard.type(chooser.user);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  // The password field has autofocus.
  f = await focusInfo(page);
  assert.equal(f.name, 'password', `focus on the password page: ${describe(f)}`);
  assert.ok(f.focusVisible && f.outlineShown, `autofocused password field shows its focus (${f.outline})`);
  await page.keyboard.type(chooser.password);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.equal(new URL(page.url()).pathname, '/select', `chooser at ${page.url()}`);
  await tabTo(page, (x) => x.type === 'radio', 'a membership');
  await page.keyboard.press('Space');
  await tabTo(page, (x) => x.tag === 'button', 'the submit button');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  atCallback(page, req);
  await b.close();
});

// The Tab order of the password page: the link to change the identifier,
// the password, the button (after the skip and language links), and no
// other field.
await t.test('keyboard only: Tab order of the password page', async () => {
  const b = await open('fr');
  const { page } = b;
  await goto(page, authorize(app).url);
  await identifierStep(page, 'fr', chooser.user);
  // From the autofocused password field, back to the skip link, then
  // forward to the button.
  for (let i = 0; i < 8 && !/skip-link/.test((await focusInfo(page)).cls || ''); i++) {
    await page.keyboard.press('Shift+Tab');
  }
  const order = [describe(await focusInfo(page))];
  for (let i = 0; i < 8 && (await focusInfo(page)).tag !== 'button'; i++) {
    await page.keyboard.press('Tab');
    order.push(describe(await focusInfo(page)));
  }
  assert.deepEqual(order, [
    `a «${M('fr', 'common.skip_link')}»`, `a «${M('fr', 'common.lang_switch')}»`, `a «${M('fr', 'login.change_identifier')}»`,
    'input#password[name=password]', `a «${M('fr', 'login.forgot')}»`, `button «${M('fr', 'login.submit')}»`,
  ]);
  await b.close();
});

// 4. Without JavaScript.
await t.test('without JavaScript: identifier → password → chooser → callback', async () => {
  const b = await open('fr', { javaScriptEnabled: false });
  const { page } = b;
  const req = authorize(app);
  await goto(page, req.url);
  await signIn(page, 'fr', chooser);
  assert.equal(new URL(page.url()).pathname, '/select');
  await page.locator('input[type="radio"]').first().check();
  await submit(page, submitButton(page));
  atCallback(page, req);
  await b.close();
});

// The language link.
await t.test('language link: French ⇄ English on the identifier page', async () => {
  const b = await open('fr');
  const { page } = b;
  await goto(page, authorize(app).url);
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  const link = page.locator('a.lang-link');
  assert.equal(await link.getAttribute('hreflang'), 'en');
  await Promise.all([page.waitForNavigation(), link.click()]);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal((await submitButton(page).innerText()).trim(), M('en', 'login.continue'));
  const cookies = await b.ctx.cookies(issuer);
  assert.ok(cookies.some((c) => c.name === 'tno_lang' && c.value === 'en'), 'the choice is remembered');
  await Promise.all([page.waitForNavigation(), page.locator('a.lang-link').click()]);
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  await b.close();
});

// The language link of a page that answers a form (the password page is
// the answer to the identifier's POST) must lead to the same step in the
// other language, not out of the sign-in.
await t.test('language link on the password page keeps the sign-in', async () => {
  const b = await open('fr');
  const { page } = b;
  await goto(page, authorize(app).url);
  await identifierStep(page, 'fr', chooser.user);
  const href = await page.locator('a.lang-link').getAttribute('href');
  await Promise.all([page.waitForNavigation(), page.locator('a.lang-link').click()]);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.notEqual(await h1(page), M('en', 'error.title'),
    `the link ${JSON.stringify(href)} leaves the sign-in: ${page.url()} says « ${(await page.locator('main').innerText()).replace(/\s+/g, ' ').slice(0, 120)} »`);
  assert.ok(await page.locator('input[name="identifier"], input[name="password"]').count() > 0, 'still signing in');
  await b.close();
});

// 6. The phone screenshot.
if (screenshotDir !== 'none') {
  await t.test('screenshot: identifier page on a 390 px phone', async () => {
    const b = await open('fr', { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await goto(b.page, authorize(app).url);
    await b.page.screenshot({ path: path.join(screenshotDir, 'signin-identifier-phone.png'), fullPage: true, caret: 'hide' });
    await b.close();
  });
}

// 5. axe-core and reflow, per page and language.
const summary = [];
for (const name of PAGES) {
  for (const lang of LANGS) {
    const e = seen.get(`${name}|${lang}`);
    summary.push({ name, lang, e });
    await t.test(`axe-core: ${name} (${lang}), 1280 px and 320 px: no violation`, async () => {
      assert.ok(e, 'page not reached (an earlier test failed)');
      const lines = e.violations.map((v) => `${v.width}px ${v.id} (${v.impact}) ${v.help}: ${v.nodes.map((n) => `${n.target} ${n.html}`).join(' | ')}`);
      if (lines.length) {
        const err = new Error(`${lines.length} violation(s) at ${e.url}:\n${lines.join('\n')}`);
        err.stack = err.message; // where in this file is of no interest
        throw err;
      }
    });
  }
}
await t.test('reflow: no page scrolls sideways at 320 px (WCAG 1.4.10)', async () => {
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
