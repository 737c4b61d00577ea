// Renames the WASI versions a component imports and exports, with jco's
// printer and parser, in one Node process: a component built for one
// version of WASI 0.3 becomes one of another with the same code, as a
// toolchain that targets a release candidate makes it (tests/wasi3/suite-rc).
//
//   node reversion.mjs FROM TO OUT_DIR FILE.wasm...
//
// Every top-level name `wasi:PKG/IFACE@FROM` becomes `wasi:PKG/IFACE@TO`
// (core-level names such as `[async-lift]wasi:cli/run@0.3.0#run` are the
// component's own and stay). Each FILE.wasm becomes OUT_DIR/FILE.wasm; one
// already newer than its source and this script is kept. Exits non-zero, naming the file, if
// one does not convert or names no interface at FROM.
import fs from 'node:fs';
import path from 'node:path';

let print, parse;
try {
  ({ print, parse } = await import('@bytecodealliance/jco'));
} catch (e) {
  console.error('reversion: cannot load @bytecodealliance/jco ' +
                '(run `npm install` in tests/component): ' + e.message);
  process.exit(2);
}

const [from, to, outDir, ...files] = process.argv.slice(2);
if (!from || !to || !outDir || files.length === 0) {
  console.error('usage: node reversion.mjs FROM TO OUT_DIR FILE.wasm...');
  process.exit(2);
}
const escaped = from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const name = new RegExp(`"(wasi:[a-z0-9-]+/[a-z0-9-]+)@${escaped}"`, 'g');
const self = new URL(import.meta.url).pathname;
fs.mkdirSync(outDir, { recursive: true });
let failed = 0;
for (const file of files) {
  const out = path.join(outDir, path.basename(file));
  try {
    const since = Math.max(fs.statSync(file).mtimeMs, fs.statSync(self).mtimeMs);
    if (fs.existsSync(out) && fs.statSync(out).mtimeMs >= since)
      continue;
    const text = await print(fs.readFileSync(file));
    let renamed = 0;
    const changed = text.replace(name, (_, iface) => {
      renamed++;
      return `"${iface}@${to}"`;
    });
    if (renamed === 0)
      throw new Error(`no wasi: interface at @${from}`);
    const tmp = out + '.tmp';
    fs.writeFileSync(tmp, await parse(changed));
    fs.renameSync(tmp, out);
  } catch (e) {
    console.error(`reversion: ${file}: ${e.message ?? e}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
