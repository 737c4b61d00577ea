// Runs a wasm32-wasi command module on Node's V8 (node:wasi, preview 1):
//   node --single-threaded-gc bench/node-wasi.mjs FILE.wasm [ARGS...]
// The guest sees no files and an empty environment, like `whirl run` without
// --dir/--env; its exit code becomes this process's exit code.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';

const [file, ...args] = process.argv.slice(2);
if (!file) {
    console.error('usage: node-wasi.mjs FILE.wasm [ARGS...]');
    process.exit(2);
}
const wasi = new WASI({ version: 'preview1', args: [file, ...args], env: {}, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
