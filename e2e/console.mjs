// End-to-end tests of TNO's administration console (internal/admin) in
// Debian's chromium, against a TNO of its own that run.sh starts on a
// fresh data directory (its first start printed the platform
// administrator's one-time password: CONSOLE_ADMIN_PASSWORD):
//   1. the platform administrator's first sign-in: the temporary password
//      changed, an authenticator app enrolled (the key the QR page shows,
//      RFC 6238 codes computed here), the recovery codes, /admin;
//   2. a commune created (a wrong SIREN first: its message next to the
//      field, the input kept);
//   3. its administrator: a person on the commune's people page, the
//      org_admin role on its roles page, an invitation link;
//   4. that administrator, in a new browser: the invitation link, a
//      password, the sign-in with an authenticator app, their commune;
//   5. 50 agents imported from a CSV file (dry run, then apply);
//   6. a confidential application, its secret shown once;
//   7. an imported agent invited, who chooses a password and signs into
//      that application (authorization code flow, tokens redeemed here);
//   8. a second commune and its administrator, who is refused every page
//      of the first commune (403/404) and each of its forms (POST);
//   9. axe-core on every console page reached (French, English for the
//      main ones; 320 px wide too for the people list and a person's
//      page); the people search and the create-person form with the
//      keyboard alone;
//  10. the README's screenshots (docs/screenshots/console-*.png).
// The expected texts are read from TNO's message files (internal/web and
// internal/admin).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assert, axe, env, launch, Reporter, startCallback, totpCode, totpStep } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const issuer = env('CONSOLE_ISSUER');
const platformAdmin = { user: env('CONSOLE_ADMIN_USER'), password: env('CONSOLE_ADMIN_PASSWORD') };
const screenshotDir = env('SCREENSHOT_DIR'); // "none": no screenshot
const LANGS = ['fr', 'en'];
const DESKTOP = { width: 1280, height: 800 };
const NARROW = 320;
const AGENTS = 50;

const t = new Reporter('console', { watchdogMs: 100_000 });

// ------------------------------------------------------------- messages

// The sign-in pages' messages (internal/web) and the console's, whose
// files internal/admin/messages/*.fr.json and *.en.json are merged.
function loadMessages(lang) {
  const out = JSON.parse(fs.readFileSync(path.join(here, '..', 'internal', 'web', 'messages', `${lang}.json`), 'utf8'));
  const dir = path.join(here, '..', 'internal', 'admin', 'messages');
  for (const f of fs.readdirSync(dir).sort()) {
    if (f === `${lang}.json` || f.endsWith(`.${lang}.json`)) {
      Object.assign(out, JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
    }
  }
  return out;
}
const messages = Object.fromEntries(LANGS.map((l) => [l, loadMessages(l)]));

// M returns TNO's message key in lang ("fr" when omitted), its %s and %d
// replaced by args.
function ML(lang, key, ...args) {
  const msg = messages[lang][key];
  assert.ok(msg !== undefined, `no message ${key} (${lang})`);
  let i = 0;
  return msg.replace(/%[sd]/g, () => String(args[i++]));
}
const M = (key, ...args) => ML('fr', key, ...args);

// norm folds the no-break spaces of French typography, and runs of
// white space, for comparisons with innerText.
function norm(s) {
  return String(s).replace(/[\u00a0\u202f]/g, ' ').replace(/\s+/g, ' ').trim();
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------- set-up

const browser = await launch();
t.onExit(() => browser.close());
const callback = await startCallback(Number(env('CALLBACK_PORT')));
t.onExit(callback.close);
const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();

// open returns a new browser context (no cookie shared with another) and
// its page. Every Content-Security-Policy report and script error is
// collected in problems; closing checks there were none.
async function open(options = {}) {
  const ctx = await browser.newContext({ locale: 'fr-FR', viewport: DESKTOP, ...options });
  ctx.setDefaultTimeout(10_000);
  ctx.setDefaultNavigationTimeout(10_000);
  const page = await ctx.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) {
      problems.push(`${page.url()}: ${m.text()}`);
    }
  });
  page.on('pageerror', (err) => problems.push(`${page.url()}: ${err}`));
  const b = {
    ctx, page, problems,
    close: async () => {
      await ctx.close();
      assert.deepEqual(problems, [], 'CSP reports or script errors');
    },
  };
  t.onExit(() => ctx.close().catch(() => {}));
  return b;
}

async function goto(page, url) {
  return page.goto(url.startsWith('http') ? url : `${issuer}${url}`, { waitUntil: 'load' });
}

// submit clicks button (a locator), waits for the page that follows and
// returns its response (the last one, after redirects).
async function submit(page, button) {
  const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
  return res;
}

async function h1(page) {
  return norm(await page.locator('h1').first().innerText());
}

function pathOf(page) {
  return new URL(page.url()).pathname;
}

// field finds the input labelled with message key (with or without the
// « (obligatoire) » of a required field), in scope (a page, or a form).
function field(scope, key, lang = 'fr') {
  const label = escapeRe(ML(lang, key));
  const required = escapeRe(ML(lang, 'admin.form.required'));
  return scope.getByLabel(new RegExp(`^\\s*${label}(\\s+${required})?\\s*$`));
}

// formOf is the form whose submit button is named by message key (a
// page may have several forms with the same labels).
function formOf(page, key, ...args) {
  return page.locator('form').filter({ has: page.getByRole('button', { name: M(key, ...args), exact: true }) });
}

function button(page, key, ...args) {
  return page.getByRole('button', { name: M(key, ...args), exact: true });
}

// notice is the text of the page's status message (after ?done=).
async function notice(page) {
  return norm(await page.locator('.notice[role="status"]').first().innerText());
}

// statusText is the text of the first role=status paragraph of main.
async function statusText(page) {
  return norm(await page.locator('main p[role="status"]').first().innerText());
}

function b64url(buf) {
  return buf.toString('base64url');
}

// newPassword returns a password nobody uses elsewhere (at least 12
// characters).
function newPassword() {
  return `Phrase de passe ${crypto.randomBytes(6).toString('hex')}`;
}

// ---------------------------------------------------------- page checks

