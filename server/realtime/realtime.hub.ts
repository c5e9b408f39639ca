// The sockets of this process, by topic. Each connection costs a socket and its place in one or two
// sets: nothing is buffered per connection beyond what the socket itself holds, and a client that
// stops reading (its send buffer grows past a limit) or stops answering pings is dropped.
import type { WebSocket } from 'ws';

export interface HubOptions {
  maxConnections: number;
  /** A socket whose unsent data exceeds this many bytes is a slow reader: it is closed. */
  maxBufferedBytes?: number;
  pingIntervalMs?: number;
}

export class RealtimeHub {
  maxConnections: number;
  readonly #maxBuffered: number;
  readonly #topics = new Map<string, Set<WebSocket>>();
  readonly #alive = new WeakSet<WebSocket>();
  readonly #all = new Set<WebSocket>();
  #pinger: NodeJS.Timeout | undefined;

  constructor(options: HubOptions) {
    this.maxConnections = options.maxConnections;
    this.#maxBuffered = options.maxBufferedBytes ?? 256 * 1024;
    const interval = options.pingIntervalMs ?? 30_000;
    // One timer for every socket: a socket that did not answer the previous ping is gone.
    this.#pinger = setInterval(() => this.#ping(), interval);
    this.#pinger.unref();
  }

  get size(): number {
    return this.#all.size;
  }

  get full(): boolean {
    return this.#all.size >= this.maxConnections;
  }

  /** Follow `topics` on `socket` until it closes. */
  add(socket: WebSocket, topics: readonly string[]): void {
    this.#all.add(socket);
    this.#alive.add(socket);
    for (const topic of topics) {
      let set = this.#topics.get(topic);
      if (!set) {
        set = new Set();
        this.#topics.set(topic, set);
      }
      set.add(socket);
    }
    socket.on('pong', () => this.#alive.add(socket));
    socket.on('close', () => this.#remove(socket, topics));
    socket.on('error', () => socket.terminate());
  }

  /** Send an already encoded message to every socket following `topic`. */
  dispatch(topic: string, json: string): number {
    const set = this.#topics.get(topic);
    if (!set) return 0;
    // Encoded once: handing ws a string would make it encode the same UTF-8 again for every socket.
    const bytes = Buffer.from(json);
    let sent = 0;
    for (const socket of set) {
      if (socket.readyState !== socket.OPEN) continue;
      if (socket.bufferedAmount > this.#maxBuffered) {
        socket.terminate();
        continue;
      }
      socket.send(bytes, { binary: false });
      sent++;
    }
    return sent;
  }

  /** Close every socket (the server is stopping: "going away"). */
  closeAll(): void {
    if (this.#pinger) clearInterval(this.#pinger);
    this.#pinger = undefined;
    for (const socket of this.#all) socket.close(1001, 'server stopping');
  }

  #remove(socket: WebSocket, topics: readonly string[]): void {
    this.#all.delete(socket);
    for (const topic of topics) {
      const set = this.#topics.get(topic);
      set?.delete(socket);
      if (set && set.size === 0) this.#topics.delete(topic);
    }
  }

  #ping(): void {
    for (const socket of this.#all) {
      if (!this.#alive.has(socket)) {
        socket.terminate();
        continue;
      }
      this.#alive.delete(socket);
      socket.ping();
    }
  }
}
