#!/usr/bin/env node
// Acceptance test: fhirbridge's Bundles against a real FHIR R4 server (server.mjs, in memory).
//
//   node acceptance.mjs --fhirbridge PATH --inputs FILE|DIR... --zone IANA [--config FILE]
//                       [--source NAME] [--timeout-seconds N]
//
// Converts each input with `fhirbridge convert`, POSTs every Bundle line to the server and checks
// that every entry is stored (201/200), that each Observation is then found exactly once by its
// identifier and references a Patient and Device that exist, and that sending all the Bundles a
// second time creates nothing (conditional creates). OperationOutcome lines are counted and
// listed, not posted. Ends with "N passed, M failed"; exit status 0 only when nothing failed.
// Only 127.0.0.1 is used; the server is always stopped at the end.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SERVER_START_MS = 60_000;
const REQUEST_TIMEOUT_MS = 60_000;
const CONVERT_TIMEOUT_MS = 120_000;
const MAX_LISTED = 40;

// ---------------------------------------------------------------------------------------------
// Command line

function usage(message) {
  console.error(`acceptance: ${message}`);
  console.error(
    'usage: node acceptance.mjs --fhirbridge PATH --inputs FILE|DIR... --zone IANA ' +
      '[--config FILE] [--source NAME] [--timeout-seconds N]'
  );
  process.exit(2);
}

function parseCommandLine(argv) {
  const opts = { inputs: [], timeoutSeconds: 540 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length || argv[i + 1].startsWith('--')) usage(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '--fhirbridge':
        opts.fhirbridge = value();
        break;
      case '--zone':
        opts.zone = value();
        break;
      case '--config':
        opts.config = value();
        break;
      case '--source':
        opts.source = value();
        break;
      case '--timeout-seconds':
        opts.timeoutSeconds = Number(value());
        break;
      case '--inputs':
        while (i + 1 < argv.length && !argv[i + 1].startsWith('--')) opts.inputs.push(argv[++i]);
        break;
      default:
        usage(`unknown argument ${arg}`);
    }
  }
  if (!opts.fhirbridge) usage('--fhirbridge is required');
  if (!opts.zone) usage('--zone is required');
  if (opts.inputs.length === 0) usage('--inputs needs at least one file or directory');
  if (!Number.isFinite(opts.timeoutSeconds) || opts.timeoutSeconds <= 0) usage('--timeout-seconds must be > 0');
  return opts;
}

const opts = parseCommandLine(process.argv.slice(2));

// ---------------------------------------------------------------------------------------------
// Checks

let passed = 0;
let failed = 0;
function check(ok, what, detail) {
  if (ok) {
    passed++;
  } else {
    failed++;
    console.log(`FAIL ${what}${detail ? `\n     ${String(detail).replaceAll('\n', '\n     ')}` : ''}`);
  }
  return ok;
}

function describeOutcome(oo) {
  if (!oo || oo.resourceType !== 'OperationOutcome') return JSON.stringify(oo)?.slice(0, 500) ?? '(no body)';
  return (oo.issue ?? [])
    .map((i) => {
      const text = i.details?.text ?? '';
      const where = i.expression?.length ? ` at ${i.expression.join(', ')}` : '';
      const diag = i.diagnostics ? ` [${i.diagnostics}]` : '';
      return `${i.severity} ${i.code}: ${text}${where}${diag}`;
    })
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// The server

let server; // { child, port, exited }

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(HERE, 'server.mjs'), '--max-seconds', String(Math.ceil(opts.timeoutSeconds) + 60), '--stop-on-stdin-eof'],
      { stdio: ['pipe', 'pipe', 'pipe'] }
    );
    const state = { child, port: undefined, exited: false };
    server = state;
    let stdout = '';
    const timer = setTimeout(() => reject(new Error('the server did not print LISTENING in time')), SERVER_START_MS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      if (state.port) return;
      stdout += chunk;
      const m = /^LISTENING (\d+)$/m.exec(stdout);
      if (m) {
        state.port = Number(m[1]);
        clearTimeout(timer);
        resolve(state);
      } else if (stdout.length > 65536) {
        reject(new Error(`unexpected server output: ${stdout.slice(0, 200)}`));
      }
    });
    child.stderr.setEncoding('utf8');
    let partial = '';
    child.stderr.on('data', (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      for (const line of lines) console.log(`  [server] ${line}`);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      state.exited = true;
      clearTimeout(timer);
      if (!state.port) reject(new Error(`the server exited before listening (status ${code ?? signal})`));
    });
  });
}

async function stopServer() {
  if (!server || server.exited) return;
  const { child } = server;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}