// The console pages axe-core must see: name → the languages checked and
// whether it is checked at 320 px wide too. An English check reloads the
// page's URL with ?lang=en (pages reached by GET only).
const PAGES = {
  'home': { langs: LANGS },
  'orgs': { langs: LANGS },
  'orgs-error': { langs: ['fr'] },
  'org': { langs: LANGS },
  'people': { langs: LANGS, narrow: true },
  'people-error': { langs: ['fr'], narrow: true },
  'people-search': { langs: ['fr'] },
  'person': { langs: LANGS, narrow: true },
  'invite': { langs: ['fr'] },
  'roles': { langs: LANGS },
  'invitation-welcome': { langs: LANGS },
  'import': { langs: LANGS },
  'import-dry-run': { langs: ['fr'] },
  'apps': { langs: LANGS },
  'app-secret': { langs: ['fr'] },
  'app': { langs: LANGS },
  'groups': { langs: LANGS },
  'audit': { langs: LANGS },
  'platform-keys': { langs: LANGS },
  'platform-settings': { langs: LANGS },
  'platform-audit': { langs: ['fr'] },
  'platform-admins': { langs: ['fr'] },
  'refused': { langs: LANGS },
};
const seen = new Map(); // "page|lang" → { url, violations: [{ width, ... }], overflow }

// check runs axe-core on the page as it stands (French), at 1280 px and,
// for the pages that ask for it, 320 px wide (measuring any sideways
// scrolling there: WCAG 1.4.10), then in English when PAGES says so, by
// loading the same URL with ?lang=en (the tno_lang cookie this sets is
// dropped afterwards, back to French).
async function check(b, name) {
  const spec = PAGES[name];
  assert.ok(spec, `unknown page name ${name}`);
  const { page, ctx } = b;
  const url = page.url();
  for (const lang of spec.langs) {
    if (lang !== 'fr') {
      const u = new URL(url);
      u.searchParams.set('lang', lang);
      u.searchParams.delete('done');
      await goto(page, u.toString());
    }
    assert.equal(await page.getAttribute('html', 'lang'), lang, `<html lang> of ${name}`);
    const entry = { url: page.url(), violations: [], overflow: 0 };
    const before = page.viewportSize();
    try {
      for (const width of spec.narrow ? [DESKTOP.width, NARROW] : [DESKTOP.width]) {
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
  if (spec.langs.includes('en')) {
    await ctx.clearCookies({ name: 'tno_lang' });
    await goto(page, url);
  }
}

// shot saves a screenshot at 1280×800 as docs/screenshots/file: the whole
// page, or only its first 800 px (long lists).
async function shot(page, file, { fullPage = true } = {}) {
  if (screenshotDir === 'none') return;
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: path.join(screenshotDir, file), fullPage, caret: 'hide', animations: 'disabled' });
}

// ------------------------------------------------------------- sign-in

// signIn goes through the identifier and password pages.
async function signIn(page, who) {
  await field(page, 'login.identifier').fill(who.user);
  await submit(page, page.getByRole('button', { name: M('login.continue'), exact: true }));
  await page.getByLabel(M('login.password'), { exact: true }).fill(who.password);
  await submit(page, page.getByRole('button', { name: M('login.submit'), exact: true }));
}

// choosePassword fills a new-password form (temporary password or
// invitation) and sends it with the button named by key.
async function choosePassword(page, password, key) {
  await page.getByLabel(M('password_change.new'), { exact: true }).fill(password);
  await page.getByLabel(M('password_change.confirm'), { exact: true }).fill(password);
  return submit(page, page.getByRole('button', { name: M(key), exact: true }));
}

// enrolAtSignIn answers the authenticator-app page every administrator
// meets at their first sign-in: the key read from the page, a code
// computed from it; then the recovery codes, kept; then the console.
// It returns the key and the codes.
async function enrolAtSignIn(page) {
  assert.equal(await h1(page), norm(M('enrol.heading')), `the authenticator app page, at ${page.url()}`);
  assert.equal(norm(await page.locator('.notice[role="status"]').first().innerText()), norm(M('enrol.required')), 'the page says it is required');
  const key = norm(await page.locator('code.key').innerText());
  assert.match(key, /^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/, 'the key, in groups of four');
  await page.getByLabel(M('factor.totp_label'), { exact: true }).fill(totpCode(key, totpStep()));
  await page.getByLabel(M('enrol.name_label'), { exact: true }).fill('Téléphone de service');
  await submit(page, page.getByRole('button', { name: M('enrol.submit'), exact: true }));
  assert.equal(await h1(page), norm(M('recovery.heading')), `the recovery codes, at ${page.url()}`);
  const codes = (await page.getByRole('list', { name: M('recovery.list_label') }).getByRole('listitem').allInnerTexts()).map(norm);
  assert.equal(codes.length, 10, 'ten recovery codes');
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
    page.getByRole('link', { name: M('recovery.continue'), exact: true }).click()]);
  return { key, codes };
}

// ------------------------------------------------------------ the flow

const state = {};
const commune = { name: 'Commune de Belleville-sur-Vie', slug: 'belleville-sur-vie', siren: '213105554', siret: '21310555400017', badSiren: '213105555' };
const other = { name: 'Commune de Montfort-le-Rotrou', slug: 'montfort-le-rotrou', siren: '217500016', siret: '21750001600019' };
const mayor = { given: 'Hélène', family: 'Durand', user: 'helene.durand', email: 'helene.durand@belleville-sur-vie.example.fr' };
const intruder = { given: 'Marc', family: 'Lefort', user: 'marc.lefort', email: 'marc.lefort@montfort-le-rotrou.example.fr' };
const orgPath = (o) => `/admin/orgs/${o.slug}`;

