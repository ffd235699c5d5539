#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI is written in TypeScript and runs from the compiled output in dist/.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const compiled = join(__dirname, '..', 'dist', 'src', 'cli', 'wpa.js');
if (!existsSync(compiled)) {
  process.stderr.write(`wpa: ${compiled} is missing; run \`npm run build\` in ${join(__dirname, '..')} first.\n`);
  process.exit(2);
}
// analyze and rules answer at once; audit verify answers once it has read the database.
Promise.resolve(require(compiled).main(process.argv.slice(2))).then((code) => {
  process.exitCode = code;
});