async function fhir(method, urlPath, body) {
  const res = await fetch(`http://127.0.0.1:${server.port}${urlPath}`, {
    method,
    headers: { 'Content-Type': 'application/fhir+json', Accept: 'application/fhir+json' },
    body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

// FHIR search escaping of one token part, then URL encoding.
function tokenPart(s) {
  return encodeURIComponent(s.replace(/[\\|,$]/g, (c) => `\\${c}`));
}

// A resource as text with sorted keys, without id and server meta, and with its references
// rewritten by `locations` (fullUrl → Type/id): what the server should hold for it.
function canonical(resource, locations) {
  const walk = (v, depth) => {
    if (depth > 200) throw new Error('resource nested too deeply');
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    if (!v || typeof v !== 'object') return v;
    const out = {};
    for (const key of Object.keys(v).sort()) {
      if (depth === 0 && key === 'id') continue;
      let x = v[key];
      if (key === 'reference' && typeof x === 'string' && locations.has(x)) x = locations.get(x);
      out[key] = walk(x, depth + 1);
    }
    if (depth === 0 && out.meta) {
      const { versionId, lastUpdated, ...rest } = out.meta;
      if (Object.keys(rest).length > 0) out.meta = rest;
      else delete out.meta;
    }
    return out;
  };
  return JSON.stringify(walk(resource, 0));
}

function firstDifference(a, b, at = '') {
  if (JSON.stringify(a) === JSON.stringify(b)) return undefined;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[key], b[key], Array.isArray(a) ? `${at}[${key}]` : `${at}.${key}`);
      if (d) return d;
    }
  }
  return `${at || '(root)'}: sent ${JSON.stringify(a)?.slice(0, 160)}, stored ${JSON.stringify(b)?.slice(0, 160)}`;
}

// ---------------------------------------------------------------------------------------------
// Inputs and conversion

function expandInputs(inputs) {
  const files = [];
  for (const input of inputs) {
    let stat;
    try {
      stat = fs.statSync(input);
    } catch (err) {
      check(false, `input ${input}`, err.message);
      continue;
    }
    if (stat.isDirectory()) {
      const found = fs
        .readdirSync(input)
        .filter((name) => name.toLowerCase().endsWith('.hl7'))
        .sort()
        .map((name) => path.join(input, name));
      check(found.length > 0, `input ${input}`, 'no .hl7 files in this directory');
      files.push(...found);
    } else {
      files.push(input);
    }
  }
  return files;
}

