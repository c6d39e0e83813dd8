// Helpers of front_test.mjs: start server.mjs as a child process (port 0, waits for LISTENING),
// plain HTTP requests on fresh connections (so a cut or refused connection shows as an error
// code), and the small FHIR Bundles the tests post.

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./server.mjs', import.meta.url));
const START_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 30_000;

export const PATIENT_SYSTEM = 'urn:oid:1.2.3.4.5';
export const OBSERVATION_SYSTEM = 'urn:fhirbridge:test:observation';

/**
 * Starts `node server.mjs --port 0 ...extraArgs`; resolves {port, stop(), stderr()} once it
 * printed LISTENING. The server stops by itself when the test process ends (stdin EOF).
 */
export function startServer(extraArgs = []) {
  const child = spawn(
    process.execPath,
    [SERVER, '--port', '0', '--max-seconds', '600', '--stop-on-stdin-eof', ...extraArgs],
    { stdio: ['pipe', 'pipe', 'pipe'] }
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`server.mjs did not print LISTENING within ${START_TIMEOUT_MS} ms: ${stderr}`));
    }, START_TIMEOUT_MS);
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /^LISTENING (\d+)$/m.exec(stdout);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        port: Number(m[1]),
        stderr: () => stderr,
        async stop() {
          child.stdin.end();
          return exited;
        },
      });
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server.mjs exited (${code ?? signal}) before LISTENING: ${stderr}`));
    });
  });
}

/** Runs server.mjs with arguments that must make it exit at once; resolves {code, stderr}. */
export function runServerToExit(extraArgs) {
  const child = spawn(process.execPath, [SERVER, '--port', '0', '--max-seconds', '60', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => (stdout += d));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill(), START_TIMEOUT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

/**
 * One HTTP request on its own connection. Resolves {status, headers, text, json}; rejects with
 * the socket error (err.code ECONNREFUSED, ECONNRESET...) when there is no answer.
 */
export function request(port, method, path, { headers = {}, body, timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const allHeaders = { ...headers };
  if (text !== undefined) {
    allHeaders['Content-Type'] ??= 'application/fhir+json';
    allHeaders['Content-Length'] = Buffer.byteLength(text);
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false, headers: allHeaders }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text: body, json });
      });
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    if (text !== undefined) req.write(text);
    req.end();
  });
}

/** The error code a request ends with, or `answered <status>` when it was answered. */
export async function outcomeOf(promise) {
  try {
    const res = await promise;
    return `answered ${res.status}`;
  } catch (err) {
    return err.code ?? err.message;
  }
}

/** Resolves when `probe()` resolves truthy; polls every 50 ms, rejects after `ms`. */
export async function waitFor(what, probe, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A valid Observation (heart rate) carrying identifier OBSERVATION_SYSTEM|value. */
export function observation(value, subjectReference) {
  const obs = {
    resourceType: 'Observation',
    status: 'final',
    identifier: [{ system: OBSERVATION_SYSTEM, value }],
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
    valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
  };
  if (subjectReference) obs.subject = { reference: subjectReference };
  return obs;
}

/** A transaction Bundle: conditional creates of a Patient and of an Observation `value`. */
export function transaction(value) {
  const patientUrl = `urn:uuid:${randomUUID()}`;
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: patientUrl,
        resource: { resourceType: 'Patient', identifier: [{ system: PATIENT_SYSTEM, value: 'p-1' }] },
        request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${PATIENT_SYSTEM}|p-1` },
      },
      {
        fullUrl: `urn:uuid:${randomUUID()}`,
        resource: observation(value, patientUrl),
        request: { method: 'POST', url: 'Observation', ifNoneExist: `identifier=${OBSERVATION_SYSTEM}|${value}` },
      },
    ],
  };
}

/** The key GET /$identifiers uses for an Observation identifier value. */
export function obsKey(value) {
  return `${OBSERVATION_SYSTEM}|${value}`;
}
