// A wasi:cli command component (`whirl run`) that fetch()es its first
// argument and prints "status=N" and "body=TEXT", or "fetch failed: ..."
// (tests/serve/outbound.sh).
import { getArguments } from 'wasi:cli/environment@0.2.10';

export const run = {
  async run() {
    const url = getArguments()[1];
    try {
      const r = await fetch(url);
      console.log(`status=${r.status}`);
      console.log(`body=${await r.text()}`);
    } catch (e) {
      console.log(`fetch failed: ${e}`);
    }
  },
};
