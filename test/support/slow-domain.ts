import http from 'node:http';
import { once } from 'node:events';

// A Lightning-address domain that answers every request, but late: 404 after `delayMs` (under the caller's
// timeout, so it never counts as unreachable). It counts the requests and the most it had under way at once.
export class SlowDomain {
  requests = 0;
  mostAtOnce = 0;
  private underWay = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: http.Server,
    private readonly delayMs: number,
  ) {}

  static async start(delayMs: number): Promise<SlowDomain> {
    const domain: SlowDomain = new SlowDomain(
      http.createServer((req, res) => domain.answer(res)),
      delayMs,
    );
    domain.server.listen(0, '127.0.0.1');
    await once(domain.server, 'listening');
    return domain;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  private answer(res: http.ServerResponse): void {
    this.requests++;
    this.underWay++;
    this.mostAtOnce = Math.max(this.mostAtOnce, this.underWay);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.underWay--;
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":"ERROR","reason":"no such user"}');
    }, this.delayMs);
    this.timers.add(timer);
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
