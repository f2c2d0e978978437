/** Teardown steps, run newest first (what started last stops first), each even if another fails. */
export class CleanupStack {
  private readonly steps: Array<{ label: string; run: () => unknown }> = [];
  private unwinding: Promise<void> | undefined;

  add(label: string, run: () => unknown): void {
    this.steps.push({ label, run });
  }

  /** Safe to call twice (an interrupt during the normal teardown): both callers wait for the one unwind. */
  runAll(): Promise<void> {
    this.unwinding ??= this.unwind();
    return this.unwinding;
  }

  private async unwind(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step.run();
      } catch (error) {
        console.error(`cleanup: ${step.label} failed: ${(error as Error).message}`);
      }
    }
  }
}
