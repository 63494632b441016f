import { Writable } from 'node:stream';
import { pino } from 'pino';
import { parseConfig } from '@splitstream/config';
import { pinoOptions, prettyLogs } from './logging.module.js';

const logged = (level: string) => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  const logger = pino(pinoOptions(parseConfig({ LOG_FORMAT: 'json', LOG_LEVEL: level })), sink);
  return { logger, lines };
};

describe('log lines', () => {
  it('are pretty on a terminal and JSON otherwise (LOG_FORMAT=auto), as LOG_FORMAT says when it is set', () => {
    const config = (LOG_FORMAT: string) => parseConfig({ LOG_FORMAT });
    expect(prettyLogs(config('auto'), { isTTY: true })).toBe(true);
    expect(prettyLogs(config('auto'), { isTTY: undefined })).toBe(false);
    expect(prettyLogs(config('json'), { isTTY: true })).toBe(false);
    expect(prettyLogs(config('pretty'), { isTTY: undefined })).toBe(true);
    expect(pinoOptions(config('pretty')).transport).toMatchObject({ target: expect.stringMatching(/pretty-transport\.js$/) });
    expect(pinoOptions(config('json')).transport).toBeUndefined();
  });

  it("leave Nest's per-module and per-route boot lines to debug", () => {
    const info = logged('info');
    info.logger.info({ context: 'RouterExplorer' }, 'Mapped {/v1/events, POST} route');
    info.logger.info({ context: 'InstanceLoader' }, 'ConfigModule dependencies initialized');
    info.logger.info({ context: 'NestApplication' }, 'Nest application successfully started');
    info.logger.warn({ context: 'RouterExplorer' }, 'a warning still shows');
    expect(info.lines.map((l) => l.msg)).toEqual(['Nest application successfully started', 'a warning still shows']);
    const debug = logged('debug');
    debug.logger.info({ context: 'RoutesResolver' }, 'EventsController {/v1/events}');
    expect(debug.lines).toEqual([expect.objectContaining({ level: 20, context: 'RoutesResolver', msg: 'EventsController {/v1/events}' })]);
  });
});
