// The benchmark's hello: the smallest wasi:http handler componentize-js
// builds (StarlingMonkey's fetch event). StarlingMonkey answers one request
// per instance, so `jco serve` needs --isolate-requests instance for it,
// the mode that matches whirl serve's fresh instance per request.
addEventListener('fetch', (event) =>
  event.respondWith(new Response('Hello, world!\n', { headers: { 'content-type': 'text/plain' } })));
