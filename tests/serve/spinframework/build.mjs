// Bundles app.js as Spin's http-js template's build.mjs does: esbuild with
// the build tools' plugin, which leaves the WIT interfaces as imports.
//   node build.mjs OUT.js
import { build } from 'esbuild';
import { SpinEsbuildPlugin } from '@spinframework/build-tools/plugins/esbuild/index.js';

await build({
    entryPoints: ['./app.js'],
    outfile: process.argv[2],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    logLevel: 'warning',
    plugins: [await SpinEsbuildPlugin()],
});