// 1. The platform administrator's first sign-in.
const admin = await open();
const signedIn = await t.test('platform admin: first sign-in, temporary password changed, authenticator app, recovery codes, /admin', async () => {
  const { page } = admin;
  await goto(page, '/admin');
  assert.equal(pathOf(page), '/login', `/admin asks to sign in first, at ${page.url()}`);
  await signIn(page, platformAdmin);
  assert.equal(await h1(page), norm(M('password_change.heading')), 'the one-time password must be changed');
  platformAdmin.password = newPassword();
  await choosePassword(page, platformAdmin.password, 'password_change.submit');
  state.adminFactor = await enrolAtSignIn(page);
  assert.equal(pathOf(page), '/admin', `back at the console: ${page.url()}`);
  assert.equal(await h1(page), norm(M('admin.home.title')));
  assert.ok(norm(await page.locator('main').innerText()).includes(norm(M('admin.home.platform'))), 'the platform administrator is told so');
  await check(admin, 'home');
});

// 2. The platform administrator creates a commune: a wrong SIREN first.
const created = await t.test('platform admin creates a commune: wrong SIREN (message next to the field, input kept), then the right one', async () => {
  const { page } = admin;
  await goto(page, '/admin/orgs');
  assert.equal(await h1(page), norm(M('admin.orgs.title')));
  await check(admin, 'orgs');
  await field(page, 'admin.org.name').fill(commune.name);
  await field(page, 'admin.org.slug').fill(commune.slug);
  await field(page, 'admin.org.siren').fill(commune.badSiren.replace(/(\d{3})(?=\d)/g, '$1 ')); // « 213 105 555 »
  let res = await submit(page, button(page, 'admin.orgs.create'));
  assert.equal(res.status(), 422, 'a wrong SIREN answers 422');
  assert.ok(norm(await page.title()).startsWith(norm(M('common.title_error', M('admin.orgs.title')))), `the title says there are errors: ${await page.title()}`);
  const siren = field(page, 'admin.org.siren');
  assert.equal(await siren.getAttribute('aria-invalid'), 'true', 'the SIREN field is marked invalid');
  const describedBy = (await siren.getAttribute('aria-describedby')).split(/\s+/);
  const msgId = describedBy.find((id) => id.startsWith('e-'));
  assert.ok(msgId, `the field's message is tied to it (aria-describedby ${describedBy})`);
  assert.equal(norm(await page.locator(`#${msgId}`).innerText()), norm(M('admin.field.siren.invalid')), 'the message next to the SIREN');
  assert.ok(norm(await page.getByRole('alert').innerText()).includes(norm(M('admin.form.errors', 1))), 'the summary at the top');
  assert.equal(await field(page, 'admin.org.name').inputValue(), commune.name, 'the name is kept');
  assert.equal(await field(page, 'admin.org.slug').inputValue(), commune.slug, 'the identifier is kept');
  assert.equal((await siren.inputValue()).replace(/\s/g, ''), commune.badSiren, 'the SIREN typed is kept');
  await check(admin, 'orgs-error');
  // The summary's link leads to the field.
  await page.getByRole('alert').getByRole('link').first().click();
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.name), 'siren', 'the summary link focuses the SIREN');

  await siren.fill(commune.siren);
  await field(page, 'admin.org.siret').fill(commune.siret);
  res = await submit(page, button(page, 'admin.orgs.create'));
  assert.equal(res.status(), 200);
  assert.equal(pathOf(page), orgPath(commune), `the commune's page: ${page.url()}`);
  assert.equal(await h1(page), commune.name);
  assert.equal(await notice(page), norm(M('admin.done.created')));
  await check(admin, 'org');
}, { needs: [signedIn] });

// addAdministrator, as the platform administrator: a person on o's people
// page, the org_admin role on its roles page, an invitation; returns the
// person's page and the invitation link.
async function addAdministrator(o, who, { record = false } = {}) {
  const { page } = admin;
  await goto(page, `${orgPath(o)}/people`);
  assert.equal(await h1(page), norm(M('admin.people.heading')));
  const form = formOf(page, 'admin.people.create');
  await field(form, 'admin.person.given_name').fill(who.given);
  await field(form, 'admin.person.family_name').fill(who.family);
  await field(form, 'admin.person.username').fill(who.user);
  await field(form, 'admin.person.email').fill(who.email);
  await field(form, 'admin.membership.title').fill('Secrétaire de mairie');
  await submit(page, button(page, 'admin.people.create'));
  assert.match(pathOf(page), new RegExp(`^${escapeRe(orgPath(o))}/people/[^/]+$`), `the person's page: ${page.url()}`);
  assert.equal(await notice(page), norm(M('admin.done.created')));
  const personURL = pathOf(page);

  await goto(page, `${orgPath(o)}/roles`);
  assert.equal(await h1(page), norm(M('admin.roles.heading')));
  await field(page, 'admin.roles.username').fill(who.user);
  await field(page, 'admin.roles.role').selectOption({ label: M('admin.roles.role.org_admin') });
  await submit(page, button(page, 'admin.roles.grant'));
  assert.equal(await notice(page), norm(M('admin.done.granted')));
  const row = page.getByRole('row').filter({ hasText: who.user });
  assert.equal(await row.count(), 1, 'the roles list shows the new administrator');
  assert.ok(norm(await row.innerText()).includes(norm(M('admin.roles.role.org_admin'))), 'with the role org_admin');
  if (record) {
    await check(admin, 'roles');
    await shot(page, 'console-roles.png');
  }

  await goto(page, personURL);
  await submit(page, button(page, 'admin.person.invite'));
  assert.equal(await h1(page), norm(M('admin.invite.heading')));
  const link = norm(await page.locator('#invitation-link').innerText());
  assert.ok(link.startsWith(`${issuer}/`), `an invitation link on TNO: ${link}`);
  if (record) await check(admin, 'invite');
  return { personURL, link };
}

// acceptInvitation opens link in a new browser, chooses a password, then
// signs in to /admin (the authenticator app is enrolled there) and
// returns that browser, at the administrator's first console page.
async function acceptInvitation(link, who, { record = false } = {}) {
  const b = await open();
  const { page } = b;
  await goto(page, link);
  assert.equal(await h1(page), norm(M('invite.heading')), `the invitation page, at ${page.url()}`);
  if (record) await check(b, 'invitation-welcome');
  who.password = newPassword();
  await choosePassword(page, who.password, 'reset.submit');
  assert.equal(await h1(page), norm(M('reset_done.heading')), `the password is saved, at ${page.url()}`);
  await goto(page, '/admin');
  await signIn(page, who);
  who.factor = await enrolAtSignIn(page);
  return b;
}

