/**
 * Lets a Node process the tests start load TypeScript from src/ (jest compiles only its own modules): the
 * process spawner a worker forks inside a suite runs src/process/spawner-child.ts. Compiled by @swc/core, as
 * jest compiles the suites. jest's global setup puts this file in NODE_OPTIONS (`--require`).
 */
const fs = require('node:fs');

require.extensions['.ts'] = (module, filename) => {
  const { transformSync } = require('@swc/core');
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
