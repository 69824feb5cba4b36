// Interop with Apache mod_auth_openidc (Debian's libapache2-mod-auth-openidc)
// as the relying party, driven by a real browser (Debian's chromium through
// playwright-core). Started by run.sh, which provides TNO and Apache.
import { assert, Browser, env, isTNOPath, parseLines, Reporter, signIn } from './lib.mjs';

const issuer = env('TNO_ISSUER');
const appOne = env('APP_ONE_URL'); // http://127.0.0.1:port, client CLIENT_ONE
const appTwo = env('APP_TWO_URL'); // http://127.0.0.1:port, client CLIENT_TWO
const clientOne = env('CLIENT_ONE');
const clientTwo = env('CLIENT_TWO');
const username = env('USER_NAME');
const password = env('USER_PASSWORD');
const expected = {
  sub: env('USER_SUB'),
  email: env('USER_EMAIL'),
  siret: env('ORG_SIRET'),
  given_name: env('USER_GIVEN_NAME'),
  family_name: env('USER_FAMILY_NAME'),
};

const t = new Reporter('mod_auth_openidc');

// protectedPage reads the claims page the CGI script prints.
async function protectedPage(page, app) {
  const url = new URL(page.url());
  assert.equal(url.origin + url.pathname, `${app}/protected/`, `expected the protected page, at ${page.url()}`);
  const text = await page.locator('body').innerText();
  const kv = parseLines(text);
  assert.equal(kv.PAGE, 'protected', `unexpected page content:\n${text}`);
  return kv;
}

function assertClaims(kv) {
  assert.equal(kv.OIDC_CLAIM_sub, expected.sub, 'OIDC_CLAIM_sub');
  assert.equal(kv.OIDC_CLAIM_email, expected.email, 'OIDC_CLAIM_email');
  assert.equal(kv.OIDC_CLAIM_siret, expected.siret, 'OIDC_CLAIM_siret');
  assert.equal(kv.OIDC_CLAIM_given_name, expected.given_name, 'OIDC_CLAIM_given_name');
  assert.equal(kv.OIDC_CLAIM_family_name, expected.family_name, 'OIDC_CLAIM_family_name');
  assert.equal(kv.OIDC_CLAIM_preferred_username, username, 'OIDC_CLAIM_preferred_username');
  assert.equal(kv.OIDC_CLAIM_iss, issuer, 'OIDC_CLAIM_iss');
  assert.equal(kv.AUTH_TYPE, 'openid-connect', 'AUTH_TYPE');
  assert.ok((kv.REMOTE_USER ?? '').startsWith(`${expected.sub}@`), `REMOTE_USER ${kv.REMOTE_USER} is not sub@issuer`);
}

// authorizeRequests returns the authorization requests among requests.
function authorizeRequests(requests) {
  return requests.filter((r) => isTNOPath(r.url, issuer, '/authorize'));
}

function loginPageShown(requests) {
  return requests.some((r) => isTNOPath(r.url, issuer, '/login'));
}

// --- 1. sign-in through application one, then SSO into application two.
const browser = await Browser.open();
t.onExit(() => browser.close());
const { page } = browser;

const redirected = await t.test('an anonymous visit to /protected/ lands on TNO\'s sign-in page', async () => {
  const since = browser.mark();
  await page.goto(`${appOne}/protected/`);
  assert.ok(isTNOPath(page.url(), issuer, '/login'), `expected TNO's /login, at ${page.url()}`);
  assert.equal(await page.locator('input[name="identifier"]').count(), 1);
  const authz = authorizeRequests(since());
  assert.equal(authz.length, 1, 'one authorization request');
  const q = authz[0].url.searchParams;
  assert.equal(q.get('client_id'), clientOne);
  assert.equal(q.get('response_type'), 'code');
  assert.equal(q.get('redirect_uri'), `${appOne}/protected/redirect_uri`);
  assert.deepEqual(q.get('scope').split(' ').sort(), ['email', 'openid', 'profile', 'siret']);
  assert.equal(q.get('code_challenge_method'), 'S256', 'mod_auth_openidc sends PKCE S256');
  assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.ok(q.get('state'), 'state');
  assert.ok(q.get('nonce'), 'nonce');
});

const signedIn = await t.test('signing in returns to the protected page with sub, email and siret', async () => {
  await signIn(page, username, password);
  const kv = await protectedPage(page, appOne);
  assertClaims(kv);
  const names = (await browser.cookies(appOne)).map((c) => c.name);
  assert.ok(names.includes('interop_app_one_session'), `application one's session cookie is set (${names})`);
}, { needs: [redirected] });

