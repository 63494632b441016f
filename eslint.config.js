// Lint for what the compiler does not check: import cycles, the lib graph's boundaries, and obvious slips
// (unused code, debugger, duplicate imports). Not type-aware, so it stays fast. Formatting is Prettier's.
import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// What each lib may import from the others (`@splitstream/<name>`). Adding an edge is a design decision: make it
// here, and the config refuses to load if it closes a cycle. observability is a leaf (config only), so the wallet
// and the NWC simulator never pull Prisma or BullMQ through it.
const LIB_DEPENDENCIES = {
  config: [],
  errors: [],
  money: [],
  'lightning-sim': [],
  outbound: [],
  observability: ['config'],
  persistence: ['config'],
  queue: ['config', 'errors'],
  auth: ['config', 'errors', 'observability', 'persistence'],
  tenants: ['config', 'errors', 'money', 'persistence'],
  lnaddress: ['config', 'money', 'outbound'],
  wallet: ['config', 'money', 'observability'],
  ledger: ['money', 'observability', 'persistence', 'queue'],
  ingestion: ['config', 'errors', 'ledger', 'money', 'observability', 'persistence', 'queue', 'tenants'],
  health: ['auth', 'config', 'errors', 'observability', 'persistence', 'wallet'],
  payments: ['ledger', 'money', 'observability', 'persistence'],
  boosts: ['config', 'errors', 'feeds', 'ingestion', 'ledger', 'money', 'persistence', 'queue', 'tenants'],
  feeds: ['config', 'ledger', 'money', 'outbound', 'persistence', 'queue'],
  payouts: ['boosts', 'config', 'errors', 'feeds', 'ledger', 'lnaddress', 'money', 'observability', 'payments', 'persistence', 'queue', 'wallet'],
};
// Every lib on disk; one missing from the table may import no other lib until it is added there.
const LIBS = [...new Set([...Object.keys(LIB_DEPENDENCIES), ...readdirSync(new URL('./libs', import.meta.url))])];

function assertAcyclic(graph) {
  const state = new Map();
  const visit = (lib, path) => {
    if (state.get(lib) === 'done') return;
    if (state.get(lib) === 'visiting') throw new Error(`eslint.config.js: LIB_DEPENDENCIES has a cycle: ${[...path, lib].join(' -> ')}`);
    state.set(lib, 'visiting');
    for (const dep of graph[lib] ?? []) visit(dep, [...path, lib]);
    state.set(lib, 'done');
  };
  for (const lib of Object.keys(graph)) visit(lib, []);
}
assertAcyclic(LIB_DEPENDENCIES);

// Second entry points (`@splitstream/<lib>/<entry>`, each in tsconfig paths): a slice of a lib that loads less than
// its index, for the CLI, which must answer without loading the api's stack. Apps may import them; libs may not.
const LIB_ENTRIES = ['auth/keys', 'ledger/queries'];

// Tests may reach test support and other libs' testing/ builders by relative path.
const TEST_FILES = ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'];

const CROSS_BOUNDARY_PATTERNS = [
  {
    regex: '^(\\.\\./)+([\\w-]+/src|libs|apps|test|bench|scripts)(/|$)',
    message: 'Another lib, an app or test code by relative path: import a lib as @splitstream/<name>; libs never import apps or tests.',
  },
  { regex: '^@splitstream/[\\w-]+/', message: "A lib's internals: import what its index.ts exports, from @splitstream/<name>." },
];

const libBoundaries = LIBS.map((lib) => ({
  files: [`libs/${lib}/src/**/*.ts`],
  ignores: [...TEST_FILES, `libs/${lib}/src/testing/**`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: LIBS.filter((other) => !(LIB_DEPENDENCIES[lib] ?? []).includes(other)).map((other) => ({
          name: `@splitstream/${other}`,
          message:
            other === lib
              ? 'A lib imports its own files relatively, not through its own index.'
              : LIB_DEPENDENCIES[lib]
                ? `${lib} may not depend on ${other} (LIB_DEPENDENCIES in eslint.config.js).`
                : `${lib} is not in LIB_DEPENDENCIES (eslint.config.js): add it with the libs it may import.`,
        })),
        patterns: CROSS_BOUNDARY_PATTERNS,
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'libs/persistence/src/generated/**', 'coverage/**'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: {
      // Without these the rule's dependency parser skips .ts files, and no-cycle sees no graph at all.
      'import-x/extensions': ['.ts', '.js', '.mjs', '.cjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json', alwaysTryTypes: true })],
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Every cycle, between libs (through their index.ts) or between files; type-only imports are the one
      // exception the rule makes, and LIB_DEPENDENCIES catches those between libs.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'import-x/no-duplicates': 'error',
      'import-x/no-unresolved': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // Rules of the recommended sets that would rewrite working code rather than find bugs.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
      'no-useless-assignment': 'off',
      'preserve-caught-error': 'off',
      // NUL in a pattern is how input guards refuse it.
      'no-control-regex': 'off',
      'no-regex-spaces': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['apps/api/src/dashboard/public/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['apps/*/src/**/*.ts'],
    ignores: TEST_FILES,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^@splitstream/(?!(${LIB_ENTRIES.join('|')})$)[\\w-]+/`,
              message: "A lib's internals: import what its index.ts (or an entry of LIB_ENTRIES in eslint.config.js) exports.",
            },
            { regex: '^(\\.\\./)+libs/', message: 'Import a lib as @splitstream/<name>.' },
          ],
        },
      ],
    },
  },
  ...libBoundaries,
);
