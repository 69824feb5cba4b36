// Interop with the npm openid-client library (v6, by panva) as a second,
// independent relying party: discovery, authorization code flow with PKCE
// S256, state and nonce, client_secret_basic and a public client, userinfo,
// and the errors a client must get. The sign-in itself is done in a real
// browser (Debian's chromium through playwright-core); the redirect URI is
// a small local HTTP server. Started by run.sh, which provides TNO.
import crypto from 'node:crypto';
import http from 'node:http';
import * as client from 'openid-client';
import { assert, Browser, env, isTNOPath, Reporter, signIn } from './lib.mjs';

const issuer = env('TNO_ISSUER');
const confidentialID = env('NODE_CLIENT');
const confidentialSecret = env('NODE_CLIENT_SECRET');
const publicID = env('NODE_PUBLIC_CLIENT');
const redirectURI = `http://127.0.0.1:${env('CALLBACK_PORT')}/callback`;
const username = env('USER_NAME');
const password = env('USER_PASSWORD');
const expected = {
  sub: env('USER_SUB'),
  email: env('USER_EMAIL'),
  siret: env('ORG_SIRET'),
  given_name: env('USER_GIVEN_NAME'),
  family_name: env('USER_FAMILY_NAME'),
};
const scope = 'openid profile email siret';

const t = new Reporter('openid-client');

// --- The redirect URI: records each callback and answers a plain page.
const callbacks = [];
let waiters = [];
const server = http.createServer((req, res) => {
  const url = new URL(req.url, redirectURI);
  if (url.pathname !== '/callback') { // e.g. the browser's /favicon.ico
    res.writeHead(404).end();
    return;
  }
  callbacks.push(url);
  for (const w of waiters) w(url);
  waiters = [];
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end('callback received\n');
});
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(env('CALLBACK_PORT')), '127.0.0.1', resolve);
});
t.onExit(() => new Promise((resolve) => server.close(resolve)));

