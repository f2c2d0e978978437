// Each build folder declares its module format, so Node loads dist/esm as ESM and dist/cjs as CommonJS
// whatever the root package.json says.
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

writeFileSync(join(__dirname, '..', 'dist', 'cjs', 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');
writeFileSync(join(__dirname, '..', 'dist', 'esm', 'package.json'), JSON.stringify({ type: 'module' }) + '\n');
