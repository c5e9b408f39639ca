// Paces outgoing messages in one process: at most `perSecond` started in any one-second window
// and `perHour` in any clock hour. Callers await `take()` before each message.

export class SendRateLimiter {
  readonly #perSecond: number;
  readonly #perHour: number;
  readonly #recent: number[] = [];
  #hourStart = 0;
  #hourCount = 0;
  #chain: Promise<void> = Promise.resolve();

  constructor(perSecond: number, perHour: number) {
    this.#perSecond = perSecond;
    this.#perHour = perHour;
  }

  /** Resolves when one more message may start. Calls are served in order. */
  take(): Promise<void> {
    const turn = this.#chain.then(() => this.#wait());
    this.#chain = turn;
    return turn;
  }

  async #wait(): Promise<void> {
    for (;;) {
      const now = Date.now();
      const hour = Math.floor(now / 3_600_000) * 3_600_000;
      if (hour !== this.#hourStart) {
        this.#hourStart = hour;
        this.#hourCount = 0;
      }
      while (this.#recent.length > 0 && this.#recent[0]! <= now - 1000) this.#recent.shift();
      if (this.#hourCount >= this.#perHour) {
        await sleep(hour + 3_600_000 - now);
        continue;
      }
      if (this.#recent.length >= this.#perSecond) {
        await sleep(this.#recent[0]! + 1000 - now);
        continue;
      }
      this.#recent.push(now);
      this.#hourCount++;
      return;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(1, ms)));
}
