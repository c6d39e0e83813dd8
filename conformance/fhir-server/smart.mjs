// Authorization for the test FHIR server:
//   - a SMART Backend Services authorization server (SMART App Launch 2.x, "Backend Services"):
//     clients registered with their public JWKS, POST /auth/token with a client_credentials grant
//     authenticated by a private_key_jwt client assertion (RFC 7523), verified with `jose`;
//   - AuthGate: what every FHIR request must present (issued bearer tokens, a static bearer token,
//     HTTP Basic), any one of the configured modes being enough.
// No HTTP here: server.mjs / control.mjs read the requests and send what these functions return.
// Never logs keys, assertions or tokens.

import { randomBytes, timingSafeEqual } from 'node:crypto';

import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, importJWK, jwtVerify } from 'jose';

/** SMART Backend Services: the client assertion is signed with RS384 or ES384, nothing else. */
export const ASSERTION_ALGORITHMS = Object.freeze(['RS384', 'ES384']);
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** SMART: exp no more than five minutes in the future. */
const MAX_ASSERTION_LIFETIME_S = 300;

/** Bounds of what clients send (form bodies, assertions, registrations). */
export const SMART_LIMITS = Object.freeze({
  maxFormBytes: 64 * 1024,
  maxAssertionChars: 16 * 1024,
  maxClientIdChars: 255,
  maxJtiChars: 255,
  maxScopeChars: 1024,
  maxScopes: 32,
  maxKeysPerClient: 20,
  maxClients: 1000,
  maxSeenJtis: 100_000,
});

// system/<Type or *>.<read|write|*> (SMART v1) or .<c r u d s subset, in that order> (SMART v2),
// optionally with a ?query (v2 granular scopes).
const SCOPE = /^system\/(\*|[A-Z][A-Za-z]+)\.(\*|read|write|(?=[cruds])c?r?u?d?s?)(\?\S*)?$/;

/** An OAuth error answer (RFC 6749 §5.2): {status, body: {error, error_description}}. */
export class OAuthError extends Error {
  constructor(status, error, description) {
    super(description);
    this.status = status;
    this.error = error;
  }

  body() {
    return { error: this.error, error_description: this.message };
  }
}

const invalidRequest = (text) => new OAuthError(400, 'invalid_request', text);
// RFC 6749 §5.2: client authentication failed → invalid_client, 401.
const invalidClient = (text) => new OAuthError(401, 'invalid_client', text);

/** Checks a registration's public JWKS; throws OAuthError (400) naming the problem. */
async function checkPublicJwks(jwks) {
  const keys = jwks?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > SMART_LIMITS.maxKeysPerClient) {
    throw invalidRequest(`jwks: expected {"keys": [1..${SMART_LIMITS.maxKeysPerClient} public JWKs]}`);
  }
  for (const [i, key] of keys.entries()) {
    if (!key || typeof key !== 'object') throw invalidRequest(`jwks.keys[${i}] is not an object`);
    if (typeof key.kid !== 'string' || key.kid === '') throw invalidRequest(`jwks.keys[${i}] has no kid`);
    if ('d' in key || 'k' in key) throw invalidRequest(`jwks.keys[${i}] is not a public key (register public keys only)`);
    const alg = key.alg ?? (key.kty === 'RSA' ? 'RS384' : key.kty === 'EC' ? 'ES384' : undefined);
    if (!ASSERTION_ALGORITHMS.includes(alg)) {
      throw invalidRequest(`jwks.keys[${i}]: kty "${key.kty}" / alg "${key.alg}": expected an RS384 or ES384 key`);
    }
    let imported;
    try {
      imported = await importJWK(key, alg);
    } catch (err) {
      throw invalidRequest(`jwks.keys[${i}] is not a usable ${alg} key: ${err.message}`);
    }
    // RFC 7518 §3.3: RSA keys of 2048 bits or more (jose would refuse to verify with a smaller one).
    if (alg === 'RS384' && !(imported.algorithm?.modulusLength >= 2048)) {
      throw invalidRequest(`jwks.keys[${i}]: an RSA key needs at least 2048 bits`);
    }
  }
}

function checkScope(scope) {
  if (typeof scope !== 'string' || scope.trim() === '') throw invalidRequest('scope is missing');
  if (scope.length > SMART_LIMITS.maxScopeChars) throw new OAuthError(400, 'invalid_scope', 'scope is too long');
  const scopes = scope.trim().split(/\s+/);
  if (scopes.length > SMART_LIMITS.maxScopes) throw new OAuthError(400, 'invalid_scope', 'too many scopes');
  for (const s of scopes) {
    if (!SCOPE.test(s)) {
      throw new OAuthError(400, 'invalid_scope', `scope "${s}": expected system/<Type|*>.<read|write|*|cruds>`);
    }
  }
  return scopes.join(' ');
}