// 3. The commune's administrator.
const adminAdded = await t.test('platform admin adds the commune\'s administrator: a person, the org_admin role, an invitation link', async () => {
  state.mayor = await addAdministrator(commune, mayor, { record: true });
}, { needs: [created] });

// 4. That administrator, in a new browser.
let mayorB;
const mayorIn = await t.test('commune admin: the invitation link in a new browser, a password, an authenticator app, their commune', async () => {
  mayorB = await acceptInvitation(state.mayor.link, mayor, { record: true });
  const { page } = mayorB;
  assert.equal(pathOf(page), orgPath(commune), `an administrator of one commune lands on it: ${page.url()}`);
  assert.equal(await h1(page), commune.name);
  // The navigation offers the commune's pages, not the platform's.
  const nav = page.getByRole('navigation', { name: M('admin.nav.label') });
  for (const key of ['admin.nav.people', 'admin.nav.apps', 'admin.nav.roles', 'admin.nav.audit', 'admin.nav.import']) {
    assert.equal(await nav.getByRole('link', { name: M(key), exact: true }).count(), 1, `the navigation has « ${M(key)} »`);
  }
  assert.equal(await nav.getByRole('link', { name: M('admin.nav.orgs'), exact: true }).count(), 0, 'no platform link');
}, { needs: [adminAdded] });

// 5. 50 agents from a CSV file.
const FIRST = ['Camille', 'Léa', 'Hugo', 'Chloé', 'Lucas', 'Inès', 'Théo', 'Manon', 'Nathan', 'Élodie'];
const LAST = ['Martin', 'Bernard', 'Petit', 'Lefèvre', 'Garnier'];
const SERVICES = ['Accueil', 'État civil', 'Services techniques', 'Urbanisme', 'Finances'];
const agents = [];
for (let i = 0; i < AGENTS; i++) {
  const given = FIRST[i % FIRST.length];
  const family = LAST[Math.floor(i / FIRST.length)];
  const ascii = (s) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  const user = `${ascii(given)}.${ascii(family)}`;
  agents.push({ given, family, user, email: `${user}@belleville-sur-vie.example.fr`, service: SERVICES[i % SERVICES.length],
    title: i % 7 === 0 ? 'Responsable' : 'Agent d’accueil' });
}
function agentsCSV() {
  const cell = (s) => (/[;"\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = ['identifiant;prenom;nom;courriel;qualite;service;fonction'];
  for (const a of agents) lines.push([a.user, a.given, a.family, a.email, 'agent', a.service, a.title].map(cell).join(';'));
  return Buffer.from(`\ufeff${lines.join('\r\n')}\r\n`, 'utf8');
}

const imported = await t.test(`commune admin imports ${AGENTS} agents from a CSV file: dry run, apply, the people list`, async () => {
  const { page } = mayorB;
  await goto(page, `${orgPath(commune)}/import`);
  assert.equal(pathOf(page), `${orgPath(commune)}/import`);
  assert.equal(await h1(page), norm(M('admin.import.heading')));
  await check(mayorB, 'import');
  await field(page, 'admin.import.file').setInputFiles({ name: 'agents-belleville.csv', mimeType: 'text/csv', buffer: agentsCSV() });
  const res = await submit(page, button(page, 'admin.import.check'));
  assert.equal(res.status(), 200, 'the dry run');
  assert.equal(await h1(page), norm(M('admin.import.result_heading')));
  assert.equal(await statusText(page), norm(M('admin.import.summary', 'agents-belleville.csv', AGENTS, 0, 0, 0)), 'the summary');
  const table = page.getByRole('table', { name: M('admin.import.rows_caption', 'agents-belleville.csv') });
  assert.equal(await table.locator('tbody tr').count(), AGENTS, 'one row per agent');
  assert.equal(await table.locator('tbody tr').filter({ hasText: M('admin.import.action.create') }).count(), AGENTS, `${AGENTS} to create`);
  await check(mayorB, 'import-dry-run');
  await shot(page, 'console-import-dry-run.png', { fullPage: false });
  // Nothing written yet (seen from another tab).
  const tab = await mayorB.ctx.newPage();
  await goto(tab, `${orgPath(commune)}/people`);
  assert.equal(await statusText(tab), norm(M('admin.people.count', 1)), 'the dry run wrote nothing');
  await tab.close();
  await submit(page, button(page, 'admin.import.apply_submit', AGENTS));
  assert.equal(pathOf(page), `${orgPath(commune)}/people`, `the people list after the import: ${page.url()}`);
  assert.equal(await notice(page), norm(M('admin.done.imported')));
  assert.equal(await statusText(page), norm(M('admin.people.count', AGENTS + 1)), `${AGENTS} agents and the administrator`);
  const list = page.getByRole('table', { name: M('admin.people.caption', commune.name) });
  assert.equal(await list.locator('tbody tr').count(), 50, 'a page of 50');
  assert.equal(norm(await page.getByRole('navigation', { name: M('admin.pager.label') }).innerText()).includes(norm(M('admin.pager.page', 1, 2))), true, 'page 1 of 2');
  await check(mayorB, 'people');
  await shot(page, 'console-people.png', { fullPage: false });
}, { needs: [mayorIn] });

// The create-person form with errors.
await t.test('create-person form: errors next to their fields, summary, input kept (422); then an identifier already taken', async () => {
  const { page } = mayorB;
  await goto(page, `${orgPath(commune)}/people`);
  let form = formOf(page, 'admin.people.create');
  await field(form, 'admin.person.given_name').fill('Jean-Baptiste');
  await field(form, 'admin.person.family_name').fill('');
  await field(form, 'admin.person.username').fill(agents[0].user); // taken, said once the rest is valid
  await field(form, 'admin.person.email').fill('pas-une-adresse');
  await field(form, 'admin.membership.service').fill('Police municipale');
  let res = await submit(page, button(page, 'admin.people.create'));
  assert.equal(res.status(), 422);
  assert.ok(norm(await page.title()).startsWith(norm(M('common.title_error', M('admin.people.title', commune.name)))), `the title says there are errors: ${await page.title()}`);
  // expectErrors checks the summary and each message next to its field.
  const expectErrors = async (expect) => {
    const alert = norm(await page.getByRole('alert').innerText());
    assert.ok(alert.startsWith(norm(M('admin.form.errors', Object.keys(expect).length))), `the summary: ${alert}`);
    for (const [name, msg] of Object.entries(expect)) {
      const input = page.locator(`#f-${name}`);
      assert.equal(await input.getAttribute('aria-invalid'), 'true', `${name} marked invalid`);
      assert.ok((await input.getAttribute('aria-describedby')).split(/\s+/).includes(`e-${name}`), `${name}: its message is tied to it`);
      assert.equal(norm(await page.locator(`#e-${name}`).innerText()), norm(msg), `the message next to ${name}`);
      assert.ok(alert.includes(norm(msg)), `the summary lists ${name}`);
    }
  };
  await expectErrors({ family_name: M('admin.field.required'), email: M('admin.field.email.invalid') });
  form = formOf(page, 'admin.people.create');
  assert.equal(await field(form, 'admin.person.given_name').inputValue(), 'Jean-Baptiste', 'the given name is kept');
  assert.equal(await field(form, 'admin.person.username').inputValue(), agents[0].user, 'the identifier is kept');
  assert.equal(await field(form, 'admin.person.email').inputValue(), 'pas-une-adresse', 'the e-mail typed is kept');
  assert.equal(await field(form, 'admin.membership.service').inputValue(), 'Police municipale', 'the service is kept');
  await check(mayorB, 'people-error');
  if (screenshotDir !== 'none') {
    await page.setViewportSize(DESKTOP);
    await page.locator('#new').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: path.join(screenshotDir, 'console-person-errors.png'), caret: 'hide', animations: 'disabled' });
  }

  await field(form, 'admin.person.family_name').fill('Moreau');
  await field(form, 'admin.person.email').fill('jb.moreau@belleville-sur-vie.example.fr');
  res = await submit(page, button(page, 'admin.people.create'));
  assert.equal(res.status(), 422);
  await expectErrors({ username: M('admin.field.username.taken', agents[0].user) });
  assert.equal(await field(formOf(page, 'admin.people.create'), 'admin.person.family_name').inputValue(), 'Moreau', 'the family name is kept');
}, { needs: [imported] });

