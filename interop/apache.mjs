// Interop with Apache mod_auth_openidc (Debian's libapache2-mod-auth-openidc)
// as the relying party, driven by a real browser (Debian's chromium through
// playwright-core). Started by run.sh, which provides TNO and Apache.
import fs from 'node:fs';
import { assert, Browser, env, isTNOPath, parseLines, Reporter, signIn } from './lib.mjs';

const issuer = env('TNO_ISSUER');
const appOne = env('APP_ONE_URL'); // http://127.0.0.1:port, client CLIENT_ONE
const appTwo = env('APP_TWO_URL'); // http://127.0.0.1:port, client CLIENT_TWO
const clientOne = env('CLIENT_ONE');
const clientTwo = env('CLIENT_TWO');
const appOneLoggedOut = env('APP_ONE_LOGGED_OUT_URL'); // registered post-logout URI of CLIENT_ONE
const appTwoBackchannel = env('APP_TWO_BACKCHANNEL_URL'); // registered back-channel URI of CLIENT_TWO
const accessLog = env('APACHE_ACCESS_LOG');
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// appSession asks app for /protected/ with b's cookies, following no
// redirect: alive is true when mod_auth_openidc serves the page (it has a
// session), else status and location say where it sends the browser.
async function appSession(b, app) {
  const res = await b.context.request.get(`${app}/protected/`, {
    maxRedirects: 0, headers: { accept: 'text/html' },
  });
  const alive = res.status() === 200 && parseLines(await res.text()).PAGE === 'protected';
  return { alive, status: res.status(), location: res.headers().location ?? '' };
}

// waitSessionGone polls appSession until app has no session for b any
// more (TNO's back-channel notification reached it), for at most ms, and
// returns how long it took and the last answer.
async function waitSessionGone(b, app, ms) {
  const start = Date.now();
  for (;;) {
    const s = await appSession(b, app);
    if (!s.alive) return { ...s, after: Date.now() - start };
    if (Date.now() - start > ms) return { ...s, after: Date.now() - start };
    await sleep(100);
  }
}

// accessLogSize is where Apache's access log ends now; accessLogFrom
// returns the lines logged after such an offset.
function accessLogSize() {
  return fs.statSync(accessLog).size;
}
function accessLogFrom(offset) {
  const buf = fs.readFileSync(accessLog);
  return buf.subarray(offset).toString().split('\n').filter(Boolean);
}

// backchannelLines are Apache's access log lines of logout-token posts.
function backchannelLines(lines) {
  const path = new URL(appTwoBackchannel);
  return lines.filter((l) => l.includes(`"POST ${path.pathname}${path.search} `));
}

