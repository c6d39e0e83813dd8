// The endpoints of the test FHIR server that are not FHIR: test controls ($fault, $reset, counts)
// and the SMART authorization server's endpoints. They are never faulted, never need
// authorization, and are not counted in GET /$requests. Answers are plain JSON; errors are
// {"error": "..."} (OAuth errors: RFC 6749 §5.2). See README.md, "Control endpoints".

import { FaultConfigError, parseFaultConfig } from './faults.mjs';
import { OAuthError, SMART_LIMITS } from './smart.mjs';

const JSON_TYPE = 'application/json';
/** Bound of a control request's body ($fault, $clients: small JSON documents). */
export const MAX_CONTROL_BODY_BYTES = 1024 * 1024;

const CONTROL_PATHS = new Set([
  '/$stats',
  '/$fault',
  '/$identifiers',
  '/$requests',
  '/$cpu',
  '/$reset',
  '/$clients',
  '/$revoke-tokens',
  '/$tokens',
  '/.well-known/smart-configuration',
  '/auth/token',
]);

class ControlError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The decoded path when `url` names a control endpoint, else undefined. */
export function controlPath(url) {
  let path;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return undefined;
  }
  return CONTROL_PATHS.has(path) ? path : undefined;
}

function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The request body as text, at most `limit` bytes (else throws `tooLarge()`). */
async function readText(req, limit, tooLarge) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readJson(req) {
  const tooLarge = () => new ControlError(413, `body larger than ${MAX_CONTROL_BODY_BYTES} bytes`);
  const text = await readText(req, MAX_CONTROL_BODY_BYTES, tooLarge);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ControlError(400, `the body is not JSON: ${err.message}`);
  }
}

function expectMethod(req, ...methods) {
  if (!methods.includes(req.method)) {
    throw new ControlError(405, `${req.method} is not supported here (use ${methods.join(' or ')})`);
  }
}

function smartOf(ctx) {
  if (!ctx.smart) throw new ControlError(404, 'SMART is off: start the server with --smart or --smart-jwks FILE');
  return ctx.smart;
}

async function faultEndpoint(ctx, req, res) {
  expectMethod(req, 'GET', 'POST', 'DELETE');
  if (req.method === 'POST') {
    let config;
    try {
      config = parseFaultConfig(await readJson(req));
    } catch (err) {
      if (err instanceof FaultConfigError) throw new ControlError(400, `fault: ${err.message}`);
      throw err;
    }
    ctx.faults.set(config);
    // The down window starts once this answer is out, so the test hears it.
    res.on('finish', () => ctx.faults.startDown());
  } else if (req.method === 'DELETE') {
    ctx.faults.clear();
  }
  sendJson(res, 200, ctx.faults.view());
}

function identifiersEndpoint(ctx, req, res, url) {
  expectMethod(req, 'GET');
  const type = url.searchParams.get('type');
  if (!type || !ctx.isResourceType(type)) throw new ControlError(400, 'expected ?type=<resource type>');
  sendJson(res, 200, ctx.repo.identifierCounts(type));
}

function cpuEndpoint(req, res) {
  expectMethod(req, 'GET');
  const { user, system } = process.cpuUsage();
  sendJson(res, 200, { user_us: user, system_us: system, total_us: user + system });
}

function resetEndpoint(ctx, req, res) {
  expectMethod(req, 'POST');
  ctx.repo.clear();
  ctx.counters.reset();
  ctx.faults.clear();
  ctx.smart?.reset();
  sendJson(res, 200, { reset: true });
}

async function clientsEndpoint(ctx, req, res) {
  expectMethod(req, 'POST');
  const smart = smartOf(ctx);
  const body = await readJson(req);
  await smart.registerClient(body?.client_id, body?.jwks);
  sendJson(res, 201, { client_id: body.client_id, keys: body.jwks.keys.length });
}

async function tokenEndpoint(ctx, req, res) {
  const smart = smartOf(ctx);
  if (req.method !== 'POST') throw new OAuthError(405, 'invalid_request', 'use POST');
  const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new OAuthError(400, 'invalid_request', 'Content-Type: expected application/x-www-form-urlencoded');
  }
  const tooLarge = () => new OAuthError(400, 'invalid_request', `body larger than ${SMART_LIMITS.maxFormBytes} bytes`);
  const form = await readText(req, SMART_LIMITS.maxFormBytes, tooLarge);
  // RFC 6749 §5.1: token answers are not cached.
  sendJson(res, 200, await smart.token(form, ctx.tokenUrl()), { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
}

async function dispatch(ctx, req, res, path, url) {
  switch (path) {
    case '/$stats':
      expectMethod(req, 'GET');
      return sendJson(res, 200, ctx.repo.stats());
    case '/$fault':
      return faultEndpoint(ctx, req, res);
    case '/$identifiers':
      return identifiersEndpoint(ctx, req, res, url);
    case '/$requests':
      expectMethod(req, 'GET');
      return sendJson(res, 200, ctx.counters.view());
    case '/$cpu':
      return cpuEndpoint(req, res);
    case '/$reset':
      return resetEndpoint(ctx, req, res);
    case '/$clients':
      return clientsEndpoint(ctx, req, res);
    case '/$revoke-tokens':
      expectMethod(req, 'POST');
      return sendJson(res, 200, { revoked: smartOf(ctx).revokeAll() });
    case '/$tokens':
      expectMethod(req, 'GET');
      return sendJson(res, 200, smartOf(ctx).tokenCounts());
    case '/.well-known/smart-configuration':
      expectMethod(req, 'GET');
      return sendJson(res, 200, smartOf(ctx).configuration(ctx.tokenUrl()));
    case '/auth/token':
      return tokenEndpoint(ctx, req, res);
    default:
      throw new ControlError(404, `no control endpoint ${path}`);
  }
}

/**
 * Answers a control request. `ctx`: {repo, faults, counters, smart (undefined when SMART is off),
 * tokenUrl(), isResourceType(type)}.
 */
export async function handleControl(ctx, req, res, path, url) {
  try {
    await dispatch(ctx, req, res, path, url);
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
    } else if (err instanceof OAuthError) {
      sendJson(res, err.status, err.body(), { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    } else if (err instanceof ControlError) {
      sendJson(res, err.status, { error: err.message });
    } else {
      sendJson(res, 500, { error: `internal error: ${err?.message ?? err}` });
    }
  }
}
