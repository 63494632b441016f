// Operator commands: `npm run cli -- <command>`; `npm run cli -- --help` lists them (commands.ts defines them).
// Each command constructs only the services it uses, without booting the application: keys, apps and ledger
// commands load neither @nestjs/core nor Fastify nor BullMQ, and answer in well under a second.
// Exit codes: 0 done, 1 refused or failed, 2 usage error.
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '@splitstream/config';
import { AppError, ErrorCode } from '@splitstream/errors';
import { PrismaService } from '@splitstream/persistence';
import { COMMANDS, type CommandSpec, findCommand, usage } from './commands.js';
import { commandHelp, commandUsage, overview } from './help.js';

const HELP = new Set(['-h', '--help']);
const argv = process.argv.slice(2);

function exit(code: number, text: string, stream: NodeJS.WriteStream = process.stdout): never {
  stream.write(`${text}\n`);
  process.exit(code);
}

const refuse = (error: unknown, command?: CommandSpec): never => {
  if (error instanceof AppError && error.code === ErrorCode.InvalidRequest) {
    const details = (error.issues ?? []).filter((i) => i.message !== error.message).map((i) => `  ${i.path}: ${i.message}`);
    const how = command ? `${commandUsage(command)}\n(npm run cli -- ${command.name} --help says more)` : 'usage: npm run cli -- --help';
    exit(2, [`error: ${error.message}`, ...details, how].join('\n'), process.stderr);
  }
  // Prisma's messages open with the call that failed ("Invalid `prisma.x.y()` invocation:"): the cause is enough.
  return exit(1, `error: ${(error as Error).message.replace(/^\s*Invalid `[^`]*` invocation:\s*/, '')}`, process.stderr);
};

const unknownCommand = (name: string): never => refuse(usage(`unknown command: ${name} (commands: ${COMMANDS.map((c) => c.name).join(', ')})`, 'command'));

// `cli`, `cli --help`, `cli keys --help`: the overview; a typo of a group (`cli kyes --help`) is a usage error.
if (argv.length === 0 || HELP.has(argv[0]!)) exit(0, overview());
if (argv.length === 2 && HELP.has(argv[1]!)) {
  if (!COMMANDS.some((c) => [c.name, ...(c.aliases ?? [])].some((name) => name.split(' ')[0] === argv[0]))) unknownCommand(argv[0]!);
  exit(0, overview());
}
const command = findCommand(argv.slice(0, 2).join(' '));
if (!command) unknownCommand(argv.slice(0, 2).join(' '));
const parsed = (() => {
  try {
    return parseArgs({
      args: argv.slice(2),
      allowPositionals: true,
      options: {
        ...Object.fromEntries(Object.keys(command!.options).map((name) => [name, { type: 'string' as const }])),
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return refuse(usage((error as Error).message), command);
  }
})();
if (parsed.values.help) exit(0, commandHelp(command!));
const { positionals: args } = parsed;
if (args.length !== command!.args.length) {
  refuse(
    usage(`${command!.name} takes ${command!.args.join(' ') || 'no arguments'}${args.length ? `, not ${args.map((a) => JSON.stringify(a)).join(' ')}` : ''}`),
    command,
  );
}

const config = loadConfigOrExit({ pays: command!.pays });
const prisma = new PrismaService(config);
const values = parsed.values as Record<string, string | undefined>;
const code = await command!.run({ args, values, config, prisma }).catch((error: unknown) => refuse(error, command));
await prisma.$disconnect();
process.exit(code);