await t.test('a second visit uses the application session (no new authorization request)', async () => {
  const since = browser.mark();
  await page.goto(`${appOne}/protected/`);
  assertClaims(await protectedPage(page, appOne));
  assert.equal(authorizeRequests(since()).length, 0, 'no request to TNO');
}, { needs: [signedIn] });

await t.test('SSO: a second application (another client_id) signs in without the password', async () => {
  const since = browser.mark();
  await page.goto(`${appTwo}/protected/`);
  const requests = since();
  assert.ok(!loginPageShown(requests), `TNO's sign-in page was shown: ${requests.map((r) => r.url.href).join(' ')}`);
  const authz = authorizeRequests(requests);
  assert.equal(authz.length, 1, 'application two went through TNO');
  assert.equal(authz[0].url.searchParams.get('client_id'), clientTwo);
  // TNO showed no page at all: each of its answers was a redirect.
  for (const r of requests.filter((x) => x.url.origin === new URL(issuer).origin)) {
    const status = (await r.request.response())?.status();
    assert.ok(status >= 300 && status < 400, `TNO answered ${r.url.pathname} with ${status}, not a redirect`);
  }
  const kv = await protectedPage(page, appTwo);
  assertClaims(kv);
}, { needs: [signedIn] });

// --- 2. wrong password: TNO's error, no session at the relying party.
const other = await Browser.open();
t.onExit(() => other.close());

const refused = await t.test('a wrong password shows TNO\'s error (role="alert") and no session at the RP', async () => {
  const p = other.page;
  await p.goto(`${appOne}/protected/`);
  assert.ok(isTNOPath(p.url(), issuer, '/login'), `expected TNO's /login, at ${p.url()}`);
  const since = other.mark();
  await signIn(p, username, `${password}-wrong`);
  assert.ok(isTNOPath(p.url(), issuer, '/login'), `still on TNO's sign-in page, at ${p.url()}`);
  const alert = p.locator('[role="alert"]');
  assert.equal(await alert.count(), 1, 'one alert');
  assert.notEqual((await alert.innerText()).trim(), '', 'the alert says something');
  assert.ok(!since().some((r) => r.url.origin === appOne), 'nothing was sent to the application');
  const names = (await other.cookies(appOne)).map((c) => c.name);
  assert.ok(!names.includes('interop_app_one_session'), `no RP session cookie (${names})`);
  assert.ok(!names.some((n) => n.endsWith('tno_session')), `no TNO session cookie (${names})`);
  // The application still demands a sign-in.
  await p.goto(`${appOne}/protected/`);
  assert.ok(isTNOPath(p.url(), issuer, '/login'), `expected TNO's /login again, at ${p.url()}`);
});

await t.test('the right password after a wrong one signs in', async () => {
  const p = other.page;
  await signIn(p, username, password);
  assertClaims(await protectedPage(p, appOne));
}, { needs: [refused] });

// --- 3. two memberships: TNO asks which organization, siret follows it.
const third = await Browser.open();
t.onExit(() => third.close());

await t.test('a person with two memberships chooses the organization; siret is the chosen one\'s', async () => {
  const p = third.page;
  await p.goto(`${appOne}/protected/`);
  assert.ok(isTNOPath(p.url(), issuer, '/login'), `expected TNO's /login, at ${p.url()}`);
  await signIn(p, env('SECOND_USER_NAME'), env('SECOND_USER_PASSWORD'));
  assert.ok(isTNOPath(p.url(), issuer, '/select'), `expected TNO's chooser (/select), at ${p.url()}`);
  const choices = p.locator('input[type="radio"][name="membership"]');
  assert.equal(await choices.count(), 2, 'two memberships to choose from');
  await p.getByLabel(env('COMMUNE_NAME')).check();
  await Promise.all([
    p.waitForNavigation({ waitUntil: 'load' }),
    p.locator('form button[type="submit"]').click(),
  ]);
  const kv = await protectedPage(p, appOne);
  assert.equal(kv.OIDC_CLAIM_sub, env('SECOND_USER_SUB'), 'OIDC_CLAIM_sub');
  assert.equal(kv.OIDC_CLAIM_siret, env('COMMUNE_SIRET'), 'OIDC_CLAIM_siret of the chosen organization');
});

await t.finish();
