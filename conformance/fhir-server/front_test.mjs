// Tests of the test FHIR server's front: fault injection, the counting endpoints, and the
// authorization modes (SMART Backend Services token endpoint, static bearer, Basic). Each group
// starts server.mjs on port 0 and talks to it over real sockets.
//
//   node --test conformance/fhir-server/front_test.mjs

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';

import { SignJWT, UnsecuredJWT, exportJWK, generateKeyPair, importJWK } from 'jose';

import {
  obsKey,
  observation,
  outcomeOf,
  request,
  runServerToExit,
  startServer,
  transaction,
  waitFor,
} from './test-support.mjs';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

// ---------------------------------------------------------------------------------------------
// Faults and counters

describe('faults and counters', () => {
  let server;
  let port;
  const get = (p) => request(port, 'GET', p);
  const post = (p, body, headers) => request(port, 'POST', p, { body, headers });
  const setFault = async (config) => {
    const res = await post('/$fault', config, { 'Content-Type': 'application/json' });
    assert.equal(res.status, 200, res.text);
    return res.json;
  };
  const identifiers = async () => (await get('/$identifiers?type=Observation')).json;

  before(async () => {
    server = await startServer();
    port = server.port;
  });
  after(() => server?.stop());
  beforeEach(async () => assert.equal((await post('/$reset')).status, 200));

  test('every_nth_429: every Nth FHIR request is throttled with Retry-After and not processed', async () => {
    const view = await setFault({ every_nth_429: 3, retry_after_s: 2 });
    assert.equal(view.every_nth_429, 3);
    const statuses = [];
    for (let i = 1; i <= 6; i++) {
      const res = await post('/', transaction(`t429-${i}`));
      statuses.push(res.status);
      if (res.status === 429) {
        assert.equal(res.headers['retry-after'], '2');
        assert.equal(res.json.resourceType, 'OperationOutcome');
        assert.equal(res.json.issue[0].code, 'throttled');
      }
    }
    assert.deepEqual(statuses, [200, 200, 429, 200, 200, 429]);
    assert.deepEqual(Object.keys(await identifiers()), ['t429-1', 't429-2', 't429-4', 't429-5'].map(obsKey));
    const counts = (await get('/$requests')).json;
    assert.deepEqual(counts, { total: 6, by_status: { 200: 4, 429: 2 }, faulted: 2, by_fault: { 429: 2 } });
  });

  test('every_nth_429 without retry_after_s sends Retry-After: 1', async () => {
    await setFault({ every_nth_429: 1 });
    const res = await get('/Patient');
    assert.equal(res.status, 429);
    assert.equal(res.headers['retry-after'], '1');
  });

  test('every_nth_503: Retry-After only when retry_after_s is given', async () => {
    await setFault({ every_nth_503: 2 });
    assert.equal((await get('/Patient')).status, 200);
    const plain = await get('/Patient');
    assert.equal(plain.status, 503);
    assert.equal(plain.headers['retry-after'], undefined);
    assert.equal(plain.json.issue[0].code, 'transient');
    await setFault({ every_nth_503: 1, retry_after_s: 5 });
    const withRetry = await post('/', transaction('t503'));
    assert.equal(withRetry.status, 503);
    assert.equal(withRetry.headers['retry-after'], '5');
    assert.deepEqual(await identifiers(), {});
  });

  test('drop_every_nth: the transaction is committed, then the connection is cut', async () => {
    await setFault({ drop_every_nth: 2 });
    assert.equal((await post('/', transaction('drop-1'))).status, 200);
    const dropped = await outcomeOf(post('/', transaction('drop-2')));
    assert.ok(dropped === 'ECONNRESET' || dropped === 'socket hang up', dropped);
    assert.deepEqual(await identifiers(), { [obsKey('drop-1')]: 1, [obsKey('drop-2')]: 1 });
    // The client retries: the conditional create finds the committed Observation.
    const resend = await post('/', transaction('drop-2'));
    assert.equal(resend.status, 200);
    assert.equal(resend.json.entry[1].response.status, '200 OK');
    assert.deepEqual(await identifiers(), { [obsKey('drop-1')]: 1, [obsKey('drop-2')]: 1 });
    const counts = (await get('/$requests')).json;
    assert.equal(counts.total, 3);
    assert.deepEqual(counts.by_status, { 200: 2 });
    assert.deepEqual(counts.by_fault, { drop: 1 });
  });

  test('down_for_s (refuse): the listening socket is closed, then reopened on the same port', async () => {
    const view = await setFault({ down_for_s: 1.5 });
    assert.equal(view.down_mode, 'refuse');
    let refused = false;
    await waitFor('ECONNREFUSED', async () => (refused = (await outcomeOf(get('/Patient'))) === 'ECONNREFUSED'), 1000);
    assert.ok(refused);
    await waitFor('the server to listen again', async () => (await outcomeOf(get('/Patient'))) === 'answered 200');
    assert.equal((await post('/', transaction('after-down'))).status, 200);
    const fault = (await get('/$fault')).json;
    assert.equal(fault.down_until, undefined);
  });

  test('down_for_s (reset): FHIR connections are destroyed while control endpoints answer', async () => {
    await setFault({ down_for_s: 2, down_mode: 'reset' });
    const cut = await outcomeOf(post('/', transaction('during-down')));
    assert.ok(cut === 'ECONNRESET' || cut === 'socket hang up', cut);
    const counts = await get('/$requests');
    assert.equal(counts.status, 200);
    assert.equal(counts.json.by_fault.down, 1);
    assert.ok((await get('/$fault')).json.down_until);
    await waitFor('the down window to end', async () => (await outcomeOf(get('/Patient'))) === 'answered 200');
    assert.deepEqual(await identifiers(), {});
  });

  test('delay_ms: FHIR answers come after the delay, control answers do not wait', async () => {
    await setFault({ delay_ms: 300 });
    const t0 = Date.now();
    const res = await get('/metadata');
    const elapsed = Date.now() - t0;
    assert.equal(res.status, 200);
    assert.ok(elapsed >= 290, `answered after ${elapsed} ms`);
    const counts = (await get('/$requests')).json;
    assert.deepEqual(counts.by_fault, { delay: 1 });
    assert.equal(counts.faulted, 0);
  });

  test('fail_status: matching identifiers get the status, nothing of theirs is stored', async () => {
    await setFault({ fail_status: { status: 422, when_identifier_contains: 'xyz' } });
    const failed = await post('/', transaction('obs-xyz-1'));
    assert.equal(failed.status, 422);
    assert.equal(failed.json.resourceType, 'OperationOutcome');
    assert.equal(failed.json.issue[0].code, 'business-rule');
    const single = await post('/Observation', observation('also-xyz'));
    assert.equal(single.status, 422);
    assert.equal((await post('/', transaction('obs-ok-1'))).status, 200);
    assert.equal((await post('/Observation', observation('ok-single'))).status, 201);
    assert.deepEqual(await identifiers(), { [obsKey('obs-ok-1')]: 1, [obsKey('ok-single')]: 1 });
    assert.equal((await get('/$requests')).json.by_fault.fail_status, 2);
  });

  test('fail_status without when_identifier_contains fails every POST and PUT, not GET', async () => {
    await setFault({ fail_status: { status: 400 } });
    assert.equal((await post('/', transaction('any'))).status, 400);
    assert.equal((await get('/Observation')).status, 200);
  });

  test('faults combine: 429 wins over drop for the same request; delay applies to both', async () => {
    await setFault({ every_nth_429: 2, drop_every_nth: 2, delay_ms: 10 });
    assert.equal((await get('/Patient')).status, 200);
    assert.equal((await get('/Patient')).status, 429);
    const counts = (await get('/$requests')).json;
    assert.deepEqual(counts.by_fault, { 429: 1, delay: 2 });
  });

  test('control endpoints are never faulted and not counted', async () => {
    await setFault({ every_nth_429: 1, delay_ms: 2000 });
    for (const p of ['/$stats', '/$requests', '/$identifiers?type=Patient', '/$cpu', '/$fault']) {
      const t0 = Date.now();
      const res = await get(p);
      assert.equal(res.status, 200, `${p}: ${res.text}`);
      assert.ok(Date.now() - t0 < 2000, `${p} was delayed`);
    }
    assert.equal((await get('/$requests')).json.total, 0);
    assert.equal((await get('/$fault')).json.fhir_requests_since_set, 0);
    assert.equal((await get('/Patient')).status, 429);
    assert.equal((await get('/$requests')).json.total, 1);
  });

  test('--fault-free server: DELETE /$fault clears, POST replaces and restarts the count', async () => {
    await setFault({ every_nth_429: 2 });
    assert.equal((await get('/Patient')).status, 200);
    await setFault({ every_nth_429: 2 });
    assert.equal((await get('/Patient')).status, 200);
    assert.equal((await get('/Patient')).status, 429);
    const cleared = await request(port, 'DELETE', '/$fault');
    assert.deepEqual(cleared.json, { fhir_requests_since_set: 0 });
    assert.equal((await get('/Patient')).status, 200);
    assert.equal((await get('/Patient')).status, 200);
  });

  test('POST /$fault refuses every configuration outside the limits, keeping the active one', async () => {
    await setFault({ every_nth_503: 7 });
    const bad = [
      [],
      'text',
      null,
      { unknown: 1 },
      { every_nth_429: 0 },
      { every_nth_429: 1.5 },
      { every_nth_503: 1_000_001 },
      { drop_every_nth: '2' },
      { retry_after_s: -1 },
      { retry_after_s: 3601 },
      { delay_ms: 600_001 },
      { down_for_s: 0 },
      { down_for_s: 3601 },
      { down_mode: 'reset' },
      { down_for_s: 1, down_mode: 'sideways' },
      { fail_status: 422 },
      { fail_status: { status: 200 } },
      { fail_status: { status: 600 } },
      { fail_status: { status: 422, when_identifier_contains: '' } },
      { fail_status: { status: 422, when_identifier_contains: 'x'.repeat(1025) } },
      { fail_status: { status: 422, other: 1 } },
    ];
    for (const config of bad) {
      const res = await post('/$fault', JSON.stringify(config), { 'Content-Type': 'application/json' });
      assert.equal(res.status, 400, `${JSON.stringify(config)} → ${res.status}`);
      assert.match(res.json.error, /^fault: /);
    }
    const notJson = await post('/$fault', '{every', { 'Content-Type': 'application/json' });
    assert.equal(notJson.status, 400);
    const huge = 'x'.repeat(1024 * 1024);
    const tooLarge = await post('/$fault', { fail_status: { status: 422, when_identifier_contains: huge } });
    assert.equal(tooLarge.status, 413);
    assert.equal((await get('/$fault')).json.every_nth_503, 7);
  });

  test('$identifiers: one key per system|value, duplicates counted', async () => {
    assert.equal((await post('/Observation', observation('dup'))).status, 201);
    assert.equal((await post('/Observation', observation('dup'))).status, 201);
    assert.equal((await post('/Observation', observation('single'))).status, 201);
    assert.deepEqual(await identifiers(), { [obsKey('dup')]: 2, [obsKey('single')]: 1 });
    assert.deepEqual((await get('/$identifiers?type=Patient')).json, {});
    assert.equal((await get('/$identifiers')).status, 400);
    assert.equal((await get('/$identifiers?type=NotAType')).status, 400);
  });

  test('$cpu: user + system microseconds, growing with work', async () => {
    const before = (await get('/$cpu')).json;
    assert.equal(before.total_us, before.user_us + before.system_us);
    assert.ok(before.total_us > 0);
    for (let i = 0; i < 20; i++) assert.equal((await post('/', transaction(`cpu-${i}`))).status, 200);
    const afterWork = (await get('/$cpu')).json;
    assert.ok(afterWork.total_us > before.total_us, `${afterWork.total_us} after ${before.total_us}`);
  });

  test('$reset clears the repository, the counters and the faults', async () => {
    assert.equal((await post('/', transaction('r-1'))).status, 200);
    await setFault({ every_nth_429: 1 });
    assert.equal((await get('/Patient')).status, 429);
    assert.deepEqual((await post('/$reset')).json, { reset: true });
    assert.deepEqual((await get('/$stats')).json, {});
    assert.deepEqual((await get('/$requests')).json, { total: 0, by_status: {}, faulted: 0, by_fault: {} });
    assert.deepEqual((await get('/$fault')).json, { fhir_requests_since_set: 0 });
    assert.equal((await get('/Patient')).status, 200);
  });

  test('control endpoints check their methods; SMART endpoints are absent without --smart', async () => {
    assert.equal((await request(port, 'PUT', '/$fault')).status, 405);
    assert.equal((await get('/$reset')).status, 405);
    assert.equal((await get('/.well-known/smart-configuration')).status, 404);
    assert.equal((await get('/$tokens')).status, 404);
    assert.equal((await get('/Patient', { headers: {} })).status, 200);
  });
});

