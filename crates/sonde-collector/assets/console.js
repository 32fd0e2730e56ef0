// Sonde console snippet: anonymous usage events from a web console.
//
// Served by the collector at /sdk/console.js (with CORS, so a console on any
// origin can import it). Dependency-free ES module:
//
//   import * as sonde from "https://collector.example/sdk/console.js";
//   sonde.init({
//     endpoint: "https://collector.example", // the collector's base URL
//     product: "hasura",
//     consoleMode: "server",                  // or "cli"
//     serverId: "79485a57-…", serverVersion: "v2.36.0", cliId: null,
//     telemetryEnabled: serverSaysTelemetryIsOn, // false: nothing is ever sent
//   });
//   sonde.track("ModifyTable/RESET", "/data/schema/SCHEMA_NAME/tables/TABLE_NAME/modify");
//
// What is sent: the action name, the route TEMPLATE the page passes (never
// location.pathname — the snippet never reads the address bar), console
// mode, server/CLI ids and versions, a random event id and the time. Events
// are batched and sent with navigator.sendBeacon when the batch is full, when
// the page is hidden or left (visibilitychange/pagehide), or on flush().
// Beacons carry a text/plain body: a cross-origin beacon with a JSON content
// type is refused by browsers, and the collector reads text/plain bodies on
// /api/v1/events as JSON.

const MAX_BATCH = 50;
const MAX_QUEUE = 500;

let config = null;
let queue = [];
let listening = false;

function randomId() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") {
    return crypto.randomUUID();
  }
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function onHide() {
  if (document.visibilityState === "hidden") flush();
}

/**
 * Starts (or restarts) the snippet. With `telemetryEnabled` false — the
 * server's or CLI's telemetry setting — every later call is a no-op.
 */
export function init(options) {
  const o = options || {};
  queue = [];
  if (!o.telemetryEnabled || !o.endpoint || !o.product) {
    config = null;
    return false;
  }
  config = {
    url: String(o.endpoint).replace(/\/+$/, "") + "/api/v1/events",
    product: String(o.product),
    test: !!o.test,
    common: {
      console_mode: o.consoleMode || undefined,
      server_uuid: o.serverId || undefined,
      server_version: o.serverVersion || undefined,
      cli_uuid: o.cliId || undefined,
      version: o.version || undefined,
    },
    batchSize: Math.min(Math.max(1, o.batchSize || 20), MAX_BATCH),
  };
  if (!listening && typeof addEventListener === "function") {
    addEventListener("pagehide", flush);
    addEventListener("visibilitychange", onHide);
    listening = true;
  }
  return true;
}

/** Whether events are being recorded. */
export function enabled() {
  return config !== null;
}

/**
 * Records one action on the page whose route template is `routeTemplate`
 * (e.g. "/data/schema/SCHEMA_NAME/tables/TABLE_NAME/modify"). The collector
 * stores only registered templates; anything else is dropped there.
 */
export function track(actionName, routeTemplate) {
  if (!config) return;
  const event = Object.assign(
    {
      id: randomId(),
      kind: "console",
      occurred_at: Date.now(),
      event_type: String(actionName),
      url: routeTemplate == null ? undefined : String(routeTemplate),
    },
    config.common,
  );
  if (config.test) event.test = true;
  if (queue.length < MAX_QUEUE) queue.push(event);
  if (queue.length >= config.batchSize) flush();
}

/** Sends what is queued now. Returns whether the browser accepted it. */
export function flush() {
  if (!config || queue.length === 0) return true;
  const events = queue.splice(0, MAX_BATCH);
  const body = JSON.stringify({ product: config.product, events });
  let sent = false;
  if (typeof navigator !== "undefined" && typeof navigator.sendBeacon === "function") {
    sent = navigator.sendBeacon(config.url, new Blob([body], { type: "text/plain;charset=UTF-8" }));
  }
  if (!sent && typeof fetch === "function") {
    fetch(config.url, {
      method: "POST",
      mode: "no-cors",
      keepalive: true,
      headers: { "Content-Type": "text/plain;charset=UTF-8" },
      body,
    }).catch(() => {});
    sent = true;
  }
  if (queue.length > 0) return flush() && sent;
  return sent;
}
