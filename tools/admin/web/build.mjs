// Bundles src/ into the folder hf-admin serves: index.html, app.js, app.css
// (uPlot's styles included). No source maps, nothing fetched at run time.
//   node build.mjs NODE_MODULES SRC_DIR OUT_DIR    (CMake target admin-web)
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [nodeModules, src, out] = process.argv.slice(2);
if (!out) {
  console.error('usage: node build.mjs NODE_MODULES SRC_DIR OUT_DIR');
  process.exit(2);
}
const esbuild = createRequire(join(nodeModules, 'noop.js'))('esbuild');
mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: [join(src, 'main.js')],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome100', 'firefox100', 'safari15'],
  outfile: join(out, 'app.js'),
  nodePaths: [nodeModules],
  logLevel: 'warning',
  legalComments: 'none',
});
copyFileSync(join(src, 'index.html'), join(out, 'index.html'));
