// Secrets a control plane keeps in its home (made once, 0600), and comparing a presented secret in constant time.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The secret in `<home>/secrets/<name>`, made on first use; it survives restarts. */
export function homeSecret(home: string, name: string): Buffer {
  const dir = join(home, 'secrets');
  const file = join(dir, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
  } catch {
    const text = randomBytes(32).toString('base64url');
    try {
      writeFileSync(file, `${text}\n`, { mode: 0o600, flag: 'wx' });
    } catch {
      // Another process made it first: theirs is the one.
      return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
    }
    return Buffer.from(text, 'base64url');
  }
}

/**
 * Whether `given` is `secret`, in time that depends only on the secret's length (berth's secrets are generated, all of one
 * length), never on where the two differ. Plain JS: a native hash object per request left a weak handle behind each, which
 * made every young-generation GC of a busy server take three times as long.
 */
export function sameSecret(given: string | undefined, secret: string): boolean {
  if (given === undefined) return false;
  let diff = given.length ^ secret.length;
  for (let i = 0; i < secret.length; i++) diff |= secret.charCodeAt(i) ^ (given.charCodeAt(i) | 0);
  return diff === 0;
}
