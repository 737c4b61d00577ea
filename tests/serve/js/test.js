// A wasi:http handler for the end-to-end tests of `whirl serve`, built with
// componentize-js (StarlingMonkey's fetch event). By the end of the path:
//   .../echo     the request body back, x-test-* request headers as x-echo-*
//   .../info     method, path, spin-* headers, as text lines
//   .../big      ?N KiB of 'x', streamed in 1 KiB chunks
//   .../status   418 with a header
//   .../fetch    an outbound request (not allowed: denied): 502 with the error
//   .../throw    an uncaught exception
//   .../loop     never answers (the deadline must end it)
//   anything else: "hello from test.js at PATH"
addEventListener('fetch', (event) => event.respondWith(handle(event.request)));

async function handle(req) {
  const url = new URL(req.url);
  const path = url.pathname;
  if (path.endsWith('/echo')) {
    const body = await req.arrayBuffer();
    const headers = new Headers({ 'content-type': 'application/octet-stream' });
    for (const [k, v] of req.headers) {
      if (k.startsWith('x-test-')) headers.set('x-echo-' + k.slice(7), v);
    }
    headers.set('x-body-length', String(body.byteLength));
    return new Response(body, { headers });
  }
  if (path.endsWith('/info')) {
    let text = `method=${req.method}\npath=${path}\nquery=${url.search}\n`;
    for (const [k, v] of req.headers) {
      if (k.startsWith('spin-')) text += `${k}=${v}\n`;
    }
    return new Response(text);
  }
  if (path.endsWith('/big')) {
    const kib = Number(url.search.slice(1)) || 1;
    let sent = 0;
    const stream = new ReadableStream({
      pull(controller) {
        // A fresh chunk each time: an enqueued buffer is handed over.
        if (sent++ < kib) controller.enqueue(new Uint8Array(1024).fill(120));
        else controller.close();
      },
    });
    return new Response(stream, { headers: { 'content-type': 'text/plain' } });
  }
  if (path.endsWith('/status')) {
    return new Response('teapot\n', { status: 418, headers: { 'x-custom': 'yes' } });
  }
  if (path.endsWith('/fetch')) {
    try {
      await fetch('http://127.0.0.1:9/');
      return new Response('outbound request went through\n');
    } catch (e) {
      return new Response(`outbound request refused: ${e}\n`, { status: 502 });
    }
  }
  if (path.endsWith('/throw')) {
    throw new Error('boom from test.js');
  }
  if (path.endsWith('/loop')) {
    console.error('started loop'); // the test waits for this line in the log
    for (;;) {}
  }
  return new Response(`hello from test.js at ${path}\n`);
}
