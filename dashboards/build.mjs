// Builds the dashboard into dist/: index.html, app.js, app.css (served by `numu serve` at
// `/` and `/ui/…`). Prints the bundle sizes.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync, statSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist', { recursive: true });
await build({
  entryPoints: ['src/main.tsx'], bundle: true, minify: true, format: 'esm', target: 'es2020',
  outfile: 'dist/app.js', jsx: 'automatic', jsxImportSource: 'preact', legalComments: 'none',
});
const css = readFileSync('node_modules/uplot/dist/uPlot.min.css', 'utf8') + readFileSync('src/app.css', 'utf8');
writeFileSync('dist/app.css', css);
writeFileSync('dist/index.html', `<!doctype html>
<html lang="en" dir="ltr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Numu</title><link rel="stylesheet" href="/ui/app.css"></head>
<body><div id="app"></div><script>(function(){var l=localStorage.getItem('numu.lang');if(l==='ar'){document.documentElement.lang='ar';document.documentElement.dir='rtl';}})()</script>
<script type="module" src="/ui/app.js"></script></body></html>
`);
for (const f of ['app.js', 'app.css', 'index.html']) {
  const bytes = readFileSync(`dist/${f}`);
  console.log(`dist/${f}\t${(statSync(`dist/${f}`).size / 1024).toFixed(1)} KiB\t(${(gzipSync(bytes).length / 1024).toFixed(1)} KiB gzip)`);
}
