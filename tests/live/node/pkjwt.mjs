// openid-client v6 authenticating to Gatehouse with private_key_jwt, as an integrator would.
// ISSUER=http://127.0.0.1:PORT CLIENT_ID=... KEY=key.pem KTY=EC|RSA|Ed25519 [SCOPE=jobs]
//   node pkjwt.mjs
// KEY is a PKCS#8 PEM private key, imported non-extractable with WebCrypto. Prints one JSON
// object: the token response, introspection before and after revocation, the assertion's
// algorithm; exits non-zero with the error on stderr when any call fails.
import * as client from 'openid-client';
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';

const { ISSUER, CLIENT_ID, KEY, KTY = 'EC', SCOPE = 'jobs', WAIT_MS = '1100' } = process.env;
const ALGORITHMS = {
  EC: { name: 'ECDSA', namedCurve: 'P-256' },
  RSA: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  Ed25519: { name: 'Ed25519' },
};

const der = Buffer.from(readFileSync(KEY, 'utf8').replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
const key = await webcrypto.subtle.importKey('pkcs8', der, ALGORITHMS[KTY], false, ['sign']);

// RFC 8414 discovery (algorithm 'oauth2'; the default looks for OpenID Connect's document);
// plain http is allowed only because the test server is on loopback
const config = await client.discovery(new URL(ISSUER), CLIENT_ID, undefined, client.PrivateKeyJwt(key), {
  algorithm: 'oauth2',
  execute: [client.allowInsecureRequests],
});

const tokens = await client.clientCredentialsGrant(config, { scope: SCOPE });
const before = await client.tokenIntrospection(config, tokens.access_token);
await client.tokenRevocation(config, tokens.access_token, { token_type_hint: 'access_token' });
// a revocation is seen by every worker within a second
await new Promise((resolve) => setTimeout(resolve, Number(WAIT_MS)));
const after = await client.tokenIntrospection(config, tokens.access_token);
const metadata = config.serverMetadata();

console.log(JSON.stringify({
  token_type: tokens.token_type,
  scope: tokens.scope,
  expires_in: tokens.expires_in,
  access_token: tokens.access_token,
  before,
  after,
  token_endpoint_auth_methods_supported: metadata.token_endpoint_auth_methods_supported,
}));