describe('command line', () => {
  test('--fault applies from the start', async () => {
    const server = await startServer(['--fault', '{"every_nth_429":1,"retry_after_s":7}']);
    try {
      const res = await request(server.port, 'GET', '/Patient');
      assert.equal(res.status, 429);
      assert.equal(res.headers['retry-after'], '7');
      assert.equal((await request(server.port, 'GET', '/$fault')).json.every_nth_429, 1);
    } finally {
      await server.stop();
    }
  });

  test('--fault with down_for_s: LISTENING is printed, then the port refuses until the window ends', async () => {
    const server = await startServer(['--fault', '{"down_for_s":1}']);
    try {
      // A connection made between LISTENING and the close is reset rather than refused.
      const first = await outcomeOf(request(server.port, 'GET', '/Patient'));
      assert.ok(['ECONNREFUSED', 'ECONNRESET'].includes(first), first);
      const answered = async () => (await outcomeOf(request(server.port, 'GET', '/Patient'))) === 'answered 200';
      await waitFor('the server to listen again', answered);
      assert.match(server.stderr(), /fault: down, listening socket closed/);
      assert.match(server.stderr(), new RegExp(`fault: up again on 127\\.0\\.0\\.1:${server.port}`));
    } finally {
      await server.stop();
    }
  });

  test('bad options make the server exit with status 2', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'front-test-'));
    try {
      const privateJwks = path.join(dir, 'private.json');
      const { privateKey } = await generateKeyPair('ES384', { extractable: true });
      writeFileSync(privateJwks, JSON.stringify({ c: { keys: [{ ...(await exportJWK(privateKey)), kid: 'k' }] } }));
      const cases = [
        [['--fault', '{not json'], /--fault: not JSON/],
        [['--fault', '{"every_nth_429":0}'], /--fault: "every_nth_429"/],
        [['--smart-jwks', path.join(dir, 'missing.json')], /--smart-jwks/],
        [['--smart-jwks', privateJwks], /not a public key/],
        [['--token-lifetime-s', '0'], /--token-lifetime-s/],
        [['--basic', 'nocolon'], /--basic/],
      ];
      for (const [args, message] of cases) {
        const { code, stderr, stdout } = await runServerToExit(args);
        assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
        assert.match(stderr, message);
        assert.doesNotMatch(stdout, /LISTENING/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// SMART Backend Services

async function keyPair(alg, kid) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const { alg: _, ...privateJwk } = await exportJWK(privateKey);
  return { privateKey, privateJwk, kid, alg, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

// A client assertion; `claims`/`header` override the defaults (undefined removes a claim).
function assertion(key, clientId, tokenUrl, { claims = {}, header = {} } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const payload = { iss: clientId, sub: clientId, aud: tokenUrl, exp: now + 240, iat: now, jti: randomUUID(), ...claims };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  const protectedHeader = { alg: key.alg, kid: key.kid, typ: 'JWT', ...header };
  for (const k of Object.keys(protectedHeader)) if (protectedHeader[k] === undefined) delete protectedHeader[k];
  return new SignJWT(payload).setProtectedHeader(protectedHeader).sign(key.privateKey);
}

function tokenForm(clientAssertion, overrides = {}) {
  const form = {
    grant_type: 'client_credentials',
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: clientAssertion,
    scope: 'system/Observation.write system/Patient.cruds',
    ...overrides,
  };
  for (const k of Object.keys(form)) if (form[k] === undefined) delete form[k];
  return new URLSearchParams(form).toString();
}

function postToken(port, form, contentType = 'application/x-www-form-urlencoded') {
  return request(port, 'POST', '/auth/token', { body: form, headers: { 'Content-Type': contentType } });
}

describe('SMART Backend Services', () => {
  let server;
  let port;
  let tokenUrl;
  let dir;
  const es = {};
  const rs = {};

  before(async () => {
    Object.assign(es, await keyPair('ES384', 'es-key-1'));
    Object.assign(rs, await keyPair('RS384', 'rs-key-1'));
    dir = mkdtempSync(path.join(tmpdir(), 'front-test-'));
    const jwksFile = path.join(dir, 'clients.json');
    writeFileSync(jwksFile, JSON.stringify({ 'es-client': { keys: [es.jwk] } }));
    server = await startServer(['--smart-jwks', jwksFile]);
    port = server.port;
    tokenUrl = `http://127.0.0.1:${port}/auth/token`;
    const reg = await request(port, 'POST', '/$clients', { body: { client_id: 'rs-client', jwks: { keys: [rs.jwk] } } });
    assert.equal(reg.status, 201, reg.text);
  });
  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const fhirGet = (token) =>
    request(port, 'GET', '/Patient', { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  const issued = async () => (await request(port, 'GET', '/$tokens')).json.issued;
  async function tokenFor(key, clientId, options) {
    const res = await postToken(port, tokenForm(await assertion(key, clientId, tokenUrl, options)));
    assert.equal(res.status, 200, res.text);
    return res.json;
  }

  test('.well-known/smart-configuration names the token endpoint and what it accepts', async () => {
    const res = await request(port, 'GET', '/.well-known/smart-configuration');
    assert.equal(res.status, 200);
    assert.equal(res.json.token_endpoint, tokenUrl);
    assert.deepEqual(res.json.token_endpoint_auth_methods_supported, ['private_key_jwt']);
    assert.deepEqual(res.json.token_endpoint_auth_signing_alg_values_supported, ['RS384', 'ES384']);
    assert.deepEqual(res.json.grant_types_supported, ['client_credentials']);
    assert.deepEqual(res.json.capabilities, ['client-confidential-asymmetric']);
    assert.ok(res.json.scopes_supported.includes('system/Observation.write'));
  });

  test('FHIR requests without a valid token get 401 invalid_token; control endpoints stay open', async () => {
    for (const token of [undefined, 'not-a-token']) {
      const res = await fhirGet(token);
      assert.equal(res.status, 401);
      assert.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token"');
      assert.equal(res.json.issue[0].code, 'login');
    }
    assert.equal((await request(port, 'GET', '/$stats')).status, 200);
  });

  test('ES384 client from --smart-jwks and RS384 client from POST /$clients get working tokens', async () => {
    for (const [key, clientId] of [
      [es, 'es-client'],
      [rs, 'rs-client'],
    ]) {
      const res = await postToken(port, tokenForm(await assertion(key, clientId, tokenUrl)));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(res.json.token_type, 'bearer');
      assert.equal(res.json.expires_in, 300);
      assert.equal(res.json.scope, 'system/Observation.write system/Patient.cruds');
      assert.match(res.json.access_token, /^[A-Za-z0-9_-]{40,}$/);
      assert.equal((await fhirGet(res.json.access_token)).status, 200);
    }
  });

  test('a replayed jti is refused', async () => {
    const jwt = await assertion(rs, 'rs-client', tokenUrl);
    assert.equal((await postToken(port, tokenForm(jwt))).status, 200);
    const replay = await postToken(port, tokenForm(jwt));
    assert.equal(replay.status, 401);
    assert.equal(replay.json.error, 'invalid_client');
    assert.match(replay.json.error_description, /already used/);
  });

  test('assertions that must not authenticate are refused with 401 invalid_client', async () => {
    const other = await keyPair('RS384', 'rs-key-1'); // same kid, a key the server does not know
    const now = Math.floor(Date.now() / 1000);
    const cases = {
      'wrong key': await assertion(other, 'rs-client', tokenUrl),
      'wrong aud': await assertion(rs, 'rs-client', tokenUrl, { claims: { aud: 'http://127.0.0.1:1/auth/token' } }),
      expired: await assertion(rs, 'rs-client', tokenUrl, { claims: { exp: now - 60 } }),
      'exp more than 5 min ahead': await assertion(rs, 'rs-client', tokenUrl, { claims: { exp: now + 600 } }),
      'no exp': await assertion(rs, 'rs-client', tokenUrl, { claims: { exp: undefined } }),
      'no jti': await assertion(rs, 'rs-client', tokenUrl, { claims: { jti: undefined } }),
      'sub differs from iss': await assertion(rs, 'rs-client', tokenUrl, { claims: { sub: 'someone-else' } }),
      'unknown client': await assertion(rs, 'nobody', tokenUrl),
      'unknown kid': await assertion(rs, 'rs-client', tokenUrl, { header: { kid: 'other-kid' } }),
      'no kid': await assertion(rs, 'rs-client', tokenUrl, { header: { kid: undefined } }),
      'no typ': await assertion(rs, 'rs-client', tokenUrl, { header: { typ: undefined } }),
      'RS256 with the registered key': await assertion(
        { ...rs, alg: 'RS256', privateKey: await importJWK(rs.privateJwk, 'RS256') },
        'rs-client',
        tokenUrl
      ),
      'alg none': new UnsecuredJWT({ iss: 'rs-client', sub: 'rs-client', aud: tokenUrl, exp: now + 60, jti: randomUUID() }).encode(),
      HS256: await new SignJWT({ iss: 'rs-client', sub: 'rs-client', aud: tokenUrl, exp: now + 60, jti: randomUUID() })
        .setProtectedHeader({ alg: 'HS256', kid: 'rs-key-1', typ: 'JWT' })
        .sign(new TextEncoder().encode('a shared secret of thirty-two bytes!')),
      'not a JWT': 'abc.def',
    };
    const before = await issued();
    for (const [name, jwt] of Object.entries(cases)) {
      const res = await postToken(port, tokenForm(jwt));
      assert.equal(res.status, 401, `${name}: ${res.text}`);
      assert.equal(res.json.error, 'invalid_client', name);
      assert.ok(res.json.error_description, name);
    }
    const rsAssertion = await assertion(rs, 'rs-client', tokenUrl);
    const mismatch = await postToken(port, tokenForm(rsAssertion, { client_id: 'es-client' }));
    assert.equal(mismatch.status, 401);
    assert.equal(await issued(), before);
  });

  test('malformed token requests are refused with 400 and the RFC 6749 error code', async () => {
    const jwt = await assertion(rs, 'rs-client', tokenUrl);
    const cases = [
      ['wrong grant_type', tokenForm(jwt, { grant_type: 'authorization_code' }), 'unsupported_grant_type'],
      ['no grant_type', tokenForm(jwt, { grant_type: undefined }), 'invalid_request'],
      ['wrong assertion type', tokenForm(jwt, { client_assertion_type: 'urn:example' }), 'invalid_request'],
      ['no assertion', tokenForm(undefined), 'invalid_request'],
      ['no scope', tokenForm(jwt, { scope: undefined }), 'invalid_request'],
      ['patient scope', tokenForm(jwt, { scope: 'patient/*.read' }), 'invalid_scope'],
      ['empty v2 permissions', tokenForm(jwt, { scope: 'system/Observation.' }), 'invalid_scope'],
      ['too many scopes', tokenForm(jwt, { scope: Array(33).fill('system/*.read').join(' ') }), 'invalid_scope'],
      ['repeated parameter', `${tokenForm(jwt)}&grant_type=client_credentials`, 'invalid_request'],
      ['assertion over 16 KiB', tokenForm('a'.repeat(16 * 1024 + 1)), 'invalid_request'],
      ['form over 64 KiB', tokenForm(jwt, { padding: 'p'.repeat(64 * 1024) }), 'invalid_request'],
    ];
    for (const [name, form, error] of cases) {
      const res = await postToken(port, form);
      assert.equal(res.status, 400, `${name}: ${res.text}`);
      assert.equal(res.json.error, error, name);
    }
    const asJson = await postToken(port, JSON.stringify({ grant_type: 'client_credentials' }), 'application/json');
    assert.equal(asJson.status, 400);
    assert.equal(asJson.json.error, 'invalid_request');
    // None of these used up the assertion's jti.
    assert.equal((await postToken(port, tokenForm(jwt))).status, 200);
  });

  test('POST /$revoke-tokens invalidates issued tokens; a new token works (401 → refresh once)', async () => {
    const { access_token: first } = await tokenFor(es, 'es-client');
    assert.equal((await fhirGet(first)).status, 200);
    const revoked = await request(port, 'POST', '/$revoke-tokens');
    assert.equal(revoked.status, 200);
    assert.ok(revoked.json.revoked >= 1);
    assert.equal((await fhirGet(first)).status, 401);
    assert.deepEqual((await request(port, 'GET', '/$tokens')).json.active, 0);
    const { access_token: second } = await tokenFor(es, 'es-client');
    assert.notEqual(second, first);
    assert.equal((await fhirGet(second)).status, 200);
    const tokens = (await request(port, 'GET', '/$tokens')).json;
    assert.equal(tokens.active, 1);
    assert.ok(tokens.issued >= 2);
  });

  test('POST /$clients refuses private keys, keys without kid and unusable keys', async () => {
    const { privateKey } = await generateKeyPair('RS384', { extractable: true });
    const privateJwk = { ...(await exportJWK(privateKey)), kid: 'p' };
    const p256 = await exportJWK((await generateKeyPair('ES256')).publicKey);
    const cases = [
      { client_id: 'c', jwks: { keys: [privateJwk] } },
      { client_id: 'c', jwks: { keys: [{ ...rs.jwk, kid: undefined }] } },
      { client_id: 'c', jwks: { keys: [] } },
      { client_id: 'c', jwks: { keys: Array(21).fill(rs.jwk) } },
      { client_id: 'c', jwks: { keys: [{ kty: 'RSA', kid: 'x', n: 'AQAB', e: 'AQAB', alg: 'RS384' }] } },
      { client_id: 'c', jwks: { keys: [{ ...rs.jwk, alg: 'RS256' }] } },
      { client_id: 'c', jwks: { keys: [{ ...p256, kid: 'p256', alg: 'ES384' }] } },
      { client_id: '', jwks: { keys: [rs.jwk] } },
      { client_id: 'x'.repeat(256), jwks: { keys: [rs.jwk] } },
    ];
    for (const body of cases) {
      const res = await request(port, 'POST', '/$clients', { body: JSON.parse(JSON.stringify(body)) });
      assert.equal(res.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${res.text}`);
      assert.equal(res.json.error, 'invalid_request');
    }
  });

  test('faults apply to authorized FHIR requests; the token endpoint is never faulted', async () => {
    await request(port, 'POST', '/$fault', { body: { every_nth_429: 1 } });
    try {
      const { access_token: token } = await tokenFor(rs, 'rs-client');
      assert.equal((await fhirGet(token)).status, 429);
    } finally {
      await request(port, 'DELETE', '/$fault');
    }
  });

  test('$reset forgets tokens and clients registered over HTTP; --smart-jwks clients stay', async () => {
    const { access_token: token } = await tokenFor(rs, 'rs-client');
    assert.equal((await request(port, 'POST', '/$reset')).status, 200);
    assert.equal((await fhirGet(token)).status, 401);
    assert.deepEqual((await request(port, 'GET', '/$tokens')).json, { issued: 0, active: 0 });
    const gone = await postToken(port, tokenForm(await assertion(rs, 'rs-client', tokenUrl)));
    assert.equal(gone.status, 401);
    assert.equal((await fhirGet((await tokenFor(es, 'es-client')).access_token)).status, 200);
    const reg = await request(port, 'POST', '/$clients', { body: { client_id: 'rs-client', jwks: { keys: [rs.jwk] } } });
    assert.equal(reg.status, 201);
  });
});

describe('token lifetime', () => {
  test('--token-lifetime-s: tokens stop working when they expire', async () => {
    const server = await startServer(['--smart', '--token-lifetime-s', '3']);
    try {
      const key = await keyPair('ES384', 'k1');
      const tokenUrl = `http://127.0.0.1:${server.port}/auth/token`;
      const registration = { client_id: 'c1', jwks: { keys: [key.jwk] } };
      assert.equal((await request(server.port, 'POST', '/$clients', { body: registration })).status, 201);
      const res = await postToken(server.port, tokenForm(await assertion(key, 'c1', tokenUrl)));
      const issuedAt = Date.now();
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.expires_in, 3);
      const auth = { Authorization: `Bearer ${res.json.access_token}` };
      assert.equal((await request(server.port, 'GET', '/Patient', { headers: auth })).status, 200);
      await new Promise((r) => setTimeout(r, Math.max(0, issuedAt + 3200 - Date.now())));
      assert.equal((await request(server.port, 'GET', '/Patient', { headers: auth })).status, 401);
      assert.deepEqual((await request(server.port, 'GET', '/$tokens')).json, { issued: 1, active: 0 });
    } finally {
      await server.stop();
    }
  });
});

describe('static authorization modes', () => {
  let server;
  let port;
  before(async () => {
    server = await startServer(['--basic', 'alice:s3cret:x', '--bearer', 'static-token-123']);
    port = server.port;
  });
  after(() => server?.stop());
  const basic = (userPass) => `Basic ${Buffer.from(userPass).toString('base64')}`;
  const fhirGet = (authorization) =>
    request(port, 'GET', '/Patient', { headers: authorization ? { Authorization: authorization } : {} });

  test('--basic and --bearer: either credential is accepted, anything else is 401 with both challenges', async () => {
    assert.equal((await fhirGet(basic('alice:s3cret:x'))).status, 200);
    assert.equal((await fhirGet('Bearer static-token-123')).status, 200);
    const refused = [undefined, basic('alice:wrong'), basic('alice:s3cret'), 'Bearer static-token-12', 'Bearer', 'Digest x'];
    for (const wrong of refused) {
      const res = await fhirGet(wrong);
      assert.equal(res.status, 401, String(wrong));
      assert.match(res.headers['www-authenticate'], /Bearer error="invalid_token"/);
      assert.match(res.headers['www-authenticate'], /Basic realm="fhir-server"/);
    }
    assert.equal((await request(port, 'GET', '/$requests')).status, 200);
    assert.equal((await request(port, 'GET', '/.well-known/smart-configuration')).status, 404);
  });
});
