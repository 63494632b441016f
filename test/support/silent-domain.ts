import net from 'node:net';
import { once } from 'node:events';

// A Lightning-address domain that accepts connections and never answers (unlike DEAD_LN_DOMAIN, which refuses
// them): every call to it costs its caller a whole timeout. It counts the connections and the request lines it
// got; recover() makes it answer from then on as `target` would (a plain TCP forward, still counted), silence()
// makes it silent again.
export class SilentDomain {
  connections = 0;
  readonly requestLines: string[] = [];
  private target: { host: string; port: number } | undefined;
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly server: net.Server) {}

  static async start(): Promise<SilentDomain> {
    const domain: SilentDomain = new SilentDomain(net.createServer((client) => domain.accept(client)));
    domain.server.listen(0, '127.0.0.1');
    await once(domain.server, 'listening');
    return domain;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  recover(targetUrl: string): void {
    const url = new URL(targetUrl);
    this.target = { host: url.hostname, port: Number(url.port) };
  }

  // Back to never answering, its open connections (kept alive while it answered) closed.
  silence(): void {
    this.target = undefined;
    for (const socket of this.sockets) socket.destroy();
  }

  private accept(client: net.Socket): void {
    this.connections++;
    this.track(client);
    client.once('data', (chunk: Buffer) => this.requestLines.push(chunk.toString('latin1').split('\r\n')[0]!));
    if (!this.target) return; // read, never answered
    const upstream = this.track(net.connect(this.target.port, this.target.host));
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  private track(socket: net.Socket): net.Socket {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    return socket;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