// 6. A confidential application.
const APP = { name: 'Portail des agents', id: 'belleville-portail' };
const appCreated = await t.test('commune admin creates a confidential application: its secret shown once', async () => {
  const { page } = mayorB;
  await goto(page, `${orgPath(commune)}/apps`);
  assert.equal(await h1(page), norm(M('admin.apps.heading')));
  await check(mayorB, 'apps');
  await field(page, 'admin.apps.name').fill(APP.name);
  await field(page, 'admin.apps.client_id').fill(APP.id);
  await field(page, 'admin.apps.type').selectOption({ label: M('admin.apps.type.confidential') });
  await field(page, 'admin.apps.redirect_uris').fill(callback.uri);
  await field(page, 'admin.apps.first_party').check();
  const res = await submit(page, button(page, 'admin.apps.create'));
  assert.equal(res.status(), 200);
  assert.equal(await h1(page), norm(M('admin.apps.secret.heading', APP.name)));
  assert.equal(await notice(page), norm(M('admin.apps.secret.created')));
  APP.secret = norm(await page.locator('#client-secret').innerText());
  assert.ok(APP.secret.length >= 20, `a client secret: ${APP.secret}`);
  assert.ok(norm(await page.locator('main').innerText()).includes(`${issuer}/.well-known/openid-configuration`), 'the discovery URL to configure');
  await check(mayorB, 'app-secret');
  await shot(page, 'console-app-secret.png');
  // « J’ai copié le secret »: the application's page, without the secret.
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.getByRole('link', { name: M('admin.apps.secret.done'), exact: true }).click()]);
  assert.equal(await h1(page), APP.name);
  assert.ok(!(await page.content()).includes(APP.secret), 'the secret is not shown again');
  APP.url = pathOf(page);
  await check(mayorB, 'app');
}, { needs: [mayorIn] });

