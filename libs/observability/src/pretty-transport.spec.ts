import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { parseConfig } from '@splitstream/config';
import { PRETTY_TRANSPORT, pinoOptions } from './logging.module.js';
import { prettyOptions } from './pretty-transport.js';

// A Lightning-address server's LUD-06 reason (any domain a feed names) reaches the worker's log message: in pretty
// format it must neither forge a log line nor send terminal escapes.
const FORGED = 'lightning address not resolved: the server says: x\n[14:00:00.000] INFO: payout run finished\u001b[2K\u202E';
const transport = pinoOptions(parseConfig({ LOG_FORMAT: 'pretty' })).transport as { target: string; options: Record<string, unknown> };

describe('pretty log lines (LOG_FORMAT=pretty)', () => {
  it('keep a record on one line, its control and format characters escaped, after its context', () => {
    const pretty = prettyFactory(prettyOptions({ ...transport.options, colorize: false }));
    const line = pretty({ level: 40, time: 0, context: 'AddressResolution', msg: FORGED });
    expect(line.trimEnd()).not.toMatch(/[\n\u001b\u202E]/);
    expect(line).toContain(
      'WARN: AddressResolution: lightning address not resolved: the server says: x\\u000a[14:00:00.000] INFO: payout run finished\\u001b[2K\\u202e',
    );
  });

  // pino loads the transport by path in a worker thread: the built module (npm test builds before unit tests).
  it('are written so by the transport pino loads from the build', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pretty-'));
    try {
      const destination = join(dir, 'log.txt');
      const target = PRETTY_TRANSPORT.replace(`${join('/', 'libs')}/`, `${join('/', 'dist', 'libs')}/`);
      const stream = pino.transport({ target, options: { ...transport.options, colorize: false, destination } });
      pino(stream).warn({ context: 'AddressResolution' }, FORGED);
      await new Promise((resolve) => (stream.on('close', resolve), stream.end()));
      const written = readFileSync(destination, 'utf8');
      expect(written.split('\n')).toEqual([expect.stringContaining('AddressResolution: lightning address not resolved: the server says: x\\u000a[14:00'), '']);
      expect(written).not.toMatch(/[\u001b\u202E]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
