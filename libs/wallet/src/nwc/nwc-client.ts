import { Relay, useWebSocketImplementation } from 'nostr-tools/relay';
import { type Event, finalizeEvent } from 'nostr-tools/pure';
import { WebSocket } from 'ws';
import { type Encryption, Nip47Cipher, type NwcConnection, NWC_INFO_KIND, NWC_REQUEST_KIND, NWC_RESPONSE_KIND } from './nip47.js';
import { settleable } from '../settleable.js';

// Node 20 has no global WebSocket; nostr-tools takes the implementation it is given.
useWebSocketImplementation(WebSocket);

export interface WalletInfo {
  methods: string[];
  encryption: Encryption;
}

export interface Nip47Reply {
  d?: string;
  result_type: string;
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
}

// The request went nowhere: no relay took it. Safe to send again.
export class NotSentError extends Error {
  override name = 'NotSentError';
}

const now = () => Math.floor(Date.now() / 1000);
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;
const INFO_TIMEOUT_MS = 5_000;

// One connection per relay, kept open: reconnects with exponential backoff and re-subscribes to the wallet's
// responses addressed to us.
class RelayLink {
  relay?: Relay;
  private closed = false;
  private delay = RECONNECT_MIN_MS;

  constructor(
    readonly url: string,
    private readonly onConnected: (relay: Relay) => void,
  ) {}

  start(): void {
    void this.connect();
  }

  close(): void {
    this.closed = true;
    this.relay?.close();
  }

  get connected(): boolean {
    return this.relay?.connected ?? false;
  }

  private async connect(): Promise<void> {
    while (!this.closed) {
      try {
        const relay = await Relay.connect(this.url);
        if (this.closed) return relay.close();
        this.relay = relay;
        this.delay = RECONNECT_MIN_MS;
        relay.onclose = () => {
          this.relay = undefined;
          if (!this.closed) setTimeout(() => void this.connect(), this.delay).unref();
        };
        this.onConnected(relay);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, this.delay).unref());
        this.delay = Math.min(RECONNECT_MAX_MS, this.delay * 2);
      }
    }
  }
}

// A NIP-47 client on nostr-tools: requests are kind 23194 events p-tagged to the wallet, encrypted (NIP-44 v2
// when the wallet's info event advertises it, NIP-04 otherwise), with an `expiration` tag so a request delivered
// late is not executed; responses are matched by their `e` tag (and `d` tag for multi requests). A request with
// no answer before the timeout has an unknown outcome: that is for the caller to settle, never to retry blindly.
export class NwcClient {
  private readonly links: RelayLink[];
  private readonly waiting = new Map<string, (reply: Nip47Reply) => void>();
  private readonly ciphers = new Map<Encryption, Nip47Cipher>();
  // With several relays the same response arrives more than once: count it once.
  private readonly seen = new Set<string>();
  private info?: WalletInfo;

  constructor(
    private readonly connection: NwcConnection,
    private readonly timeoutMs: number,
  ) {
    this.links = connection.relays.map((url) => new RelayLink(url, (relay) => this.listen(relay)));
  }

  start(): void {
    for (const link of this.links) link.start();
  }

  close(): void {
    for (const link of this.links) link.close();
  }

  private cipher(encryption: Encryption): Nip47Cipher {
    let cipher = this.ciphers.get(encryption);
    if (!cipher) {
      cipher = new Nip47Cipher(this.connection.secret, this.connection.walletPubkey, encryption);
      this.ciphers.set(encryption, cipher);
    }
    return cipher;
  }

  private listen(relay: Relay): void {
    const { walletPubkey, clientPubkey } = this.connection;
    relay.subscribe([{ kinds: [NWC_RESPONSE_KIND], authors: [walletPubkey], '#p': [clientPubkey], since: now() - 10 }], {
      onevent: (event) => this.receive(event),
    });
  }

