// Interop with the npm openid-client library (v6, by panva) as a second,
// independent relying party: discovery, authorization code flow with PKCE
// S256, state and nonce, client_secret_basic and a public client, userinfo,
// and the errors a client must get; then refresh-token rotation and reuse
// detection, revocation and introspection, client_credentials, pushed
// authorization requests, private_key_jwt, RP-initiated logout, pairwise
// subjects and signed userinfo. The sign-in itself is done in a real
// browser (Debian's chromium through playwright-core); the redirect URI is
// a small local HTTP server. Started by run.sh, which provides TNO.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import * as client from 'openid-client';
import { assert, Browser, env, isTNOPath, Reporter, signIn } from './lib.mjs';

const issuer = env('TNO_ISSUER');
const confidentialID = env('NODE_CLIENT');
const confidentialSecret = env('NODE_CLIENT_SECRET');
const publicID = env('NODE_PUBLIC_CLIENT');
const redirectURI = `http://127.0.0.1:${env('CALLBACK_PORT')}/callback`;
const postLogoutURI = `http://127.0.0.1:${env('CALLBACK_PORT')}/logged-out`; // registered by NODE_CLIENT
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

// --- The redirect URI and the post-logout URI: records each callback and
// answers a plain page.
const callbacks = [];
let waiters = [];
const server = http.createServer((req, res) => {
  const url = new URL(req.url, redirectURI);
  if (url.pathname !== '/callback' && url.pathname !== '/logged-out') { // e.g. the browser's /favicon.ico
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

// --- Every HTTP request openid-client sends, to check how it authenticates,
// with the status and headers of the answer.
const sent = [];
async function recordingFetch(url, options) {
  const r = { url: new URL(url), method: options.method, headers: new Headers(options.headers), body: options.body };
  sent.push(r);
  const res = await fetch(url, options);
  r.status = res.status;
  r.responseHeaders = res.headers;
  return res;
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
// With par, the request is pushed first (RFC 9126) and the browser only
// carries client_id and request_uri.
async function authorize(browser, config, {
  pkce = true, expectLogin, pw = password, extra = {}, scope: sc = scope, par = false,
} = {}) {
  const checks = { state: client.randomState(), nonce: client.randomNonce() };
  const params = { redirect_uri: redirectURI, scope: sc, state: checks.state, nonce: checks.nonce, ...extra };
  if (pkce) {
    checks.verifier = client.randomPKCECodeVerifier();
    params.code_challenge = await client.calculatePKCECodeChallenge(checks.verifier);
    params.code_challenge_method = 'S256';
  }
  const url = par
    ? await client.buildAuthorizationUrlWithPAR(config, params)
    : client.buildAuthorizationUrl(config, params);
  assert.equal(url.origin + url.pathname, `${issuer}/authorize`);
  checks.url = url;
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

// assertUnauthorized runs fn and checks it fails with HTTP 401 (a token
// the resource refuses).
async function assertUnauthorized(fn, what) {
  await assert.rejects(fn, (err) => {
    assert.equal(err.status ?? err.cause?.status ?? err.response?.status, 401, `${what}: ${err}`);
    return true;
  });
}

// assertInvalidClient runs fn and checks it fails with 401 invalid_client,
// whether openid-client reports the body (ResponseBodyError) or a
// WWW-Authenticate challenge.
async function assertInvalidClient(fn) {
  const err = await fn().then(() => null, (e) => e);
  assert.ok(err, 'the request failed');
  assert.equal(err.status, 401, String(err));
  const code = err.error ?? (err.response && !err.response.bodyUsed ? (await err.response.json()).error : err.cause?.error);
  assert.equal(code, 'invalid_client', String(err));
}

function jwtParts(jwt) {
  const [h, p] = jwt.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url')), payload: JSON.parse(Buffer.from(p, 'base64url')) };
}

const sortedScope = (s) => (s ?? '').split(' ').filter(Boolean).sort();

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

// ---------------------------------------------------------------------------
// Refresh tokens (an application created with --grant-type refresh_token):
// offline_access, rotation, reuse detection.
const refreshID = env('NODE_REFRESH_CLIENT');
let refreshConf;
let chain; // the tokens of one sign-in: code exchange, then two refreshes
const refreshOK = await t.test('refresh: offline_access gives a refresh token; two refreshTokenGrant calls rotate it', async () => {
  refreshConf = await client.discovery(new URL(issuer), refreshID, undefined,
    client.ClientSecretBasic(env('NODE_REFRESH_SECRET')), discoveryOptions);
  client.enableNonRepudiationChecks(refreshConf);
  assert.ok(refreshConf.serverMetadata().grant_types_supported.includes('refresh_token'), 'grant_types_supported');
  const auth = await authorize(browser, refreshConf, { scope: 'openid profile offline_access', expectLogin: false });
  const first = await grant(refreshConf, auth);
  assert.ok(first.refresh_token, 'a refresh token with offline_access');
  const c0 = first.claims();
  const second = await client.refreshTokenGrant(refreshConf, first.refresh_token);
  const req = lastRequestTo('/token');
  assert.match(req.headers.get('authorization') ?? '', /^Basic /, 'client_secret_basic');
  assert.equal(bodyParams(req.body).get('grant_type'), 'refresh_token');
  assert.equal(bodyParams(req.body).get('refresh_token'), first.refresh_token);
  assert.ok(second.refresh_token && second.refresh_token !== first.refresh_token, 'a new refresh token (rotation)');
  assert.notEqual(second.access_token, first.access_token, 'a new access token');
  const c1 = second.claims();
  assert.ok(c1, 'a refreshed ID token');
  assert.equal(c1.sub, c0.sub, 'same sub');
  assert.equal(c1.auth_time, c0.auth_time, 'same auth_time');
  assert.equal(c1.sid, c0.sid, 'same sid');
  assert.equal(c1.nonce, undefined, 'no nonce in a refreshed ID token');
  assert.deepEqual(sortedScope(second.scope), ['offline_access', 'openid', 'profile'], 'scope kept');
  const third = await client.refreshTokenGrant(refreshConf, second.refresh_token); // the new one
  assert.ok(third.refresh_token && ![first.refresh_token, second.refresh_token].includes(third.refresh_token));
  assert.equal((await client.fetchUserInfo(refreshConf, third.access_token, expected.sub)).sub, expected.sub);
  chain = [first, second, third];
}, { needs: [confidentialOK] });

await t.test('refresh: replaying the first refresh token gets invalid_grant and revokes the family', async () => {
  const [first, , third] = chain;
  await assertOAuthError(() => client.refreshTokenGrant(refreshConf, first.refresh_token), 'invalid_grant');
  await assertUnauthorized(() => client.fetchUserInfo(refreshConf, third.access_token, expected.sub),
    'the latest access token after the reuse');
  await assertOAuthError(() => client.refreshTokenGrant(refreshConf, third.refresh_token), 'invalid_grant');
}, { needs: [refreshOK] });

// ---------------------------------------------------------------------------
// Introspection (RFC 7662) and revocation (RFC 7009).
let live;
const introspectOK = await t.test('introspection of live tokens: active, with sub, client_id, scope (the client\'s and another app of its organization)', async () => {
  const auth = await authorize(browser, refreshConf, { scope: 'openid profile offline_access', expectLogin: false });
  live = await grant(refreshConf, auth);
  assert.ok(refreshConf.serverMetadata().introspection_endpoint, 'introspection_endpoint in discovery');
  const info = await client.tokenIntrospection(refreshConf, live.access_token);
  const req = lastRequestTo(new URL(refreshConf.serverMetadata().introspection_endpoint).pathname);
  assert.match(req.headers.get('authorization') ?? '', /^Basic /, 'client_secret_basic');
  assert.equal(info.active, true, 'active');
  assert.equal(info.sub, expected.sub, 'sub');
  assert.equal(info.client_id, refreshID, 'client_id');
  assert.deepEqual(sortedScope(info.scope), ['offline_access', 'openid', 'profile'], 'scope');
  assert.equal(info.iss, issuer, 'iss');
  assert.equal(info.username, username, 'username');
  assert.ok(info.exp > Date.now() / 1000, 'exp in the future');
  // A resource server of the same organization (another application).
  const other = await client.tokenIntrospection(conf, live.access_token);
  assert.equal(other.active, true, 'active for another application of the organization');
  assert.equal(other.client_id, refreshID);
  const rt = await client.tokenIntrospection(refreshConf, live.refresh_token);
  assert.equal(rt.active, true, 'the refresh token is active');
  assert.equal(rt.client_id, refreshID);
}, { needs: [refreshOK] });

await t.test('revocation (tokenRevocation) then introspection: active false; access token first, then the refresh token', async () => {
  await client.tokenRevocation(refreshConf, live.access_token);
  const req = lastRequestTo(new URL(refreshConf.serverMetadata().revocation_endpoint).pathname);
  assert.equal(req.status, 200, 'RFC 7009: 200');
  assert.equal(bodyParams(req.body).get('token'), live.access_token);
  assert.deepEqual(await client.tokenIntrospection(refreshConf, live.access_token), { active: false },
    'a revoked access token is {"active": false}');
  await assertUnauthorized(() => client.fetchUserInfo(refreshConf, live.access_token, expected.sub), 'revoked access token');
  // Revoking an access token leaves its refresh token alone.
  assert.equal((await client.tokenIntrospection(refreshConf, live.refresh_token)).active, true, 'refresh token still active');
  await client.tokenRevocation(refreshConf, live.refresh_token, { token_type_hint: 'refresh_token' });
  assert.deepEqual(await client.tokenIntrospection(refreshConf, live.refresh_token), { active: false });
  await assertOAuthError(() => client.refreshTokenGrant(refreshConf, live.refresh_token), 'invalid_grant');
  // Revoking an unknown token is not an error (RFC 7009 section 2.2).
  await client.tokenRevocation(refreshConf, 'not-a-token');
}, { needs: [introspectOK] });

// ---------------------------------------------------------------------------
// client_credentials (--grant-type client_credentials, scopes siret siren).
const m2mID = env('NODE_M2M_CLIENT');
let m2mConf;
const m2mOK = await t.test('client_credentials (clientCredentialsGrant): the application\'s scopes, no ID token, no refresh token', async () => {
  m2mConf = await client.discovery(new URL(issuer), m2mID, undefined,
    client.ClientSecretBasic(env('NODE_M2M_SECRET')), discoveryOptions);
  const all = await client.clientCredentialsGrant(m2mConf);
  const req = lastRequestTo('/token');
  assert.match(req.headers.get('authorization') ?? '', /^Basic /, 'client_secret_basic');
  assert.equal(bodyParams(req.body).get('grant_type'), 'client_credentials');
  assert.deepEqual(sortedScope(all.scope), ['siren', 'siret'], 'every scope of the application without a scope parameter');
  assert.equal(all.token_type.toLowerCase(), 'bearer');
  assert.ok(all.expiresIn() > 0, 'expires_in');
  assert.equal(all.id_token, undefined, 'no ID token');
  assert.equal(all.refresh_token, undefined, 'no refresh token');
  const one = await client.clientCredentialsGrant(m2mConf, { scope: 'siret' });
  assert.deepEqual(sortedScope(one.scope), ['siret'], 'a narrower scope');
  const info = await client.tokenIntrospection(conf, one.access_token);
  assert.equal(info.active, true);
  assert.equal(info.client_id, m2mID);
  assert.equal(info.sub, m2mID, 'sub is the client ID');
  await assertUnauthorized(() => client.fetchUserInfo(m2mConf, one.access_token, client.skipSubjectCheck),
    'userinfo with a client_credentials token');
}, { needs: [discovered] });

await t.test('client_credentials errors: openid is invalid_scope; an application without the grant is unauthorized_client', async () => {
  await assertOAuthError(() => client.clientCredentialsGrant(m2mConf, { scope: 'openid siret' }), 'invalid_scope');
  await assertOAuthError(() => client.clientCredentialsGrant(m2mConf, { scope: 'email' }), 'invalid_scope');
  await assertOAuthError(() => client.clientCredentialsGrant(conf), 'unauthorized_client');
}, { needs: [m2mOK] });

// ---------------------------------------------------------------------------
// Pushed authorization requests (--require-par), in the second browser:
// it has no session, so TNO shows its sign-in page.
const parID = env('NODE_PAR_CLIENT');
let parConf;
let parAuth;
const parOK = await t.test('PAR (buildAuthorizationUrlWithPAR): pushed request, sign-in in the browser, code exchange', async () => {
  parConf = await client.discovery(new URL(issuer), parID, undefined,
    client.ClientSecretBasic(env('NODE_PAR_SECRET')), discoveryOptions);
  client.enableNonRepudiationChecks(parConf);
  assert.equal(parConf.serverMetadata().pushed_authorization_request_endpoint, `${issuer}/par`);
  parAuth = await authorize(other, parConf, { par: true, expectLogin: true });
  const push = lastRequestTo('/par');
  assert.equal(push.status, 201, 'RFC 9126: 201 Created');
  assert.match(push.headers.get('authorization') ?? '', /^Basic /, 'client_secret_basic at /par');
  const pushed = bodyParams(push.body);
  assert.equal(pushed.get('redirect_uri'), redirectURI);
  assert.equal(pushed.get('code_challenge_method'), 'S256');
  const q = parAuth.checks.url.searchParams;
  assert.deepEqual([...q.keys()].sort(), ['client_id', 'request_uri'], 'the browser carries client_id and request_uri only');
  assert.match(q.get('request_uri'), /^urn:ietf:params:oauth:request_uri:/);
  assert.equal(parAuth.callbackURL.searchParams.get('state'), parAuth.checks.state);
  assertIDToken(await grant(parConf, parAuth), parID, parAuth.checks.nonce);
}, { needs: [discovered] });

await t.test('PAR: a used request_uri gets an error page; a plain request is sent back with invalid_request', async () => {
  const before = callbacks.length;
  const res = await other.page.goto(parAuth.checks.url.href);
  assert.ok(isTNOPath(other.page.url(), issuer, '/authorize'), `an error page at TNO, at ${other.page.url()}`);
  assert.ok(res.status() >= 400, `an error status, got ${res.status()}`);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(callbacks.length, before, 'no redirect to the client');
  // --require-par: a request that was not pushed goes back with an error.
  const auth = await authorize(other, parConf, { expectLogin: false });
  assert.equal(auth.callbackURL.searchParams.get('error'), 'invalid_request');
  assert.equal(auth.callbackURL.searchParams.get('error_description'), 'pushed authorization request required');
  assert.equal(auth.callbackURL.searchParams.get('state'), auth.checks.state);
}, { needs: [parOK] });

// ---------------------------------------------------------------------------
// private_key_jwt: run.sh made an RSA key pair with Node's crypto and
// registered the public JWK Set with --jwks-file.
const pkID = env('NODE_PKJWT_CLIENT');
const privateJWK = JSON.parse(fs.readFileSync(env('NODE_PKJWT_KEY'), 'utf8'));
async function importSigningKey(jwk) {
  const { kid, alg, use, ...material } = jwk;
  return crypto.webcrypto.subtle.importKey('jwk', material, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
}
let pkConf;
let pkAssertion;
const pkOK = await t.test('private_key_jwt (PrivateKeyJwt): code exchange authenticated by a signed client assertion', async () => {
  const key = await importSigningKey(privateJWK);
  pkConf = await client.discovery(new URL(issuer), pkID, undefined,
    client.PrivateKeyJwt({ key, kid: privateJWK.kid }), discoveryOptions);
  client.enableNonRepudiationChecks(pkConf);
  const m = pkConf.serverMetadata();
  assert.ok(m.token_endpoint_auth_methods_supported.includes('private_key_jwt'));
  assert.ok(m.token_endpoint_auth_signing_alg_values_supported.includes('RS256'));
  const auth = await authorize(browser, pkConf, { expectLogin: false });
  const tokens = await grant(pkConf, auth);
  const req = lastRequestTo('/token');
  const body = bodyParams(req.body);
  assert.equal(req.headers.get('authorization'), null, 'no Authorization header');
  assert.equal(body.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
  pkAssertion = body.get('client_assertion');
  const { header, payload } = jwtParts(pkAssertion);
  assert.equal(header.alg, 'RS256');
  assert.equal(header.kid, privateJWK.kid);
  assert.equal(payload.iss, pkID);
  assert.equal(payload.sub, pkID);
  assert.ok([issuer, `${issuer}/token`].includes(payload.aud), `aud ${payload.aud}`);
  assert.ok(payload.jti && payload.exp, 'jti and exp');
  assertIDToken(tokens, pkID, auth.checks.nonce);
}, { needs: [confidentialOK] });

await t.test('private_key_jwt: a replayed assertion and a key TNO does not know get 401 invalid_client', async () => {
  // The same assertion again (its jti is spent), sent as openid-client sent it.
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code: 'unused', redirect_uri: redirectURI, code_verifier: client.randomPKCECodeVerifier(),
      client_id: pkID, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: pkAssertion,
    }),
  });
  assert.equal(res.status, 401, 'a replayed client assertion');
  assert.equal((await res.json()).error, 'invalid_client');
  // Another key, with the registered kid.
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const wrong = await importSigningKey(privateKey.export({ format: 'jwk' }));
  const bad = await client.discovery(new URL(issuer), pkID, undefined,
    client.PrivateKeyJwt({ key: wrong, kid: privateJWK.kid }), discoveryOptions);
  const auth = await authorize(browser, bad, { expectLogin: false });
  await assertInvalidClient(() => grant(bad, auth));
}, { needs: [pkOK] });

// ---------------------------------------------------------------------------
// Pairwise subject and signed userinfo (--subject-type pairwise
// --userinfo-signed-alg RS256). openid-client asks for application/jwt,
// checks alg, iss and aud; with enableNonRepudiationChecks it verifies the
// signature against TNO's JWKS.
const pwID = env('NODE_PAIRWISE_CLIENT');
let pwConf;
let pwTokens;
const pwOK = await t.test('pairwise sub: a 43-character sub, not the person ID, in the ID token', async () => {
  pwConf = await client.discovery(new URL(issuer), pwID, { userinfo_signed_response_alg: 'RS256' },
    client.ClientSecretBasic(env('NODE_PAIRWISE_SECRET')), discoveryOptions);
  client.enableNonRepudiationChecks(pwConf);
  const m = pwConf.serverMetadata();
  assert.ok(m.subject_types_supported.includes('pairwise'), 'subject_types_supported');
  assert.ok(m.userinfo_signing_alg_values_supported?.includes('RS256'), 'userinfo_signing_alg_values_supported');
  const auth = await authorize(browser, pwConf, { expectLogin: false });
  pwTokens = await grant(pwConf, auth);
  const c = pwTokens.claims();
  assert.match(c.sub, /^[A-Za-z0-9_-]{43}$/, 'a pairwise sub');
  assert.notEqual(c.sub, expected.sub, 'not the public sub');
  assert.equal(c.aud, pwID);
  assert.equal(c.email, expected.email);
}, { needs: [confidentialOK] });

await t.test('signed userinfo: fetchUserInfo accepts and verifies the application/jwt answer; its sub is the pairwise sub', async () => {
  const sub = pwTokens.claims().sub;
  const info = await client.fetchUserInfo(pwConf, pwTokens.access_token, sub);
  const req = lastRequestTo('/userinfo');
  assert.equal(req.headers.get('accept'), 'application/jwt', 'openid-client asks for a JWT');
  assert.equal(req.responseHeaders.get('content-type')?.split(';')[0], 'application/jwt', 'TNO answers a JWT');
  assert.equal(info.sub, sub, 'userinfo sub = ID token sub (pairwise)');
  assert.equal(info.iss, issuer);
  assert.equal(info.aud, pwID);
  assert.equal(info.email, expected.email);
  assert.equal(info.siret, expected.siret);
  // The JWT itself: typ JWT and the kid of a key in TNO's JWKS.
  const raw = await fetch(`${issuer}/userinfo`, { headers: { authorization: `Bearer ${pwTokens.access_token}` } });
  const { header } = jwtParts(await raw.text());
  assert.equal(header.alg, 'RS256');
  assert.equal(header.typ, 'JWT');
  const jwks = await (await fetch(pwConf.serverMetadata().jwks_uri)).json();
  assert.ok(jwks.keys.some((k) => k.kid === header.kid), `kid ${header.kid} is in the JWKS`);
  // The check is real: openid-client refuses the same answer with its
  // signature altered.
  const tampering = async (url, options) => {
    const res = await fetch(url, options);
    if (new URL(url).pathname !== '/userinfo') return res;
    const [h, p, sig] = (await res.text()).split('.');
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    return new Response([h, p, flipped].join('.'), { status: res.status, headers: res.headers });
  };
  const forged = await client.discovery(new URL(issuer), pwID, { userinfo_signed_response_alg: 'RS256' },
    client.ClientSecretBasic(env('NODE_PAIRWISE_SECRET')), { execute: [client.allowInsecureRequests], [client.customFetch]: tampering });
  client.enableNonRepudiationChecks(forged);
  await assert.rejects(client.fetchUserInfo(forged, pwTokens.access_token, sub), (err) => {
    assert.match(`${err.message}: ${err.cause?.message}`, /signature/i, String(err.cause?.stack ?? err));
    return true;
  });
  // Introspection reports the pairwise sub too.
  const intro = await client.tokenIntrospection(pwConf, pwTokens.access_token);
  assert.equal(intro.sub, sub, 'introspection sub');
}, { needs: [pwOK] });

// ---------------------------------------------------------------------------
// RP-initiated logout (buildEndSessionUrl), in the second browser: the
// ID token of its current session as id_token_hint, the registered
// post-logout URI and a state.
await t.test('RP-initiated logout (buildEndSessionUrl): back at post_logout_redirect_uri with state; tokens of the session revoked', async () => {
  const auth = await authorize(other, conf, {});
  const tk = await grant(conf, auth);
  const state = client.randomState();
  const url = client.buildEndSessionUrl(conf, { id_token_hint: tk.id_token, post_logout_redirect_uri: postLogoutURI, state });
  assert.equal(url.origin + url.pathname, conf.serverMetadata().end_session_endpoint);
  assert.equal(conf.serverMetadata().end_session_endpoint, `${issuer}/logout`);
  const callback = nextCallback();
  callback.catch(() => {});
  const since = other.mark();
  await other.page.goto(url.href);
  const back = await callback;
  assert.equal(back.origin + back.pathname, postLogoutURI, 'the post-logout URI');
  assert.equal(back.searchParams.get('state'), state, 'with the state');
  const end = since().find((r) => isTNOPath(r.url, issuer, '/logout'));
  assert.equal((await end.request.response())?.status(), 302, 'TNO redirects at once (hint of the current session)');
  assert.ok(!(await other.cookies(issuer)).some((c) => c.name.endsWith('tno_session') && c.value), 'TNO\'s session cookie is cleared');
  // The session's tokens (no offline_access) end with it.
  await assertUnauthorized(() => client.fetchUserInfo(conf, tk.access_token, expected.sub), 'an access token of the ended session');
  // A new authorization asks for the password again.
  const again = await authorize(other, conf, { expectLogin: true });
  assertIDToken(await grant(conf, again), confidentialID, again.checks.nonce);
}, { needs: [discovered] });

await t.finish();