// 7. An imported agent, invited, signs into the application.
const agent = agents.find((a) => a.user === 'elodie.bernard');
const agentIn = await t.test('commune admin invites an imported agent, who chooses a password and signs into the application (code flow)', async () => {
  const { page } = mayorB;
  await goto(page, `${orgPath(commune)}/people`);
  // Case and accents ignored: « elodie BERNARD » finds Élodie Bernard.
  await page.getByRole('searchbox', { name: M('admin.people.search') }).fill('elodie BERNARD');
  await submit(page, page.getByRole('search').getByRole('button', { name: M('admin.search'), exact: true }));
  assert.equal(await statusText(page), norm(M('admin.people.found', 1, 'elodie BERNARD')));
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
    page.getByRole('link', { name: `${agent.family} ${agent.given}`, exact: true }).click()]);
  assert.equal(await h1(page), `${agent.given} ${agent.family}`);
  state.agentURL = pathOf(page);
  await check(mayorB, 'person');
  await shot(page, 'console-person.png');
  await submit(page, button(page, 'admin.person.invite'));
  const link = norm(await page.locator('#invitation-link').innerText());

  const b = await open();
  const p = b.page;
  await goto(p, link);
  assert.equal(await h1(p), norm(M('invite.heading')));
  agent.password = newPassword();
  await choosePassword(p, agent.password, 'reset.submit');
  assert.equal(await h1(p), norm(M('reset_done.heading')));

  const verifier = b64url(crypto.randomBytes(32));
  const q = new URLSearchParams({
    response_type: 'code', client_id: APP.id, redirect_uri: callback.uri, scope: 'openid profile email siret',
    state: b64url(crypto.randomBytes(12)), nonce: b64url(crypto.randomBytes(12)),
    code_challenge: b64url(crypto.createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256',
  });
  await goto(p, `${discovery.authorization_endpoint}?${q}`);
  assert.equal(await h1(p), norm(M('login.heading', APP.name)), 'the identifier page names the application');
  await signIn(p, agent);
  const u = new URL(p.url());
  assert.equal(`${u.origin}${u.pathname}`, callback.uri, `back at the application, at ${p.url()}`);
  assert.equal(u.searchParams.get('state'), q.get('state'), 'state');
  const code = u.searchParams.get('code');
  assert.ok(code, `a code: ${u.search}`);
  const tr = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(APP.id)}:${encodeURIComponent(APP.secret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: callback.uri, code_verifier: verifier }),
  });
  const tok = await tr.json();
  assert.equal(tr.status, 200, `token endpoint: ${JSON.stringify(tok)}`);
  const idt = JSON.parse(Buffer.from(tok.id_token.split('.')[1], 'base64url').toString());
  assert.equal(idt.nonce, q.get('nonce'), 'nonce');
  const ui = await (await fetch(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${tok.access_token}` } })).json();
  assert.equal(ui.given_name, agent.given, 'given_name');
  assert.equal(ui.family_name, agent.family, 'family_name');
  assert.equal(ui.siret, commune.siret, 'the commune\'s SIRET reaches the application');
  await b.close();
}, { needs: [imported, appCreated] });

// 8. Another commune, whose administrator is refused the first one.
let intruderB;
const intruderIn = await t.test('platform admin creates a second commune and its administrator, who signs in', async () => {
  const { page } = admin;
  await goto(page, '/admin/orgs');
  await field(page, 'admin.org.name').fill(other.name);
  await field(page, 'admin.org.slug').fill(other.slug);
  await field(page, 'admin.org.siren').fill(other.siren);
  await field(page, 'admin.org.siret').fill(other.siret);
  await submit(page, button(page, 'admin.orgs.create'));
  assert.equal(pathOf(page), orgPath(other));
  const { link } = await addAdministrator(other, intruder);
  intruderB = await acceptInvitation(link, intruder);
  assert.equal(pathOf(intruderB.page), orgPath(other), `their own commune: ${intruderB.page.url()}`);
  // The platform's pages, now with two communes.
  await goto(page, '/admin');
  assert.equal(await page.getByRole('main').getByRole('link', { name: commune.name, exact: true }).count(), 1, 'home lists the communes');
  await shot(page, 'console-home.png');
  await goto(page, '/admin/orgs');
  assert.equal(norm(await page.locator('main').innerText()).includes(norm(M('admin.orgs.count', 2))), true, 'two organizations');
  await shot(page, 'console-orgs.png');
}, { needs: [created] });

// The first commune's pages and forms, as the intruder.
const victimPages = () => [
  ['overview', orgPath(commune)],
  ['people list', `${orgPath(commune)}/people`],
  ['people search', `${orgPath(commune)}/people?q=${encodeURIComponent(agent.family)}`],
  ['person page', state.agentURL],
  ['apps', `${orgPath(commune)}/apps`],
  ['application page', APP.url],
  ['roles', `${orgPath(commune)}/roles`],
  ['import', `${orgPath(commune)}/import`],
  ['import template', `${orgPath(commune)}/import/template.csv`],
  ['audit', `${orgPath(commune)}/audit`],
  ['audit export', `${orgPath(commune)}/audit.jsonl`],
  ['groups', `${orgPath(commune)}/groups`],
  ['platform: organizations', '/admin/orgs'],
  ['platform: keys', '/admin/keys'],
  ['platform: settings', '/admin/settings'],
  ['platform: audit', '/admin/audit'],
  ['platform: administrators', '/admin/platform/admins'],
];

await t.test('the other commune\'s admin is refused each page of the first commune (403/404, nothing of it shown)', async () => {
  const { page } = intruderB;
  const wrong = [];
  let first = true;
  for (const [what, url] of victimPages()) {
    if (!url) {
      wrong.push(`${what}: no URL (an earlier step failed)`);
      continue;
    }
    const res = await goto(page, url).catch((err) => ({ status: () => `navigation failed: ${err.message.split('\n')[0]}` }));
    const status = res.status();
    if (status !== 403 && status !== 404) {
      wrong.push(`${what} ${url}: ${status}`);
      continue;
    }
    const text = norm(await page.locator('body').innerText());
    if (await h1(page) !== norm(M('admin.error.title'))) wrong.push(`${what}: the refusal page's heading is « ${await h1(page)} »`);
    for (const secret of [agent.family, mayor.user, APP.id]) {
      if (text.includes(secret)) wrong.push(`${what}: the refusal shows « ${secret} »`);
    }
    if (first) {
      first = false;
      await check(intruderB, 'refused');
    }
  }
  assert.deepEqual(wrong, [], 'pages not refused');
}, { needs: [intruderIn, agentIn] });

// before snapshots what the first commune's administrator sees.
async function victimState() {
  const { page } = mayorB;
  const out = {};
  await goto(page, `${orgPath(commune)}/people`);
  out.people = await statusText(page);
  await goto(page, state.agentURL);
  out.agentDisabled = await page.locator('main .alert').count();
  out.agentName = await h1(page);
  out.agentEmail = await field(page, 'admin.person.email').inputValue();
  await goto(page, `${orgPath(commune)}/roles`);
  out.roles = (await page.getByRole('table', { name: M('admin.roles.caption', commune.name) }).locator('tbody tr').allInnerTexts()).map(norm);
  await goto(page, `${orgPath(commune)}/apps`);
  out.apps = await statusText(page);
  await goto(page, orgPath(commune));
  out.org = norm(await page.locator('main dl').first().innerText());
  // The secret still authenticates the application: a bogus code is
  // invalid_grant, not invalid_client.
  const tr = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: 'nope', redirect_uri: callback.uri, client_id: APP.id, client_secret: APP.secret }),
  });
  out.secret = (await tr.json()).error;
  return out;
}

