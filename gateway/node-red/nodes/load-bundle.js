'use strict';
/**
 * The nodes' access to the platform code: lib/innbyggertorg.cjs, built from the TypeScript by
 * ../build.mjs. A missing bundle is a build step not run, said plainly instead of a bare
 * MODULE_NOT_FOUND from deep inside Node-RED's loader.
 */
const path = require('node:path');

const BUNDLE = path.join(__dirname, '..', 'lib', 'innbyggertorg.cjs');

function loadBundle() {
  try {
    return require(BUNDLE);
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('innbyggertorg.cjs')) {
      throw new Error(`E_CONFIG_INVALID: ${BUNDLE} is missing; run "npm run build:node-red" in the repository root`);
    }
    throw err;
  }
}

module.exports = { loadBundle };