// application/x-www-form-urlencoded → Map; a repeated parameter is an error (RFC 6749 §3.2).
function parseForm(text) {
  const form = new Map();
  for (const [key, value] of new URLSearchParams(text)) {
    if (form.has(key)) throw invalidRequest(`parameter "${key}" is repeated`);
    form.set(key, value);
  }
  return form;
}

function describeJoseError(err) {
  if (err instanceof joseErrors.JWTExpired) return 'client_assertion has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `client_assertion claim "${err.claim}": ${err.reason}`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'client_assertion signature does not verify';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no registered key of the client matches the kid and alg';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'client_assertion alg is not allowed';
  return `client_assertion is not valid: ${err?.code ?? err?.message ?? err}`;
}

/** The SMART Backend Services authorization server: clients, assertions seen, tokens issued. */
export class SmartAuthServer {
  #lifetimeS;
  #clients = new Map(); // client_id → {keySet, fromFile}
  #seenJtis = new Map(); // "client_id\njti" → exp (s)
  #tokens = new Map(); // access token → {clientId, expiresAtMs, scope}
  #issued = 0;

  /** tokenLifetimeS: expires_in of issued tokens. */
  constructor(tokenLifetimeS) {
    this.#lifetimeS = tokenLifetimeS;
  }

  /** Registers (or replaces) a client with its public JWKS; throws OAuthError (400). */
  async registerClient(clientId, jwks, fromFile = false) {
    if (typeof clientId !== 'string' || clientId === '' || clientId.length > SMART_LIMITS.maxClientIdChars) {
      throw invalidRequest(`client_id: expected a string of 1..${SMART_LIMITS.maxClientIdChars} characters`);
    }
    if (!this.#clients.has(clientId) && this.#clients.size >= SMART_LIMITS.maxClients) {
      throw invalidRequest(`at most ${SMART_LIMITS.maxClients} clients`);
    }
    await checkPublicJwks(jwks);
    this.#clients.set(clientId, { keySet: createLocalJWKSet(structuredClone(jwks)), fromFile });
  }

  /** Registers every client of a --smart-jwks file's JSON: {"<client_id>": {"keys": [...]}}. */
  async registerClientsFromJson(json) {
    if (!json || typeof json !== 'object' || Array.isArray(json)) {
      throw invalidRequest('expected {"<client_id>": {"keys": [...]}, ...}');
    }
    for (const [clientId, jwks] of Object.entries(json)) await this.registerClient(clientId, jwks, true);
  }

  /** GET /.well-known/smart-configuration (SMART App Launch 2.x, Backend Services subset). */
  configuration(tokenUrl) {
    return {
      token_endpoint: tokenUrl,
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
      grant_types_supported: ['client_credentials'],
      scopes_supported: [
        'system/*.read',
        'system/*.write',
        'system/*.cruds',
        'system/Observation.write',
        'system/Observation.c',
      ],
      capabilities: ['client-confidential-asymmetric'],
    };
  }

  /**
   * POST /auth/token with the raw form body. Returns the token answer (RFC 6749 §5.1); throws
   * OAuthError for every refusal.
   */
  async token(formText, tokenUrl) {
    const form = parseForm(formText);
    if (!form.has('grant_type')) throw invalidRequest('grant_type is missing');
    if (form.get('grant_type') !== 'client_credentials') {
      throw new OAuthError(400, 'unsupported_grant_type', 'grant_type: expected client_credentials');
    }
    if (form.get('client_assertion_type') !== ASSERTION_TYPE) {
      throw invalidRequest(`client_assertion_type: expected ${ASSERTION_TYPE}`);
    }
    const assertion = form.get('client_assertion');
    if (!assertion) throw invalidRequest('client_assertion is missing');
    if (assertion.length > SMART_LIMITS.maxAssertionChars) {
      throw invalidRequest(`client_assertion longer than ${SMART_LIMITS.maxAssertionChars} characters`);
    }
    const scope = checkScope(form.get('scope'));
    const clientId = await this.#verifyAssertion(assertion, tokenUrl, form.get('client_id'));
    return this.#issue(clientId, scope);
  }