await t.test('the other commune\'s admin: POSTs to the first commune\'s forms answer 403/404, nothing changes', async () => {
  const { page } = intruderB;
  const before = await victimState();
  assert.equal(before.secret, 'invalid_grant', 'the secret works before');
  const post = (url, form, headers = { origin: issuer }) => page.request.post(`${issuer}${url}`, { form, headers, maxRedirects: 0, failOnStatusCode: false });
  // A control: the same kind of request on their own commune goes
  // through (303), and from another origin it is refused by the
  // cross-origin protection.
  let res = await post(`${orgPath(other)}/people`, { given_name: 'Zoé', family_name: 'Contrôle', username: 'zoe.controle', kind: 'agent' });
  assert.equal(res.status(), 303, `control: their own commune's form answers 303, got ${res.status()}`);
  res = await post(`${orgPath(other)}/people`, { given_name: 'Zoé', family_name: 'Autre', username: 'zoe.autre', kind: 'agent' }, { origin: 'http://attacker.example' });
  assert.equal(res.status(), 403, 'control: a cross-origin POST is refused');

  const csv = Buffer.from('identifiant;prenom;nom\r\nintrus.csv;Intrus;Import\r\n');
  const forms = [
    ['create a person', `${orgPath(commune)}/people`, { given_name: 'Intrus', family_name: 'Dehors', username: 'intrus.dehors', kind: 'agent' }],
    ['edit a person', state.agentURL, { version: '1', given_name: 'Pirate', family_name: agent.family, username: agent.user, email: 'pirate@attacker.example' }],
    ['deactivate a person', `${state.agentURL}/disable`, {}],
    ['reset factors', `${state.agentURL}/reset-factors`, {}],
    ['end sessions', `${state.agentURL}/end-sessions`, {}],
    ['invite', `${state.agentURL}/invite`, {}],
    ['edit the organization', orgPath(commune), { version: '1', mfa_policy: 'all', name: 'Piratée', siren: commune.siren }],
    ['create an application', `${orgPath(commune)}/apps`, { name: 'Intrus', client_id: 'intrus-app', type: 'confidential', redirect_uris: callback.uri }],
    ['edit the application', APP.url, { version: '1', name: 'Piratée', client_id: APP.id, type: 'confidential', redirect_uris: 'https://attacker.example/cb' }],
    ['rotate the secret', `${APP.url}/rotate-secret`, {}],
    ['deactivate the application', `${APP.url}/disable`, {}],
    ['delete the application', `${APP.url}/delete`, {}],
    ['grant a role', `${orgPath(commune)}/roles`, { username: intruder.user, role: 'org_admin', app: '' }],
    ['revoke a role', `${orgPath(commune)}/roles/revoke`, { person: state.mayor.personURL.split('/').pop(), role: 'org_admin', app: '' }],
    ['apply an import', `${orgPath(commune)}/import/apply`, { name: 'x.csv', content: csv.toString('base64'), sha256: crypto.createHash('sha256').update(csv).digest('hex') }],
    ['create a group', `${orgPath(commune)}/groups`, { name: 'Intrus', slug: 'intrus' }],
    ['create an organization', '/admin/orgs', { name: 'Intruse', slug: 'intruse', siren: '732829320' }],
    ['rotate the signing keys', '/admin/keys/rotate', {}],
  ];
  const wrong = [];
  for (const [what, url, form] of forms) {
    res = await post(url, form);
    if (res.status() !== 403 && res.status() !== 404) wrong.push(`${what} (POST ${url}): ${res.status()}`);
  }
  const after = await victimState();
  assert.deepEqual(wrong, [], 'forms not refused');
  assert.deepEqual(after, before, 'the first commune is unchanged');
}, { needs: [intruderIn, agentIn] });

// 9. The other console pages, and the keyboard.
await t.test('commune admin: audit log, groups, roles pages', async () => {
  const { page } = mayorB;
  await goto(page, `${orgPath(commune)}/audit`);
  assert.equal(await h1(page), norm(M('admin.audit.heading')));
  const log = page.getByRole('table', { name: M('admin.audit.caption') });
  assert.ok(await log.locator('tbody tr').count() > 0, 'the log lists events');
  assert.ok(norm(await log.innerText()).includes(agent.user), 'the import and the invitation are in the log');
  await check(mayorB, 'audit');
  await shot(page, 'console-audit.png', { fullPage: false });
  await goto(page, `${orgPath(commune)}/groups`);
  assert.equal(await h1(page), norm(M('admin.groups.heading')));
  await check(mayorB, 'groups');
}, { needs: [mayorIn] });

await t.test('audit log: every event shown is named in French, not by its type', async () => {
  const { page } = mayorB;
  await goto(page, `${orgPath(commune)}/audit`);
  const log = page.getByRole('table', { name: M('admin.audit.caption') });
  const what = (await log.locator('tbody tr td:nth-child(2)').allInnerTexts()).map(norm);
  assert.ok(what.length > 0, 'events listed');
  const raw = [...new Set(what.filter((w) => /^[a-z0-9_]+$/.test(w)))];
  assert.deepEqual(raw, [], 'event types without a label (admin.audit.type.<type>)');
}, { needs: [mayorIn] });

await t.test('platform admin: signing keys, settings, platform log and administrators pages', async () => {
  const { page } = admin;
  for (const [url, name, heading] of [
    ['/admin/keys', 'platform-keys', 'admin.platform.keys_heading'],
    ['/admin/settings', 'platform-settings', 'admin.platform.settings_heading'],
    ['/admin/audit', 'platform-audit', 'admin.audit.platform_heading'],
    ['/admin/platform/admins', 'platform-admins', 'admin.roles.platform_heading'],
  ]) {
    const res = await goto(page, url);
    assert.equal(res.status(), 200, `${url}`);
    assert.equal(await h1(page), norm(M(heading)), `${url} heading`);
    await check(admin, name);
  }
}, { needs: [signedIn] });

// focusInfo describes the focused element and how its focus shows.
async function focusInfo(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { tag: 'body' };
    const s = getComputedStyle(el);
    return {
      tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name'), type: el.getAttribute('type'),
      text: (el.innerText || '').trim().slice(0, 40),
      focusVisible: el.matches(':focus-visible'),
      outline: `${s.outlineStyle} ${s.outlineWidth}`,
      outlineShown: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2,
    };
  });
}

