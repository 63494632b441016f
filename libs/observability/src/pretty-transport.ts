// The pino transport of LOG_FORMAT=pretty: pino-pretty, with messages whose control and format characters are
// escaped. A message can carry outside text (a Lightning-address server's reason, a wallet's error): raw, a line
// break would forge a log line and an escape sequence would drive the terminal. JSON lines escape both already.
// A module of its own because pino runs transports in a worker thread, and options holding functions cannot go there.
import pinoPretty from 'pino-pretty';

const CONTROL = /[\p{Cc}\p{Cf}]/gu;
export const escapeControl = (text: string): string => text.replace(CONTROL, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);

// `<context>: <message>`, both escaped.
export const prettyOptions = (options: pinoPretty.PrettyOptions): pinoPretty.PrettyOptions => ({
  ...options,
  messageFormat: (log, messageKey) => escapeControl(`${typeof log.context === 'string' ? `${log.context}: ` : ''}${String(log[messageKey] ?? '')}`),
});

export default (options: pinoPretty.PrettyOptions) => pinoPretty(prettyOptions(options));
