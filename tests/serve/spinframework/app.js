// serve/spinframework: a Spin app as Spin's http-js template writes one with
// the @spinframework packages: itty-router's AutoRouter and the fetch event
// (provided by @spinframework/wasi-http-proxy over wasi:http 0.2).
import { AutoRouter } from 'itty-router';

const router = AutoRouter();
router
    .get('/', () => new Response('Hello, Spin!'))
    .get('/hello/:name', ({ name }) => `Hello, ${name}!`)
    .post('/echo', async (request) => {
        const body = new Uint8Array(await request.arrayBuffer());
        return new Response(body, { headers: { 'x-echo-length': String(body.length) } });
    })
    // Spin's request headers, as the server adds them.
    .get('/info/*', (request) => new Response(
        `path-info=${request.headers.get('spin-path-info')}\n` +
        `route=${request.headers.get('spin-component-route')}\n`));

addEventListener('fetch', (event) => {
    event.respondWith(router.fetch(event.request));
});
