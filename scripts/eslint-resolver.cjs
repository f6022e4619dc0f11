// An import resolver for eslint-plugin-boundaries (eslint-module-utils interface v2): the project's
// ESM TypeScript imports name `./x.js` for `./x.ts`, which the node resolver cannot find, and
// eslint-import-resolver-typescript pulls a native binary this machine's registry lacks. Local imports
// resolve to the file, packages to their package.json (enough for boundaries to see "external"),
// Node's own modules to core.
const fs = require('node:fs');
const path = require('node:path');
const { createRequire, isBuiltin } = require('node:module');

exports.interfaceVersion = 2;

exports.resolve = (source, file) => {
  if (isBuiltin(source)) return { found: true, path: null };
  if (!source.startsWith('.') && !path.isAbsolute(source)) {
    const name = source.startsWith('@') ? source.split('/').slice(0, 2).join('/') : source.split('/')[0];
    try {
      return { found: true, path: createRequire(file).resolve(`${name}/package.json`) };
    } catch {
      const manifest = path.join(process.cwd(), 'node_modules', name, 'package.json');
      return fs.existsSync(manifest) ? { found: true, path: manifest } : { found: false };
    }
  }
  const target = path.resolve(path.dirname(file), source);
  for (const candidate of [target, target.replace(/\.js$/, '.ts'), `${target}.ts`, path.join(target, 'index.ts')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return { found: true, path: candidate };
  }
  return { found: false };
};