  private receive(event: Event): void {
    const requestId = event.tags.find((t) => t[0] === 'e')?.[1];
    const resolve = requestId && this.waiting.get(requestId);
    if (!resolve || this.seen.has(event.id)) return;
    if (this.seen.size > 10_000) this.seen.clear();
    this.seen.add(event.id);
    try {
      const reply = JSON.parse(this.cipher('nip44_v2').decrypt(event.content)) as Nip47Reply;
      resolve({ ...reply, d: event.tags.find((t) => t[0] === 'd')?.[1] });
    } catch {
      // Not decryptable or not JSON: not an answer we can use; the request times out as unknown.
    }
  }

  private async connectedRelays(waitMs: number): Promise<Relay[]> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const relays = this.links.filter((l) => l.connected).map((l) => l.relay!);
      if (relays.length > 0 || Date.now() >= deadline) return relays;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  // The wallet's methods and encryption, from its info event (kind 13194), read once.
  async walletInfo(): Promise<WalletInfo> {
    if (this.info) return this.info;
    const relays = await this.connectedRelays(INFO_TIMEOUT_MS);
    if (relays.length === 0) throw new NotSentError('no relay of the connection can be reached');
    const event = await new Promise<Event | undefined>((resolve) => {
      let latest: Event | undefined;
      const timer = setTimeout(() => resolve(latest), INFO_TIMEOUT_MS);
      const sub = relays[0]!.subscribe([{ kinds: [NWC_INFO_KIND], authors: [this.connection.walletPubkey], limit: 1 }], {
        onevent: (e) => {
          if (!latest || e.created_at > latest.created_at) latest = e;
        },
        oneose: () => {
          clearTimeout(timer);
          sub.close();
          resolve(latest);
        },
      });
    });
    if (!event) throw new Error("the wallet has published no info event (kind 13194) on the connection's relays");
    const encryptions = (event.tags.find((t) => t[0] === 'encryption')?.[1] ?? '').split(/\s+/);
    this.info = { methods: event.content.split(/\s+/).filter(Boolean), encryption: encryptions.includes('nip44_v2') ? 'nip44_v2' : 'nip04' };
    return this.info;
  }

  // Sends one request and collects up to `replies` answers until the timeout (one, or one per item of a multi
  // request). Throws NotSentError when no relay took the request.
  async request(method: string, params: Record<string, unknown>, replies = 1, signal?: AbortSignal): Promise<Nip47Reply[]> {
    const { encryption } = await this.walletInfo();
    const expiration = now() + Math.ceil(this.timeoutMs / 1000);
    const tags = [
      ['p', this.connection.walletPubkey],
      ['expiration', String(expiration)],
    ];
    if (encryption === 'nip44_v2') tags.push(['encryption', 'nip44_v2']);
    const event = finalizeEvent(
      { kind: NWC_REQUEST_KIND, created_at: now(), tags, content: this.cipher(encryption).encrypt(JSON.stringify({ method, params })) },
      this.connection.secret,
    );
    const answers: Nip47Reply[] = [];
    const { done, settle } = settleable(this.timeoutMs, signal);
    this.waiting.set(event.id, (reply) => {
      answers.push(reply);
      if (answers.length >= replies) settle();
    });
    try {
      const relays = await this.connectedRelays(Math.min(this.timeoutMs, 5_000));
      const published = await Promise.allSettled(relays.map((relay) => relay.publish(event)));
      if (!published.some((p) => p.status === 'fulfilled')) {
        // Refused by every relay, or none connected: it went nowhere. A publish that timed out may have gone out.
        const refused = relays.length === 0 || published.every((p) => p.status === 'rejected' && !/timed? ?out/i.test(String(p.reason)));
        if (refused) throw new NotSentError(relays.length === 0 ? 'no relay of the connection can be reached' : 'every relay refused the request');
      }
      await done;
      return answers;
    } finally {
      this.waiting.delete(event.id);
    }
  }
}
