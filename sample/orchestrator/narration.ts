/** What the run prints: numbered steps, indented details, JSON bodies. */
let stepNumber = 0;

export function step(title: string): void {
  stepNumber += 1;
  console.log(`\n${stepNumber}. ${title}`);
}

export function detail(text: string): void {
  for (const line of text.split('\n')) console.log(`   ${line}`);
}

export function showJson(value: unknown): void {
  detail(JSON.stringify(value, null, 2));
}

/** Enough of a secret to recognise it in the receiver's environment, not enough to use it. */
export function maskSecret(secret: string): string {
  return `${secret.slice(0, 'whsec_'.length + 4)}${'•'.repeat(8)} (${secret.length} chars)`;
}