function convert(file) {
  const args = ['convert', '--assume-timezone', opts.zone];
  if (opts.config) args.push('--config', opts.config);
  if (opts.source) args.push('--source', opts.source);
  args.push(file);
  return spawnSync(opts.fhirbridge, args, {
    encoding: 'utf8',
    timeout: CONVERT_TIMEOUT_MS,
    maxBuffer: 512 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

// ---------------------------------------------------------------------------------------------
// The run

const bundles = []; // { where, text, bundle, accepted, locations: Map(fullUrl → Type/id) }
const outcomes = []; // { where, oo }
const warnings = new Map(); // validation warning text → count
const rejections = []; // { where, status, text }
const collisions = []; // notes: an Observation whose ifNoneExist matched a different one

async function main() {
  const files = expandInputs(opts.inputs);
  for (const file of files) {
    const name = path.basename(file);
    const r = convert(file);
    if (!check(!r.error && r.signal === null, `${name}: fhirbridge convert ran`, r.error?.message ?? `killed by ${r.signal}`)) {
      continue;
    }
    const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
    let fileBundles = 0;
    let fileOutcomes = 0;
    lines.forEach((line, n) => {
      const where = `${name}:${n + 1}`;
      let json;
      try {
        json = JSON.parse(line);
      } catch (err) {
        check(false, `${where}: output line is JSON`, err.message);
        return;
      }
      if (json?.resourceType === 'Bundle' && json.type === 'transaction' && Array.isArray(json.entry)) {
        bundles.push({ where, text: line, bundle: json, accepted: false, locations: new Map() });
        fileBundles++;
      } else if (json?.resourceType === 'OperationOutcome') {
        outcomes.push({ where, oo: json });
        fileOutcomes++;
      } else {
        check(false, `${where}: output line is a transaction Bundle or an OperationOutcome`, line.slice(0, 200));
      }
    });
    const statusOk = r.status === (fileOutcomes > 0 ? 1 : 0);
    check(
      statusOk,
      `${name}: exit status ${r.status} matches the output (${fileOutcomes} OperationOutcome lines)`,
      r.stderr.split('\n').slice(-10).join('\n')
    );
    console.log(`${name}: ${fileBundles} bundles, ${fileOutcomes} outcomes, exit status ${r.status}`);
  }

  await startServer();
  console.log(`server listening on 127.0.0.1:${server.port}`);

  // First pass: every Bundle is stored.
  let observationsCreated = 0;
  const createdByType = {};
  const createdBy = new Map(); // Type/id → where the Bundle that created it came from
  for (const b of bundles) {
    b.statuses = [];
    const r = await fhir('POST', '/', b.text);
    const entries = b.bundle.entry;
    const resEntries = r.json?.entry;
    let ok = r.status === 200 && r.json?.type === 'transaction-response' && resEntries?.length === entries.length;
    const problems = [];
    if (ok) {
      entries.forEach((entry, i) => {
        const response = resEntries[i]?.response ?? {};
        const code = Number.parseInt(response.status, 10);
        if (code !== 201 && code !== 200) {
          ok = false;
          problems.push(`entry ${i}: ${response.status}\n${describeOutcome(response.outcome)}`);
          return;
        }
        const m = /^([A-Za-z]+)\/([^/]+)/.exec(response.location ?? '');
        if (!m) {
          ok = false;
          problems.push(`entry ${i}: no location in the response`);
          return;
        }
        if (entry.fullUrl) b.locations.set(entry.fullUrl, `${m[1]}/${m[2]}`);
        b.statuses[i] = code;
        const type = entry.resource?.resourceType;
        if (code === 201) {
          createdBy.set(`${m[1]}/${m[2]}`, b.where);
          createdByType[type] = (createdByType[type] ?? 0) + 1;
          if (type === 'Observation') observationsCreated++;
        }
        for (const issue of response.outcome?.issue ?? []) {
          const key = `${type}: ${issue.severity} ${issue.details?.text ?? issue.diagnostics ?? ''} at ${(issue.expression ?? []).join(', ')}`;
          warnings.set(key, (warnings.get(key) ?? 0) + 1);
        }
      });
    } else {
      problems.push(`HTTP ${r.status}\n${r.json ? describeOutcome(r.json) : r.text.slice(0, 500)}`);
    }
    if (!ok) rejections.push({ where: b.where, text: problems.join('\n') });
    b.accepted = check(ok, `${b.where}: the server stored the Bundle (every entry 201 or 200)`, problems.join('\n'));
  }

  // Every Observation is there once, with its Patient and Device.
  for (const b of bundles.filter((x) => x.accepted)) {
    const byFullUrl = new Map(b.bundle.entry.map((e) => [e.fullUrl, e]));
    b.bundle.entry.forEach((entry, i) => {
      if (entry.resource?.resourceType === 'Observation') b.observations ??= [];
      if (entry.resource?.resourceType === 'Observation') b.observations.push({ entry, i });
    });
    for (const { entry, i } of b.observations ?? []) {
      const what = `${b.where} entry ${i} (Observation)`;
      const obs = entry.resource;
      const identifier = (obs.identifier ?? []).find((id) => id?.system && id?.value);
      if (!check(identifier, `${what}: has an identifier with system and value`)) continue;
      const r = await fhir('GET', `/Observation?identifier=${tokenPart(identifier.system)}%7C${tokenPart(identifier.value)}`);
      const found = r.json?.entry ?? [];
      const expectedRef = b.locations.get(entry.fullUrl);
      const once =
        r.status === 200 && found.length === 1 && `Observation/${found[0].resource?.id}` === expectedRef;
      if (
        !check(
          once,
          `${what}: found exactly once by identifier ${identifier.system}|${identifier.value}`,
          `HTTP ${r.status}, ${found.length} found, expected ${expectedRef}`
        )
      ) {
        continue;
      }
      const stored = found[0].resource;
      const sent = canonical(obs, b.locations);
      const held = canonical(stored, new Map());
      const why = firstDifference(JSON.parse(sent), JSON.parse(held));
      if (why && b.statuses[i] === 200) {
        // Its ifNoneExist matched a different Observation stored earlier: this one was dropped.
        // A note, not a failure (the inputs may reuse devices and times); a different subject
        // fails below.
        collisions.push(
          `${what}: identifier ${identifier.system}|${identifier.value} matched ${expectedRef}, ` +
            `created from ${createdBy.get(expectedRef) ?? 'another Bundle'}; this Observation was not stored. ` +
            `First difference ${why}`
        );
      } else {
        check(!why, `${what}: the server holds the Observation as sent`, why);
      }
      for (const [element, type, required] of [
        ['subject', 'Patient', true],
        ['device', 'Device', false],
      ]) {
        const inBundle = obs[element]?.reference;
        if (!inBundle && !required) continue;
        const target = byFullUrl.get(inBundle);
        const expected = b.locations.get(inBundle);
        const storedRef = stored[element]?.reference;
        let detail = '';
        let ok = true;
        if (!inBundle) {
          ok = false;
          detail = `the Observation has no ${element}`;
        } else if (target?.resource?.resourceType !== type) {
          ok = false;
          detail = `${element}.reference ${inBundle} is not the fullUrl of a ${type} entry of the Bundle`;
        } else if (storedRef !== expected) {
          ok = false;
          detail = `stored ${element}.reference is ${storedRef}, expected ${expected}`;
          if (b.statuses[i] === 200) {
            detail +=
              ` (the entry was answered 200: its ifNoneExist matched an Observation of another ${type}` +
              ` created from ${createdBy.get(expectedRef) ?? 'another Bundle'}; this one was not stored)`;
          }
        } else {
          const got = await fhir('GET', `/${expected}`);
          if (got.status !== 200 || got.json?.resourceType !== type) {
            ok = false;
            detail = `GET /${expected}: HTTP ${got.status}`;
          }
        }
        check(ok, `${what}: ${element} is a ${type} on the server`, detail);
      }
    }
  }

  // Second pass: sending everything again creates nothing.
  const before = await fhir('GET', '/$stats');
  let resendCreated = 0;
  const resent = bundles.filter((x) => x.accepted);
  for (const b of resent) {
    const r = await fhir('POST', '/', b.text);
    const statuses = (r.json?.entry ?? []).map((e) => e.response?.status ?? '?');
    const created = statuses.filter((s) => s.startsWith('201')).length;
    resendCreated += created;
    check(
      r.status === 200 && statuses.length === b.bundle.entry.length && statuses.every((s) => s.startsWith('200')),
      `${b.where}: resent Bundle answered 200 for every entry`,
      r.status === 200 ? `entry statuses: ${statuses.join(', ')}` : `HTTP ${r.status}\n${describeOutcome(r.json)}`
    );
  }
  const after = await fhir('GET', '/$stats');
  check(
    before.status === 200 && after.status === 200 && before.text === after.text,
    'resending every Bundle left the server resource counts unchanged',
    `before ${before.text}, after ${after.text}`
  );
  check(bundles.length > 0, 'the inputs gave at least one Bundle');

  // Report.
  console.log('');
  console.log(`server holds ${after.text}`);
  console.log(`created on first pass: ${JSON.stringify(createdByType)}`);
  if (warnings.size > 0) {
    console.log(`validation warnings from the server (${warnings.size} distinct):`);
    [...warnings].slice(0, MAX_LISTED).forEach(([text, n]) => console.log(`  ${n} × ${text}`));
  }
  if (collisions.length > 0) {
    console.log(`identifier collisions (${collisions.length}; notes, failures only when the subject differs):`);
    for (const c of collisions.slice(0, MAX_LISTED)) console.log(`  ${c}`);
  }
  if (rejections.length > 0) {
    console.log(`bundles rejected by the server (${rejections.length}):`);
    for (const r of rejections.slice(0, MAX_LISTED)) console.log(`  ${r.where}: ${r.text.replaceAll('\n', '\n    ')}`);
  }
  if (outcomes.length > 0) {
    console.log(`OperationOutcome lines from fhirbridge (${outcomes.length}, not posted):`);
    for (const o of outcomes) {
      const issues = describeOutcome(o.oo).split('\n');
      const more = issues.length > 3 ? ` | (${issues.length - 3} more issues)` : '';
      console.log(`  ${o.where}: ${issues.slice(0, 3).join(' | ')}${more}`);
    }
  }
  console.log(
    `bundles posted ${bundles.length}, observations created ${observationsCreated}, ` +
      `resend created ${resendCreated}, outcomes ${outcomes.length}`
  );
}

let finished = false;
async function finish(code) {
  if (finished) return;
  finished = true;
  await stopServer().catch(() => undefined);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    check(false, `interrupted by ${signal}`);
    finish(1);
  });
}
process.on('exit', () => {
  if (server && !server.exited) server.child.kill('SIGKILL');
});
const watchdog = setTimeout(() => {
  check(false, `the acceptance run took longer than --timeout-seconds ${opts.timeoutSeconds}`);
  finish(1);
}, opts.timeoutSeconds * 1000);

try {
  await main();
} catch (err) {
  check(false, 'the acceptance run completed', err?.stack ?? String(err));
}
clearTimeout(watchdog);
await finish(failed === 0 ? 0 : 1);