// nextCallback resolves with the next callback URL, or rejects after ms.
function nextCallback(ms = 15_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no callback to ${redirectURI} within ${ms} ms`)), ms);
    waiters.push((url) => {
      clearTimeout(timer);
      resolve(url);
    });
  });
}

// --- Every HTTP request openid-client sends, to check how it authenticates.
const sent = [];
function recordingFetch(url, options) {
  sent.push({ url: new URL(url), method: options.method, headers: new Headers(options.headers), body: options.body });
  return fetch(url, options);
}
const discoveryOptions = { execute: [client.allowInsecureRequests], [client.customFetch]: recordingFetch };

function lastRequestTo(pathname) {
  const r = sent.findLast((x) => x.url.pathname === pathname);
  assert.ok(r, `openid-client sent no request to ${pathname}`);
  return r;
}

function bodyParams(body) {
  return new URLSearchParams(body instanceof URLSearchParams ? body : String(body ?? ''));
}

// atHash is OpenID Connect Core section 3.1.3.6's at_hash for an ID token
// signed with alg.
function atHash(alg, accessToken) {
  const bits = { 256: 'sha256', 384: 'sha384', 512: 'sha512' }[alg.slice(2)];
  assert.ok(bits, `unexpected ID token alg ${alg}`);
  const sum = crypto.createHash(bits).update(accessToken, 'ascii').digest();
  return sum.subarray(0, sum.length / 2).toString('base64url');
}

function idTokenHeader(idToken) {
  return JSON.parse(Buffer.from(idToken.split('.')[0], 'base64url').toString());
}

// authorize sends browser to TNO with a fresh authorization request and
// returns the callback URL and the values the client must keep. It signs
// in when TNO asks and expectLogin says it may.
async function authorize(browser, config, { pkce = true, expectLogin, pw = password, extra = {} } = {}) {
  const checks = { state: client.randomState(), nonce: client.randomNonce() };
  const params = { redirect_uri: redirectURI, scope, state: checks.state, nonce: checks.nonce, ...extra };
  if (pkce) {
    checks.verifier = client.randomPKCECodeVerifier();
    params.code_challenge = await client.calculatePKCECodeChallenge(checks.verifier);
    params.code_challenge_method = 'S256';
  }
  const url = client.buildAuthorizationUrl(config, params);
  assert.equal(url.origin + url.pathname, `${issuer}/authorize`);
  const callback = nextCallback();
  callback.catch(() => {}); // awaited below, or abandoned on failure
  const since = browser.mark();
  await browser.page.goto(url.href);
  const loginShown = isTNOPath(browser.page.url(), issuer, '/login') ||
    since().some((r) => isTNOPath(r.url, issuer, '/login'));
  if (expectLogin !== undefined) {
    assert.equal(loginShown, expectLogin, expectLogin ? 'TNO asks to sign in' : 'no sign-in page (SSO)');
  }
  if (isTNOPath(browser.page.url(), issuer, '/login')) {
    await signIn(browser.page, username, pw);
  }
  return { callbackURL: await callback, checks };
}

async function grant(config, { callbackURL, checks }) {
  return client.authorizationCodeGrant(config, callbackURL, {
    pkceCodeVerifier: checks.verifier,
    expectedState: checks.state,
    expectedNonce: checks.nonce,
    idTokenExpected: true,
  });
}

function assertIDToken(tokens, clientID, nonce) {
  const c = tokens.claims();
  assert.ok(c, 'an ID token');
  assert.equal(c.iss, issuer);
  assert.equal(c.sub, expected.sub);
  assert.equal(c.aud, clientID);
  assert.equal(c.nonce, nonce);
  assert.equal(c.email, expected.email);
  assert.equal(c.siret, expected.siret);
  assert.equal(c.given_name, expected.given_name);
  assert.equal(c.family_name, expected.family_name);
  assert.equal(typeof c.auth_time, 'number', 'auth_time');
  const alg = idTokenHeader(tokens.id_token).alg;
  assert.equal(c.at_hash, atHash(alg, tokens.access_token), 'at_hash matches the access token');
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  assert.ok(tokens.expiresIn() > 0, 'expires_in');
}

// assertOAuthError runs fn and checks it fails with the OAuth error code.
async function assertOAuthError(fn, code) {
  await assert.rejects(fn, (err) => {
    assert.equal(err.error ?? err.cause?.error, code, `expected OAuth error ${code}, got ${err.error ?? err.message}`);
    return true;
  });
}

// --- Discovery.
let conf, pub;
const discovered = await t.test('discovery (client_secret_basic and public clients)', async () => {
  conf = await client.discovery(new URL(issuer), confidentialID, undefined,
    client.ClientSecretBasic(confidentialSecret), discoveryOptions);
  pub = await client.discovery(new URL(issuer), publicID, undefined, client.None(), discoveryOptions);
  const m = conf.serverMetadata();
  assert.equal(m.issuer, issuer);
  assert.ok(m.code_challenge_methods_supported.includes('S256'));
  assert.ok(m.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
  assert.ok(m.token_endpoint_auth_methods_supported.includes('none'));
  // Verify ID token signatures against the JWKS too (openid-client skips
  // it by default for tokens received directly from the token endpoint).
  client.enableNonRepudiationChecks(conf);
  client.enableNonRepudiationChecks(pub);
});

const browser = await Browser.open();
t.onExit(() => browser.close());

// --- Confidential client, client_secret_basic.
let tokens;
const confidentialOK = await t.test('confidential client: code flow with PKCE S256, state, nonce; client_secret_basic', async () => {
  const auth = await authorize(browser, conf, { expectLogin: true });
  assert.equal(auth.callbackURL.searchParams.get('iss'), issuer, 'RFC 9207 iss in the authorization response');
  tokens = await grant(conf, auth);
  const req = lastRequestTo('/token');
  assert.match(req.headers.get('authorization') ?? '', /^Basic /, 'client_secret_basic');
  const body = bodyParams(req.body);
  assert.equal(body.get('client_secret'), null, 'no secret in the body');
  assert.equal(body.get('code_verifier'), auth.checks.verifier);
  assertIDToken(tokens, confidentialID, auth.checks.nonce);
}, { needs: [discovered] });

await t.test('userinfo returns the same person and claims', async () => {
  const info = await client.fetchUserInfo(conf, tokens.access_token, expected.sub);
  assert.equal(info.sub, expected.sub);
  assert.equal(info.email, expected.email);
  assert.equal(info.siret, expected.siret);
  assert.equal(info.preferred_username, username);
}, { needs: [confidentialOK] });

// --- Public client, PKCE only.
await t.test('public client (auth method none) with PKCE, through the SSO session', async () => {
  const auth = await authorize(browser, pub, { expectLogin: false });
  const pt = await grant(pub, auth);
  const req = lastRequestTo('/token');
  assert.equal(req.headers.get('authorization'), null, 'no client authentication header');
  assert.equal(bodyParams(req.body).get('client_id'), publicID);
  assertIDToken(pt, publicID, auth.checks.nonce);
  const info = await client.fetchUserInfo(pub, pt.access_token, expected.sub);
  assert.equal(info.sub, expected.sub);
}, { needs: [confidentialOK] });

await t.test('public client without PKCE: invalid_request sent back to the client', async () => {
  const auth = await authorize(browser, pub, { pkce: false, expectLogin: false });
  assert.equal(auth.callbackURL.searchParams.get('error'), 'invalid_request');
  assert.equal(auth.callbackURL.searchParams.get('state'), auth.checks.state);
  await assert.rejects(grant(pub, auth), (err) => {
    assert.equal(err.error, 'invalid_request');
    return true;
  });
}, { needs: [confidentialOK] });

// --- Errors a client must get.
await t.test('a replayed code is refused (invalid_grant) and its tokens are revoked', async () => {
  const auth = await authorize(browser, conf, { expectLogin: false });
  const first = await grant(conf, auth);
  await client.fetchUserInfo(conf, first.access_token, expected.sub);
  await assertOAuthError(() => grant(conf, auth), 'invalid_grant');
  // RFC 6749 section 4.1.2: tokens issued from a replayed code should be revoked.
  await assert.rejects(client.fetchUserInfo(conf, first.access_token, expected.sub),
    (err) => (assert.equal(err.status ?? err.cause?.status, 401, String(err)), true));
}, { needs: [confidentialOK] });

await t.test('a wrong PKCE code_verifier is refused (invalid_grant)', async () => {
  const auth = await authorize(browser, conf, { expectLogin: false });
  auth.checks.verifier = client.randomPKCECodeVerifier();
  await assertOAuthError(() => grant(conf, auth), 'invalid_grant');
}, { needs: [confidentialOK] });

await t.test('a wrong client secret is refused (401 invalid_client, Basic challenge)', async () => {
  const bad = await client.discovery(new URL(issuer), confidentialID, undefined,
    client.ClientSecretBasic(`${confidentialSecret}x`), discoveryOptions);
  const auth = await authorize(browser, bad, { expectLogin: false });
  // RFC 6749 section 5.2: a client that authenticated with the
  // Authorization header gets 401 and a WWW-Authenticate challenge of the
  // same scheme; openid-client reports the challenge
  // (WWWAuthenticateChallengeError) rather than the body's error code.
  const err = await grant(bad, auth).then(() => null, (e) => e);
  assert.ok(err, 'the token request failed');
  assert.equal(err.status, 401, String(err));
  assert.equal(err.code, 'OAUTH_WWW_AUTHENTICATE_CHALLENGE', String(err));
  assert.equal(err.cause?.[0]?.scheme, 'basic', 'a Basic challenge');
  assert.equal((await err.response.json()).error, 'invalid_client');
}, { needs: [confidentialOK] });

// --- Wrong password: TNO's error, nothing for the client.
const other = await Browser.open();
t.onExit(() => other.close());
await t.test('a wrong password shows TNO\'s error (role="alert") and never reaches the client', async () => {
  const before = callbacks.length;
  const checks = { state: client.randomState(), nonce: client.randomNonce(), verifier: client.randomPKCECodeVerifier() };
  const url = client.buildAuthorizationUrl(conf, {
    redirect_uri: redirectURI, scope, state: checks.state, nonce: checks.nonce,
    code_challenge: await client.calculatePKCECodeChallenge(checks.verifier), code_challenge_method: 'S256',
  });
  await other.page.goto(url.href);
  assert.ok(isTNOPath(other.page.url(), issuer, '/login'), `expected TNO's /login, at ${other.page.url()}`);
  await signIn(other.page, username, `${password}-wrong`);
  assert.ok(isTNOPath(other.page.url(), issuer, '/login'), `still on TNO's sign-in page, at ${other.page.url()}`);
  const alert = other.page.locator('[role="alert"]');
  assert.equal(await alert.count(), 1, 'one alert');
  assert.notEqual((await alert.innerText()).trim(), '');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(callbacks.length, before, 'the client received no callback');
}, { needs: [discovered] });

await t.test('prompt=none without a TNO session: login_required sent back to the client', async () => {
  const auth = await authorize(other, conf, { extra: { prompt: 'none' }, expectLogin: false });
  assert.equal(auth.callbackURL.searchParams.get('error'), 'login_required');
  assert.equal(auth.callbackURL.searchParams.get('iss'), issuer);
  await assert.rejects(grant(conf, auth), (err) => (assert.equal(err.error, 'login_required'), true));
}, { needs: [discovered] });

await t.test('prompt=none with the SSO session: a code without any page', async () => {
  const auth = await authorize(browser, conf, { extra: { prompt: 'none' }, expectLogin: false });
  assertIDToken(await grant(conf, auth), confidentialID, auth.checks.nonce);
}, { needs: [confidentialOK] });

await t.test('prompt=login with the SSO session asks for the password again', async () => {
  const before = tokens.claims().auth_time;
  const auth = await authorize(browser, conf, { extra: { prompt: 'login' }, expectLogin: true });
  const again = await grant(conf, auth);
  assertIDToken(again, confidentialID, auth.checks.nonce);
  assert.ok(again.claims().auth_time >= before, 'auth_time is the new sign-in');
}, { needs: [confidentialOK] });

await t.finish();