function describe(f) {
  return `${f.tag}${f.id ? `#${f.id}` : ''}${f.text ? ` «${f.text}»` : ''}`;
}

// tabTo presses Tab until matches(focus), checking every focused element
// shows a visible focus; returns how many presses it took.
async function tabTo(page, matches, what, max = 40) {
  const path = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focusInfo(page);
    path.push(describe(f));
    assert.ok(f.tag !== 'body', `Tab left the page after ${path.join(' → ')}`);
    // A date field's focus is drawn by Chromium on the part being edited
    // (day, month, year), not as the input's outline.
    if (f.type !== 'date') {
      assert.ok(f.focusVisible && f.outlineShown, `no visible focus on ${describe(f)} (outline ${f.outline})`);
    }
    if (matches(f)) return i + 1;
  }
  throw new Error(`${what} not reached with Tab: ${path.join(' → ')}`);
}

await t.test('keyboard only: the people search, then the create-person form, filled and sent with the keyboard', async () => {
  const { page } = mayorB;
  await goto(page, `${orgPath(commune)}/people`);
  await tabTo(page, (f) => f.id === 'q', 'the search field');
  await page.keyboard.type('lefevre'); // finds « Lefèvre »
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
  const found = agents.filter((a) => a.family === 'Lefèvre').length;
  assert.equal(await statusText(page), norm(M('admin.people.found', found, 'lefevre')), 'the search ignores accents');
  assert.equal(await page.getByRole('table', { name: M('admin.people.caption', commune.name) }).locator('tbody tr').count(), found);
  await check(mayorB, 'people-search');

  // The create-person form, from the search field onwards.
  await tabTo(page, (f) => f.id === 'f-given_name', 'the given name field', 80);
  const typed = { given_name: 'Anaïs', family_name: 'Rousseau', usual_name: '', username: 'anais.rousseau', email: 'anais.rousseau@belleville-sur-vie.example.fr' };
  for (const [name, value] of Object.entries(typed)) {
    const f = await focusInfo(page);
    assert.equal(f.id, `f-${name}`, `Tab order: expected f-${name}, at ${describe(f)}`);
    assert.ok(f.focusVisible && f.outlineShown, `no visible focus on ${describe(f)} (outline ${f.outline})`);
    await page.keyboard.type(value);
    await page.keyboard.press('Tab');
  }
  // The kind: a select, changed with the arrow keys (agent → élu).
  let f = await focusInfo(page);
  assert.equal(f.id, 'f-kind', `Tab order: the kind, at ${describe(f)}`);
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.locator('#f-kind').inputValue(), 'elu', 'the arrow key chose élu');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Conseil municipal');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Conseillère municipale');
  await tabTo(page, (x) => x.tag === 'button' && x.text === M('admin.people.create'), 'the submit button', 8);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
  assert.equal(await notice(page), norm(M('admin.done.created')), `created, at ${page.url()}`);
  assert.equal(await h1(page), 'Anaïs Rousseau');
  assert.ok(norm(await page.locator('main').innerText()).includes(norm(M('admin.kind.elu'))), 'an élue');
}, { needs: [imported] });

// The person page's actions: deactivate (the person can no longer sign
// in), reactivate, reset factors.
await t.test('person page: deactivate (sign-in refused), reactivate (sign-in works), reset factors', async () => {
  const { page } = mayorB;
  await goto(page, state.agentURL);
  await submit(page, button(page, 'admin.person.disable'));
  assert.equal(await notice(page), norm(M('admin.done.disabled')));
  assert.equal(norm(await page.locator('main .alert').first().innerText()), norm(M('admin.person.is_disabled')), 'the page says the account is disabled');
  const tryApp = async () => {
    const b = await open();
    const q = new URLSearchParams({ response_type: 'code', client_id: APP.id, redirect_uri: callback.uri, scope: 'openid',
      state: b64url(crypto.randomBytes(12)), code_challenge: b64url(crypto.createHash('sha256').update('x'.repeat(43)).digest()), code_challenge_method: 'S256' });
    await goto(b.page, `${discovery.authorization_endpoint}?${q}`);
    await signIn(b.page, agent);
    const at = b.page.url();
    await b.close();
    return at.startsWith(callback.uri);
  };
  assert.equal(await tryApp(), false, 'a deactivated agent does not reach the application');
  await submit(page, button(page, 'admin.person.enable'));
  assert.equal(await notice(page), norm(M('admin.done.enabled')));
  assert.equal(await tryApp(), true, 'reactivated, the agent signs in again');
  await submit(page, button(page, 'admin.person.reset_factors'));
  assert.equal(await notice(page), norm(M('admin.done.factors_reset')));
}, { needs: [agentIn] });

// axe-core, per page and language.
const summary = [];
for (const [name, spec] of Object.entries(PAGES)) {
  for (const lang of spec.langs) {
    const e = seen.get(`${name}|${lang}`);
    summary.push({ name, lang, e, spec });
    await t.test(`axe-core: ${name} (${lang}), ${spec.narrow ? '1280 px and 320 px' : '1280 px'}: no violation`, async () => {
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
await t.test('reflow: the people list and a person\'s page do not scroll sideways at 320 px (WCAG 1.4.10)', async () => {
  const narrow = summary.filter((s) => s.spec.narrow);
  const missing = narrow.filter((s) => !s.e).map((s) => `${s.name} (${s.lang})`);
  assert.deepEqual(missing, [], 'pages not reached');
  const wide = narrow.filter((s) => s.e.overflow > 0).map((s) => `${s.name} (${s.lang}) +${s.e.overflow}px`);
  assert.deepEqual(wide, [], 'pages wider than 320 px');
});

console.log('axe-core summary (violations):');
for (const { name, lang, e } of summary) {
  if (!e) {
    console.log(`  ${name} (${lang}): not reached`);
    continue;
  }
  const ids = [...new Set(e.violations.map((v) => `${v.id}@${v.width}`))];
  console.log(`  ${name} (${lang}): ${e.violations.length}${ids.length ? ` ${ids.join(', ')}` : ''}`);
}

await t.finish();
