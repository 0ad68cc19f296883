// An HTTP handler (`wasi:http/incoming-handler`): componentize-js turns the `fetch` event
// listener into the component's handler, and `wcomp serve` runs it with a fresh instance for
// every request.

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
    return new Response('Hello from JavaScript!\n', {
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  }
  return new Response('not found\n', { status: 404 });
}
