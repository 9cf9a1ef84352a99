/**
 * Lets the writes of one channel run side by side, and a replay run alone: `exclusive` waits for
 * the writes in flight, holds new ones back while it runs, then lets them go. Two transactions
 * that insert the same record at once make one of them fail at commit (and a failed OrientDB
 * transaction can leave Lucene entries behind), so a replay must never overlap a write.
 */
export class ChannelGate {
  private inFlight = 0;
  private drained: Array<() => void> = [];
  private held: Promise<void> | undefined;

  async write<T>(work: () => Promise<T>): Promise<T> {
    while (this.held) {
      await this.held;
    }
    this.inFlight++;
    try {
      return await work();
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) {
        this.drained.splice(0).forEach((resolve) => resolve());
      }
    }
  }

  async exclusive(work: () => Promise<void>): Promise<void> {
    while (this.held) {
      await this.held;
    }
    const run = (async () => {
      while (this.inFlight > 0) {
        await new Promise<void>((resolve) => this.drained.push(resolve));
      }
      await work();
    })();
    // what writers wait on never rejects: a failed replay must not fail them
    this.held = run.then(
      () => undefined,
      () => undefined,
    );
    void this.held.then(() => {
      this.held = undefined;
    });
    await run;
  }
}
