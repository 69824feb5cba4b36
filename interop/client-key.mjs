// Generates the key pair of the private_key_jwt application (RFC 7523):
// writes DIR/private.jwk (the private key, for openid-client.mjs) and
// DIR/jwks.json (its public JWK Set, for `tno app create --jwks-file`).
// An RSA 2048 key signing RS256, with a kid, as a relying party would make
// it with Node's own crypto.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node client-key.mjs DIR');
const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const pub = publicKey.export({ format: 'jwk' });
const kid = crypto.createHash('sha256').update(JSON.stringify({ e: pub.e, kty: pub.kty, n: pub.n })).digest('base64url');
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'private.jwk'),
  JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }), { mode: 0o600 });
fs.writeFileSync(path.join(dir, 'jwks.json'),
  `${JSON.stringify({ keys: [{ ...pub, kid, alg: 'RS256', use: 'sig' }] }, null, 2)}\n`);
