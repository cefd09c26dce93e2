/**
 * A passphrase strength estimate for the meter: an entropy estimate from length and character
 * variety, lowered for repeats and sequences. The vault enforces only the minimum length (12); the
 * meter helps the steward choose well and never blocks a long passphrase.
 */
export const MIN_LENGTH = 12;

export interface Strength {
  /** 0 too short, 1 weak, 2 fair, 3 strong, 4 very strong. */
  readonly score: 0 | 1 | 2 | 3 | 4;
  readonly label: string;
  readonly hint: string;
  readonly bits: number;
}

export function estimateStrength(passphrase: string): Strength {
  const chars = [...passphrase];
  if (chars.length < MIN_LENGTH) {
    return {
      score: 0,
      label: 'Too short',
      hint: `Use at least ${MIN_LENGTH} characters (${MIN_LENGTH - chars.length} more).`,
      bits: 0,
    };
  }
  let pool = 0;
  if (/[a-z]/.test(passphrase)) pool += 26;
  if (/[A-Z]/.test(passphrase)) pool += 26;
  if (/[0-9]/.test(passphrase)) pool += 10;
  if (/[^a-zA-Z0-9]/.test(passphrase)) pool += 20;
  const unique = new Set(chars).size;
  // Repeated characters and runs add little: count distinct-ish characters.
  const effective = Math.min(chars.length, unique * 2.5);
  let bits = effective * Math.log2(Math.max(pool, 2));
  if (/(.)\1{2,}/.test(passphrase)) bits *= 0.8;
  if (/(0123|1234|abcd|qwer|azer|pass|word)/i.test(passphrase)) bits *= 0.7;
  const score = bits < 50 ? 1 : bits < 70 ? 2 : bits < 100 ? 3 : 4;
  const labels = ['Too short', 'Weak', 'Fair', 'Strong', 'Very strong'] as const;
  const hints = [
    '',
    'Add more unrelated words; avoid repeats and common sequences.',
    'Acceptable. One or two more unrelated words make it strong.',
    'Good passphrase.',
    'Excellent passphrase.',
  ];
  return { score, label: labels[score], hint: hints[score] ?? '', bits: Math.round(bits) };
}
