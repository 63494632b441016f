import { COMMANDS, type CommandSpec } from './commands.js';

const RUN = 'npm run cli --';
export const EXIT_CODES =
  'exit codes: 0 done; 1 refused or failed (an unknown app or key, a conflict, the ledger invariant broken, the database unreachable); 2 usage error (an unknown command or option, a missing or malformed argument)';

const commandLine = (c: CommandSpec) =>
  [RUN, c.name, ...c.args, ...Object.entries(c.options).map(([name, o]) => (o.optional ? `[--${name} ${o.value}]` : `--${name} ${o.value}`))].join(' ');

const indent = (rows: [string, string][]) => {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`).join('\n');
};

export const commandUsage = (c: CommandSpec) => `usage: ${commandLine(c)}`;

// `npm run cli -- --help`: every command in a line, how to get more, the exit codes.
export const overview = () =>
  [
    `usage: ${RUN} <command> [arguments] [options]`,
    `       ${RUN} <command> --help   (what one command does, its options, an example)`,
    '',
    'Operator commands for splitstream. They work on the database (DATABASE_URL); only payments reconcile also talks to the wallet.',
    '',
    'commands:',
    indent(COMMANDS.map((c) => [[c.name, ...c.args].join(' '), c.summary])),
    '',
    'examples:',
    ...COMMANDS.filter((c) => ['keys create', 'apps caps', 'ledger check'].includes(c.name)).map((c) => `  ${c.examples[0]}`),
    '',
    EXIT_CODES,
  ].join('\n');

// `npm run cli -- <command> --help`.
export const commandHelp = (c: CommandSpec) =>
  [
    commandUsage(c),
    '',
    c.description,
    ...(c.aliases ? ['', `alias: ${c.aliases.join(', ')}`] : []),
    '',
    'options:',
    indent([...Object.entries(c.options).map(([name, o]): [string, string] => [`--${name} ${o.value}`, o.description]), ['-h, --help', 'this help']]),
    '',
    c.examples.length > 1 ? 'examples:' : 'example:',
    ...c.examples.map((e) => `  ${e}`),
    '',
    EXIT_CODES,
  ].join('\n');
