// A wasi:http handler that makes outbound requests with fetch(), for
// tests/serve/outbound.sh (the upstream is tests/serve/upstream.py). The
// target is the query's `u`; by the end of the path:
//   .../get     GET it: "status=N", its x-* headers and its body, as text
//   .../pipe    GET it and stream its body straight back (same status)
//   .../post    POST the request body to it (streamed), answer as .../get
//   .../many    ?n=N fetches of it at once, none read: "ok=A failed=B"
//   .../hello   no outbound request: "hello from outbound.js" (for self)
// A failed fetch is a 502 whose body names the error.
addEventListener('fetch', (event) => event.respondWith(handle(event.request)));

async function describe(r) {
  let text = `status=${r.status}\n`;
  for (const [k, v] of r.headers) {
    if (k.startsWith('x-') || k === 'location') text += `${k}=${v}\n`;
  }
  text += `body=${await r.text()}\n`;
  return new Response(text);
}

async function handle(req) {
  const url = new URL(req.url);
  const path = url.pathname;
  const target = url.searchParams.get('u');
  if (path.endsWith('/hello')) {
    return new Response(`hello from outbound.js at ${path}\n`, { headers: { 'x-self': 'yes' } });
  }
  try {
    if (path.endsWith('/pipe')) {
      const r = await fetch(target);
      return new Response(r.body, { status: r.status, headers: { 'x-up-status': String(r.status) } });
    }
    if (path.endsWith('/many')) {
      const n = Number(url.searchParams.get('n'));
      const all = await Promise.allSettled(Array.from({ length: n }, () => fetch(target)));
      const ok = all.filter((r) => r.status === 'fulfilled' && r.value.status === 200).length;
      return new Response(`ok=${ok} failed=${n - ok}\n`);
    }
    if (path.endsWith('/post')) {
      const r = await fetch(target, {
        method: 'POST',
        body: req.body,
        headers: { 'x-test': 'posted', 'content-type': 'application/octet-stream' },
        duplex: 'half',
      });
      return await describe(r);
    }
    const r = await fetch(target, { headers: { 'x-test': 'yes' } });
    return await describe(r);
  } catch (e) {
    return new Response(`fetch failed: ${e}\n`, { status: 502 });
  }
}
