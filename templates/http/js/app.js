// An HTTP handler (`wasi:http/incoming-handler`): componentize-js turns the `fetch` event
// listener into the component's handler, and `wcomp serve` runs it with a fresh instance for
// every request.
{{#imports}}

{{/imports}}
{{#config}}
import { get as getConfig } from 'wasi:config/store@{{config_version}}';
{{/config}}
{{#keyvalue}}
import { increment } from 'wasi:keyvalue/atomics@{{keyvalue_version}}';
import { open } from 'wasi:keyvalue/store@{{keyvalue_version}}';
{{/keyvalue}}

addEventListener('fetch', (event) => {
  event.respondWith(handle(event.request));
});

/**
 * @param {Request} request
 * @returns {Response}
 */
function handle(request) {
  const { pathname } = new URL(request.url);
  if (request.method === 'GET' && pathname === '/') {
{{^config}}
    return new Response('Hello from JavaScript!\n', {
{{/config}}
{{#config}}
    return new Response(greeting(), {
{{/config}}
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  }
{{#keyvalue}}
  if (request.method === 'GET' && pathname === '/visits') {
    return visits();
  }
{{/keyvalue}}
  return new Response('not found\n', { status: 404 });
}
{{#config}}

/**
 * The configuration value `greeting` (`wasi:config/store`), or the default greeting when the
 * host has none.
 * @returns {string}
 */
function greeting() {
  try {
    const value = getConfig('greeting');
    if (value !== undefined) {
      return `${value}\n`;
    }
  } catch {
    // It cannot be read: the default.
  }
  return 'Hello from JavaScript!\n';
}
{{/config}}
{{#keyvalue}}

/** The `wasi:keyvalue` bucket `/visits` counts in, by the name the host grants it under. */
const BUCKET = 'default';

/**
 * Counts the requests to `/visits` under the key `visits` of `BUCKET`. The increment is
 * atomic: requests served at once each get their own count.
 * @returns {Response}
 */
function visits() {
  try {
    const count = increment(open(BUCKET), 'visits', 1n);
    return new Response(`${count} visits\n`, {
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  } catch (err) {
    // Such as a bucket the host does not grant: `err.payload` is the `wasi:keyvalue` error.
    const reason = err.payload ? (err.payload.val ?? err.payload.tag) : err;
    return new Response(`cannot count visits: ${reason}\n`, { status: 503 });
  }
}
{{/keyvalue}}
