// The portal's assets are generated from portal/src (lib/portal/portal-assets.generated.ts is not in
// git), so the specs that load lib build them first, as `npm run build` and `npm run typecheck` do.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = () => {
  execFileSync(process.execPath, [path.join(__dirname, 'build-portal.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
};
