// Does DIR/node_modules hold what DIR/package-lock.json asks for?
//
//   node .ci/npm-check.mjs DIR
//
// Exits 0 if every package of the lock file is installed at its locked
// version (optional packages npm may leave out excepted); otherwise
// prints why not ("node_modules is missing", "jco is 1.34.0, the lock
// file has 1.35.0", ...) and exits 1. Used by .ci/setup.sh to install
// only when needed.
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const stale = (why) => { console.log(why); process.exit(1); };

const lock = JSON.parse(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8'));
if (!fs.existsSync(path.join(dir, 'node_modules')))
  stale('node_modules is missing');

for (const [key, entry] of Object.entries(lock.packages ?? {})) {
  if (!key.startsWith('node_modules/') || entry.link)
    continue;
  const manifest = path.join(dir, key, 'package.json');
  let installed;
  try {
    installed = JSON.parse(fs.readFileSync(manifest, 'utf8')).version;
  } catch {
    // npm leaves out optional packages for other platforms, and the
    // dependencies of those it left out.
    if (entry.optional)
      continue;
    stale(`${key} is not installed`);
  }
  if (installed !== entry.version)
    stale(`${key} is ${installed}, the lock file has ${entry.version}`);
}
