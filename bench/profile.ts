export async function runProfile(): Promise<void> {
  throw new Error('not yet');
}
