// Fault injection for the test FHIR server: which FHIR requests to throttle (429), refuse (503),
// drop after processing, delay, fail with a fixed status, and when to be down. The HTTP front
// (server.mjs) asks decide() once per FHIR request, at arrival, and acts on the answer; control
// endpoints ($fault, $stats, ...) never reach this module. Also the request counters of
// GET /$requests. See README.md, "Fault injection".

/** Bounds of every field of a fault configuration (it comes from a test, over HTTP or argv). */
export const FAULT_LIMITS = Object.freeze({
  maxNth: 1_000_000,
  maxRetryAfterS: 3600,
  maxDownS: 3600,
  maxDelayMs: 600_000,
  maxNeedleChars: 1024,
});

const FIELDS = new Set([
  'every_nth_429',
  'every_nth_503',
  'retry_after_s',
  'drop_every_nth',
  'down_for_s',
  'down_mode',
  'delay_ms',
  'fail_status',
]);

/** A fault configuration that is not an object of known, bounded fields. */
export class FaultConfigError extends Error {}

function integerIn(config, key, min, max) {
  const v = config[key];
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new FaultConfigError(`"${key}": expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

function parseFailStatus(value) {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new FaultConfigError('"fail_status": expected {"status": N, "when_identifier_contains": "text"}');
  }
  for (const key of Object.keys(value)) {
    if (key !== 'status' && key !== 'when_identifier_contains') {
      throw new FaultConfigError(`"fail_status": unknown field "${key}"`);
    }
  }
  const result = { status: integerIn(value, 'status', 400, 599) };
  const needle = value.when_identifier_contains;
  if (needle !== undefined) {
    if (typeof needle !== 'string' || needle.length === 0 || needle.length > FAULT_LIMITS.maxNeedleChars) {
      throw new FaultConfigError(
        `"fail_status.when_identifier_contains": expected a string of 1..${FAULT_LIMITS.maxNeedleChars} characters`
      );
    }
    result.when_identifier_contains = needle;
  }
  return result;
}

/**
 * Checks a fault configuration (the parsed JSON of POST /$fault or --fault) and returns a
 * normalized copy. Throws FaultConfigError naming the first bad field.
 */
export function parseFaultConfig(value) {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new FaultConfigError('expected a JSON object');
  }
  for (const key of Object.keys(value)) {
    if (!FIELDS.has(key)) throw new FaultConfigError(`unknown field "${key}" (known: ${[...FIELDS].join(', ')})`);
  }
  const config = {};
  for (const key of ['every_nth_429', 'every_nth_503', 'drop_every_nth']) {
    if (value[key] !== undefined) config[key] = integerIn(value, key, 1, FAULT_LIMITS.maxNth);
  }
  if (value.retry_after_s !== undefined) {
    config.retry_after_s = integerIn(value, 'retry_after_s', 0, FAULT_LIMITS.maxRetryAfterS);
  }
  if (value.delay_ms !== undefined) config.delay_ms = integerIn(value, 'delay_ms', 0, FAULT_LIMITS.maxDelayMs);
  if (value.down_for_s !== undefined) {
    const s = value.down_for_s;
    if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0 || s > FAULT_LIMITS.maxDownS) {
      throw new FaultConfigError(`"down_for_s": expected a number of seconds in (0, ${FAULT_LIMITS.maxDownS}]`);
    }
    config.down_for_s = s;
    config.down_mode = value.down_mode ?? 'refuse';
    if (config.down_mode !== 'refuse' && config.down_mode !== 'reset') {
      throw new FaultConfigError('"down_mode": expected "refuse" or "reset"');
    }
  } else if (value.down_mode !== undefined) {
    throw new FaultConfigError('"down_mode" needs "down_for_s"');
  }
  if (value.fail_status !== undefined) config.fail_status = parseFailStatus(value.fail_status);
  return config;
}

// The identifier values carried by the resources of a request body: a resource's own
// identifier(s), or those of every entry.resource of a Bundle.
function identifierValuesOf(body) {
  const resources = [];
  if (body?.resourceType === 'Bundle' && Array.isArray(body.entry)) {
    for (const entry of body.entry) if (entry?.resource) resources.push(entry.resource);
  } else if (body && typeof body === 'object') {
    resources.push(body);
  }
  const values = [];
  for (const resource of resources) {
    const raw = resource?.identifier;
    const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
    for (const identifier of list) if (typeof identifier?.value === 'string') values.push(identifier.value);
  }
  return values;
}

/**
 * The active fault configuration and the ordinal of FHIR requests since it was set. `listener`
 * is {close(), reopen()}: closes / reopens the listening socket on the same port (down_mode
 * "refuse").
 */
export class Faults {
  #config = {};
  #ordinal = 0;
  #downUntil = 0;
  #downTimer;
  #listenerClosed = false;
  #listener;

  constructor(listener) {
    this.#listener = listener;
  }

  /** Replaces the configuration (already checked by parseFaultConfig); restarts the ordinal. */
  set(config) {
    this.clear();
    this.#config = config;
  }

  /**
   * Starts the down window of the current configuration, if it has one. Called once the answer to
   * POST /$fault has been sent (or once listening, for --fault), so that answer is not cut off.
   */
  startDown() {
    const seconds = this.#config.down_for_s;
    if (!seconds || this.#downTimer) return;
    const ms = Math.round(seconds * 1000);
    this.#downUntil = Date.now() + ms;
    if (this.#config.down_mode === 'refuse') {
      this.#listenerClosed = true;
      this.#listener.close();
    }
    // Not unref'd: with the listener closed, this timer is what keeps the process alive.
    this.#downTimer = setTimeout(() => this.#endDown(), ms);
  }

  #endDown() {
    clearTimeout(this.#downTimer);
    this.#downTimer = undefined;
    this.#downUntil = 0;
    if (this.#listenerClosed) {
      this.#listenerClosed = false;
      this.#listener.reopen();
    }
  }

  /** No faults any more; a down window in progress ends now. */
  clear() {
    this.#endDown();
    this.#config = {};
    this.#ordinal = 0;
  }

  /** The active configuration, as GET /$fault shows it. */
  view() {
    const view = structuredClone(this.#config);
    if (this.#downUntil > Date.now()) view.down_until = new Date(this.#downUntil).toISOString();
    view.fhir_requests_since_set = this.#ordinal;
    return view;
  }

  /**
   * What to do with the FHIR request arriving now: {ordinal, down, delayMs, throttle: {status,
   * retryAfterS}, drop}. A request both throttled and dropped is throttled (it is not processed).
   */
  decide() {
    const n = ++this.#ordinal;
    const c = this.#config;
    const decision = { ordinal: n };
    // Down: down_mode "reset", or a kept-alive connection that outlived the closed listener.
    if (this.#downUntil > Date.now()) {
      decision.down = true;
      return decision;
    }
    if (c.delay_ms) decision.delayMs = c.delay_ms;
    if (c.every_nth_429 && n % c.every_nth_429 === 0) {
      decision.throttle = { status: 429, retryAfterS: c.retry_after_s ?? 1 };
    } else if (c.every_nth_503 && n % c.every_nth_503 === 0) {
      decision.throttle = { status: 503, retryAfterS: c.retry_after_s };
    } else if (c.drop_every_nth && n % c.drop_every_nth === 0) {
      decision.drop = true;
    }
    return decision;
  }

  /**
   * The fail_status rule: the status to answer a POST/PUT whose resources carry an identifier
   * value containing the configured text (any POST/PUT with a body when no text is configured),
   * else undefined.
   */
  failStatusFor(method, body) {
    const rule = this.#config.fail_status;
    if (!rule || (method !== 'POST' && method !== 'PUT') || body === undefined) return undefined;
    const needle = rule.when_identifier_contains;
    if (needle === undefined) return rule.status;
    return identifierValuesOf(body).some((v) => v.includes(needle)) ? rule.status : undefined;
  }
}

/** Counts of FHIR requests (control endpoints excluded), for GET /$requests. */
export class RequestCounters {
  #total = 0;
  #byStatus = new Map();
  #byFault = new Map();
  #faulted = 0;

  /** A FHIR request arrived. */
  request() {
    this.#total++;
  }

  /** An answer with this status was sent. */
  answered(status) {
    const key = String(status);
    this.#byStatus.set(key, (this.#byStatus.get(key) ?? 0) + 1);
  }

  /** A fault was applied: "429", "503", "drop", "down", "fail_status" change the answer; "delay" does not. */
  fault(kind) {
    this.#byFault.set(kind, (this.#byFault.get(kind) ?? 0) + 1);
    if (kind !== 'delay') this.#faulted++;
  }

  reset() {
    this.#total = 0;
    this.#faulted = 0;
    this.#byStatus.clear();
    this.#byFault.clear();
  }

  view() {
    const sorted = (map) => Object.fromEntries([...map.entries()].sort(([a], [b]) => a.localeCompare(b)));
    return {
      total: this.#total,
      by_status: sorted(this.#byStatus),
      faulted: this.#faulted,
      by_fault: sorted(this.#byFault),
    };
  }
}