// assertBackchannelLogout waits for the back channel to end b's session at
// application two and checks how: mod_auth_openidc sends the browser to
// TNO again, after Apache received a logout token (a POST to the
// registered back-channel URI, answered 200).
async function assertBackchannelLogout(b, logOffset) {
  // TNO's sender is woken at once; a failed delivery is retried after 10 s.
  const gone = await waitSessionGone(b, appTwo, 15_000);
  // Apache logs the POST once its answer is sent: give it a moment.
  let posts = [];
  for (const deadline = Date.now() + 2_000; ; await sleep(50)) {
    posts = backchannelLines(accessLogFrom(logOffset));
    if (posts.some((l) => / 200 /.test(l)) || Date.now() > deadline) break;
  }
  assert.ok(!gone.alive, `application two still has its session ${gone.after} ms after the sign-out; ` +
    `back-channel posts Apache received: ${JSON.stringify(posts)}`);
  assert.ok(gone.status >= 300 && gone.status < 400 && isTNOPath(gone.location, issuer, '/authorize'),
    `without its session application two sends the browser to TNO: got ${gone.status} ${gone.location}`);
  assert.ok(posts.some((l) => / 200 /.test(l)),
    `Apache received the logout token at the back-channel URI and mod_auth_openidc answered 200: ${JSON.stringify(posts)}`);
  console.log(`    (application two's session ended ${gone.after} ms after the sign-out)`);
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

// --- 4. Back-channel logout: application two (CLIENT_TWO) registered
// mod_auth_openidc's back-channel endpoint; signing out at TNO must end its
// session, which only happens if mod_auth_openidc accepted TNO's signed
// logout token (signature, iss, aud, iat, jti, events, sid) and found its
// session by sid. A fresh browser, to sign out of nothing else.
const fourth = await Browser.open();
t.onExit(() => fourth.close());

const bcSignedIn = await t.test('back-channel logout: signed in to application two (its session is alive)', async () => {
  const p = fourth.page;
  await p.goto(`${appTwo}/protected/`);
  assert.ok(isTNOPath(p.url(), issuer, '/login'), `expected TNO's /login, at ${p.url()}`);
  await signIn(p, username, password);
  assertClaims(await protectedPage(p, appTwo));
  assert.ok((await appSession(fourth, appTwo)).alive, 'application two serves the page from its session');
});

await t.test('back-channel logout: signing out at TNO (/logout, confirmed) ends application two\'s session', async () => {
  const p = fourth.page;
  const logOffset = accessLogSize();
  // No id_token_hint: TNO asks the person to confirm.
  await p.goto(`${issuer}/logout`);
  assert.ok(isTNOPath(p.url(), issuer, '/logout'), `expected TNO's sign-out confirmation, at ${p.url()}`);
  const confirm = p.locator('form[action$="/logout/confirm"] button[type="submit"]');
  assert.equal(await confirm.count(), 1, 'a confirmation button');
  await Promise.all([p.waitForNavigation({ waitUntil: 'load' }), confirm.click()]);
  assert.ok(!(await fourth.cookies(issuer)).some((c) => c.name.endsWith('tno_session') && c.value),
    'TNO\'s session cookie is cleared');
  await assertBackchannelLogout(fourth, logOffset);
  // The next visit goes back to TNO, which asks for the password.
  await p.goto(`${appTwo}/protected/`);
  assert.ok(isTNOPath(p.url(), issuer, '/login'), `expected TNO's /login, at ${p.url()}`);
}, { needs: [bcSignedIn] });

// --- 5. RP-initiated logout through mod_auth_openidc's own sign-out, in
// the first browser, signed in to both applications: application one
// ends its session and sends the browser to TNO's end_session_endpoint
// (from discovery) with id_token_hint and post_logout_redirect_uri; TNO
// ends its session and redirects to that registered URI.
let rpLogoutOffset; // access.log size before that sign-out
const rpLogout = await t.test('RP-initiated logout via mod_auth_openidc (?logout=URL): TNO ends the session and returns to the post-logout URI', async () => {
  assert.ok((await appSession(browser, appOne)).alive, 'application one has a session before');
  assert.ok((await appSession(browser, appTwo)).alive, 'application two has a session before');
  const logOffset = accessLogSize();
  const since = browser.mark();
  await page.goto(`${appOne}/protected/redirect_uri?logout=${encodeURIComponent(appOneLoggedOut)}`);
  const requests = since();
  const end = requests.filter((r) => isTNOPath(r.url, issuer, '/logout'));
  assert.equal(end.length, 1, `one request to TNO's end_session_endpoint: ${requests.map((r) => r.url.href).join(' ')}`);
  const q = end[0].url.searchParams;
  assert.equal(q.get('post_logout_redirect_uri'), appOneLoggedOut, 'post_logout_redirect_uri');
  const hint = q.get('id_token_hint') ?? '';
  assert.equal(hint.split('.').length, 3, 'mod_auth_openidc sends its ID token as id_token_hint');
  assert.equal(JSON.parse(Buffer.from(hint.split('.')[1], 'base64url')).aud, clientOne, 'the hint is application one\'s ID token');
  const res = await end[0].request.response();
  assert.equal(res?.status(), 302, 'TNO redirects at once (the hint is from the current session)');
  const loc = new URL(res.headers().location, issuer);
  assert.equal(loc.origin + loc.pathname, appOneLoggedOut, 'TNO redirects to the registered post_logout_redirect_uri');
  if (q.get('state')) assert.equal(loc.searchParams.get('state'), q.get('state'), 'with the state');
  const landed = new URL(page.url());
  assert.equal(landed.origin + landed.pathname, appOneLoggedOut, `the browser lands on the post-logout page, at ${page.url()}`);
  assert.equal(parseLines(await page.locator('body').innerText()).PAGE, 'loggedout');
  // Both sessions are gone: application one's and TNO's.
  await page.goto(`${appOne}/protected/`);
  assert.ok(isTNOPath(page.url(), issuer, '/login'), `expected TNO's /login, at ${page.url()}`);
  rpLogoutOffset = logOffset;
}, { needs: [signedIn] });

await t.test('the same sign-out ends application two\'s session through the back channel', async () => {
  await assertBackchannelLogout(browser, rpLogoutOffset);
}, { needs: [rpLogout] });

await t.finish();
