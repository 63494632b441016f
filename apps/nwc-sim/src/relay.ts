import type { AddressInfo } from 'node:net';
import { type Filter, matchFilters } from 'nostr-tools/filter';
import { type Event, verifyEvent } from 'nostr-tools/pure';
import { WebSocket, WebSocketServer } from 'ws';

// A Nostr relay (NIP-01) for development and tests: EVENT (signature checked, answered with OK), REQ (stored
// events that match, then EOSE, then live ones), CLOSE, NOTICE. Replaceable kinds keep the latest event per
// author; ephemeral kinds (20000-29999, where NIP-47 requests and responses live) are only relayed, never stored,
// as on a real relay: a response sent while its client is away is lost.
const isEphemeral = (kind: number) => kind >= 20_000 && kind < 30_000;
const isReplaceable = (kind: number) => kind === 0 || kind === 3 || (kind >= 10_000 && kind < 20_000);

export class NostrRelay {
  private server?: WebSocketServer;
  private readonly stored: Event[] = [];
  private readonly subscriptions = new Map<WebSocket, Map<string, Filter[]>>();

  constructor(private readonly port = 0) {}

  get url(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `ws://127.0.0.1:${port}`;
  }

  // `port` overrides the constructor's (to come back on the same port after a stop).
  async start(host = '127.0.0.1', port = this.port): Promise<void> {
    const server = new WebSocketServer({ host, port, maxPayload: 512 * 1024 });
    this.server = server;
    server.on('connection', (socket) => {
      this.subscriptions.set(socket, new Map());
      socket.on('message', (data) => this.receive(socket, data.toString()));
      socket.on('close', () => this.subscriptions.delete(socket));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  }

  // Closes every connection at once, as a relay that goes down does.
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of server.clients) socket.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private send(socket: WebSocket, message: unknown[]): void {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  private receive(socket: WebSocket, text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return this.send(socket, ['NOTICE', 'invalid: not JSON']);
    }
    if (!Array.isArray(message)) return this.send(socket, ['NOTICE', 'invalid: not an array']);
    const [type, ...rest] = message as [string, ...unknown[]];
    switch (type) {
      case 'EVENT':
        return this.publish(socket, rest[0] as Event);
      case 'REQ': {
        const [id, ...filters] = rest as [string, ...Filter[]];
        this.subscriptions.get(socket)?.set(id, filters);
        for (const event of this.stored) if (matchFilters(filters, event)) this.send(socket, ['EVENT', id, event]);
        return this.send(socket, ['EOSE', id]);
      }
      case 'CLOSE':
        this.subscriptions.get(socket)?.delete(rest[0] as string);
        return;
      default:
        return this.send(socket, ['NOTICE', `invalid: unknown message type ${String(type)}`]);
    }
  }

  private publish(socket: WebSocket, event: Event): void {
    let valid = false;
    try {
      valid = verifyEvent(event);
    } catch {
      valid = false;
    }
    if (!valid) return this.send(socket, ['OK', event?.id ?? '', false, 'invalid: bad signature or id']);
    if (!isEphemeral(event.kind)) {
      if (isReplaceable(event.kind)) {
        const previous = this.stored.findIndex((e) => e.kind === event.kind && e.pubkey === event.pubkey);
        if (previous >= 0) this.stored.splice(previous, 1);
      }
      this.stored.push(event);
    }
    this.send(socket, ['OK', event.id, true, '']);
    for (const [subscriber, subs] of this.subscriptions) {
      for (const [id, filters] of subs) if (matchFilters(filters, event)) this.send(subscriber, ['EVENT', id, event]);
    }
  }
}