  // Returns the client id the assertion authenticates; throws OAuthError (401 invalid_client).
  async #verifyAssertion(assertion, tokenUrl, formClientId) {
    let header;
    let claims;
    try {
      header = decodeProtectedHeader(assertion);
      claims = decodeJwt(assertion);
    } catch {
      throw invalidClient('client_assertion is not a signed JWT (JWS compact serialization)');
    }
    if (!ASSERTION_ALGORITHMS.includes(header.alg)) {
      throw invalidClient(`client_assertion alg "${header.alg}": expected RS384 or ES384`);
    }
    if (typeof header.kid !== 'string' || header.kid === '') throw invalidClient('client_assertion header has no kid');
    const clientId = claims.iss;
    if (typeof clientId !== 'string' || clientId === '') throw invalidClient('client_assertion has no iss');
    if (formClientId !== undefined && formClientId !== clientId) {
      throw invalidClient('client_id differs from the assertion iss');
    }
    const client = this.#clients.get(clientId);
    if (!client) throw invalidClient('unknown client');
    let payload;
    try {
      ({ payload } = await jwtVerify(assertion, client.keySet, {
        algorithms: [...ASSERTION_ALGORITHMS],
        issuer: clientId,
        subject: clientId,
        audience: tokenUrl,
        typ: 'JWT',
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
      }));
    } catch (err) {
      throw invalidClient(describeJoseError(err));
    }
    const nowS = Math.floor(Date.now() / 1000);
    if (payload.exp > nowS + MAX_ASSERTION_LIFETIME_S) {
      throw invalidClient(`client_assertion exp is more than ${MAX_ASSERTION_LIFETIME_S} s ahead`);
    }
    this.#rememberJti(clientId, payload.jti, payload.exp, nowS);
    return clientId;
  }

  // Each jti is accepted once per client while its assertion is unexpired (replay → 401).
  #rememberJti(clientId, jti, exp, nowS) {
    if (typeof jti !== 'string' || jti === '' || jti.length > SMART_LIMITS.maxJtiChars) {
      throw invalidClient(`client_assertion jti: expected a string of 1..${SMART_LIMITS.maxJtiChars} characters`);
    }
    const key = `${clientId}\n${jti}`;
    if (this.#seenJtis.has(key)) throw invalidClient('client_assertion jti was already used');
    if (this.#seenJtis.size >= SMART_LIMITS.maxSeenJtis) {
      for (const [k, e] of this.#seenJtis) if (e < nowS) this.#seenJtis.delete(k);
      if (this.#seenJtis.size >= SMART_LIMITS.maxSeenJtis) {
        throw new OAuthError(400, 'temporarily_unavailable', 'too many unexpired assertions');
      }
    }
    this.#seenJtis.set(key, exp);
  }

  #issue(clientId, scope) {
    const now = Date.now();
    for (const [t, info] of this.#tokens) if (info.expiresAtMs <= now) this.#tokens.delete(t);
    const accessToken = randomBytes(32).toString('base64url');
    this.#tokens.set(accessToken, { clientId, expiresAtMs: now + this.#lifetimeS * 1000, scope });
    this.#issued++;
    return { access_token: accessToken, token_type: 'bearer', expires_in: this.#lifetimeS, scope };
  }

  /** Whether `token` was issued here, is unexpired and was not revoked. */
  isValidToken(token) {
    const info = this.#tokens.get(token);
    return info !== undefined && info.expiresAtMs > Date.now();
  }

  /** POST /$revoke-tokens: every issued token becomes invalid. Returns how many were active. */
  revokeAll() {
    const now = Date.now();
    let active = 0;
    for (const info of this.#tokens.values()) if (info.expiresAtMs > now) active++;
    this.#tokens.clear();
    return active;
  }

  /** GET /$tokens. */
  tokenCounts() {
    const now = Date.now();
    let active = 0;
    for (const info of this.#tokens.values()) if (info.expiresAtMs > now) active++;
    return { issued: this.#issued, active };
  }

  /** POST /$reset: tokens, seen jtis and clients registered over HTTP go; --smart-jwks clients stay. */
  reset() {
    this.#tokens.clear();
    this.#seenJtis.clear();
    this.#issued = 0;
    for (const [id, client] of this.#clients) if (!client.fromFile) this.#clients.delete(id);
  }
}

function sameSecret(a, b) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * What a FHIR request must present. Modes (any configured one suffices): `basic` "user:pass",
 * `bearer` a static token, `smart` a SmartAuthServer whose issued tokens are accepted.
 */
export class AuthGate {
  #basic;
  #bearer;
  #smart;

  constructor({ basic, bearer, smart }) {
    this.#basic = basic;
    this.#bearer = bearer;
    this.#smart = smart;
  }

  get enabled() {
    return Boolean(this.#basic || this.#bearer || this.#smart);
  }

  /**
   * undefined when the Authorization header is accepted, else {reason, challenges}: the
   * WWW-Authenticate values of the 401 (RFC 6750 §3, RFC 7617).
   */
  check(authorization) {
    if (!this.enabled) return undefined;
    const header = typeof authorization === 'string' ? authorization.trim() : '';
    const m = /^(\S+)\s+(\S+)$/.exec(header);
    const scheme = m?.[1].toLowerCase();
    const credentials = m?.[2];
    if (scheme === 'bearer') {
      if (this.#bearer && sameSecret(credentials, this.#bearer)) return undefined;
      if (this.#smart?.isValidToken(credentials)) return undefined;
    } else if (scheme === 'basic' && this.#basic) {
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      if (sameSecret(decoded, this.#basic)) return undefined;
    }
    const challenges = [];
    if (this.#bearer || this.#smart) challenges.push('Bearer error="invalid_token"');
    if (this.#basic) challenges.push('Basic realm="fhir-server", charset="UTF-8"');
    const reason = header === '' ? 'no Authorization header' : `Authorization ${scheme ?? 'malformed'}: not accepted`;
    return { reason, challenges };
  }
}
