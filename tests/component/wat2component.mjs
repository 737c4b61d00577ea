// Converts component text files to binaries with jco's parser, in one Node
// process (a `jco parse` per file would start Node dozens of times).
//
//   node wat2component.mjs OUT_DIR FILE.wat...
//
// Each FILE.wat becomes OUT_DIR/FILE.wasm. Exits non-zero, naming the file,
// if one does not parse.
import fs from 'node:fs';
import path from 'node:path';

let parse;
try {
  ({ parse } = await import('@bytecodealliance/jco'));
} catch (e) {
  console.error('wat2component: cannot load @bytecodealliance/jco ' +
                '(run `npm install` in tests/component): ' + e.message);
  process.exit(2);
}

const [outDir, ...files] = process.argv.slice(2);
if (!outDir || files.length === 0) {
  console.error('usage: node wat2component.mjs OUT_DIR FILE.wat...');
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });
let failed = 0;
for (const file of files) {
  try {
    const bytes = await parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(path.join(outDir, path.basename(file, '.wat') + '.wasm'), bytes);
  } catch (e) {
    console.error(`wat2component: ${file}: ${e.message ?? e}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
