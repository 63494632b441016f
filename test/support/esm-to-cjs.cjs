// jest's CommonJS loader cannot require ESM-only packages on Node 20 (e.g. content-disposition, which
// @fastify/static requires). This transform compiles such a package's files to CommonJS for the tests only.
const ts = require('typescript');

module.exports = {
  process(source, filename) {
    const { outputText } = ts.transpileModule(source, {
      fileName: filename,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, allowJs: true },
    });
    return { code: outputText };
  },
};
