// The keyring: data keys by id, in one JSON file sealed with AES-256-GCM under a key derived from
// the master password (scrypt). The KDF parameters and format version are the GCM AAD, so they
// cannot be weakened unnoticed. A wrong password and a damaged file look the same (GCM cannot
// tell them apart), and are reported as one error.
import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt as scryptCallback, type ScryptOptions } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { DATA_KEY_BYTES, KEY_ID_PATTERN, type DataKey } from './keys.js';

export const KEYRING_VERSION = 1;
/** OWASP's scrypt recommendation (128 MiB of memory per unlock, ~0.3 s here). */
export const DEFAULT_KDF_COST = 2 ** 17;
const KDF_R = 8;
const KDF_P = 1;

export interface Keyring {
  /** Oldest first. */
  readonly keys: readonly DataKey[];
  /** The newest key: every new object is sealed under it. */
  readonly current: DataKey;
  get(id: string): DataKey | undefined;
}

export class KeyringError extends Error {
  constructor(message = 'wrong master password or damaged keyring file') {
    super(message);
    this.name = 'KeyringError';
  }
}

export interface KeyringWriteOptions {
  /** Id of the new key (default k1, k2, …). */
  readonly id?: string;
  /** scrypt N for a new seal; lower only in tests. */
  readonly kdfCost?: number;
}

interface SealedFile {
  readonly sluiceKeyring: number;
  readonly kdf: { readonly name: 'scrypt'; readonly N: number; readonly r: number; readonly p: number; readonly salt: string };
  readonly iv: string;
  readonly ciphertext: string;
  readonly tag: string;
}

interface StoredKey {
  readonly id: string;
  readonly createdAt: string;
  readonly secret: string;
}

export async function createKeyring(file: string, password: string | Buffer, options: KeyringWriteOptions = {}): Promise<Keyring> {
  if (await exists(file)) throw new KeyringError(`keyring file ${file} already exists`);
  const keyring = withKeys([newKey(options.id ?? 'k1', [])]);
  await seal(file, keyring.keys, password, options.kdfCost ?? DEFAULT_KDF_COST);
  return keyring;
}

export async function openKeyring(file: string, password: string | Buffer): Promise<Keyring> {
  return withKeys((await unseal(file, password)).keys);
}

/** Adds a key (it becomes the current one); returns it. */
export async function addKey(file: string, password: string | Buffer, options: KeyringWriteOptions = {}): Promise<DataKey> {
  const { keys, cost } = await unseal(file, password);
  const key = newKey(options.id ?? nextId(keys), keys);
  await seal(file, [...keys, key], password, options.kdfCost ?? cost);
  return key;
}

/** Seals the same keys under a new master password (new salt and IV). */
export async function rewrapKeyring(
  file: string,
  oldPassword: string | Buffer,
  newPassword: string | Buffer,
  options: Pick<KeyringWriteOptions, 'kdfCost'> = {},
): Promise<void> {
  const { keys, cost } = await unseal(file, oldPassword);
  await seal(file, keys, newPassword, options.kdfCost ?? cost);
}

/** First 12 hex digits of SHA-256 of the secret: tells keys apart, reveals nothing usable. */
export function keyFingerprint(key: DataKey): string {
  return createHash('sha256').update(key.secret).digest('hex').slice(0, 12);
}

function withKeys(keys: readonly DataKey[]): Keyring {
  const byId = new Map(keys.map((k) => [k.id, k]));
  const current = keys.at(-1);
  if (current === undefined) throw new KeyringError('the keyring holds no key');
  return { keys, current, get: (id) => byId.get(id) };
}

function newKey(id: string, existing: readonly DataKey[]): DataKey {
  if (!KEY_ID_PATTERN.test(id)) throw new KeyringError(`invalid key id "${id}" (1–28 of A–Z a–z 0–9 . _ -)`);
  if (existing.some((k) => k.id === id)) throw new KeyringError(`the keyring already holds a key "${id}"`);
  return { id, secret: randomBytes(DATA_KEY_BYTES), createdAt: new Date().toISOString() };
}

function nextId(keys: readonly DataKey[]): string {
  const numbers = keys
    .map((k) => /^k(\d+)$/.exec(k.id)?.[1])
    .filter((n) => n !== undefined)
    .map(Number);
  return `k${Math.max(0, ...numbers) + 1}`;
}

function scrypt(password: string | Buffer, salt: Buffer, N: number): Promise<Buffer> {
  const options: ScryptOptions = { N, r: KDF_R, p: KDF_P, maxmem: 256 * 1024 * 1024 };
  return new Promise((resolve, reject) => scryptCallback(password, salt, 32, options, (error, key) => (error ? reject(error) : resolve(key))));
}

function aadOf(sealed: Pick<SealedFile, 'sluiceKeyring' | 'kdf'>): Buffer {
  return Buffer.from(JSON.stringify({ sluiceKeyring: sealed.sluiceKeyring, kdf: sealed.kdf }));
}

async function seal(file: string, keys: readonly DataKey[], password: string | Buffer, cost: number): Promise<void> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const header = { sluiceKeyring: KEYRING_VERSION, kdf: { name: 'scrypt' as const, N: cost, r: KDF_R, p: KDF_P, salt: salt.toString('base64') } };
  const cipher = createCipheriv('aes-256-gcm', await scrypt(password, salt, cost), iv);
  cipher.setAAD(aadOf(header));
  const plain = Buffer.from(JSON.stringify({ keys: keys.map((k): StoredKey => ({ id: k.id, createdAt: k.createdAt, secret: k.secret.toString('base64') })) }));
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
  plain.fill(0);
  const sealed: SealedFile = { ...header, iv: iv.toString('base64'), ciphertext: ciphertext.toString('base64'), tag: cipher.getAuthTag().toString('base64') };
  await writeAtomically(file, `${JSON.stringify(sealed, null, 2)}\n`);
}

async function unseal(file: string, password: string | Buffer): Promise<{ keys: DataKey[]; cost: number }> {
  const sealed = parseSealed(await fsp.readFile(file, 'utf8'));
  const key = await scrypt(password, Buffer.from(sealed.kdf.salt, 'base64'), sealed.kdf.N).catch(() => {
    throw new KeyringError();
  });
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(aadOf(sealed));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    plain = Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]);
  } catch {
    throw new KeyringError();
  }
  const stored = (JSON.parse(plain.toString('utf8')) as { keys: StoredKey[] }).keys;
  plain.fill(0);
  return { keys: stored.map((k) => ({ id: k.id, createdAt: k.createdAt, secret: Buffer.from(k.secret, 'base64') })), cost: sealed.kdf.N };
}

function parseSealed(text: string): SealedFile {
  try {
    const sealed = JSON.parse(text) as SealedFile;
    const { kdf } = sealed;
    if (sealed.sluiceKeyring !== KEYRING_VERSION || kdf?.name !== 'scrypt' || !Number.isInteger(kdf.N) || kdf.N < 2 ** 10 || kdf.r !== KDF_R || kdf.p !== KDF_P)
      throw new Error('layout');
    for (const field of [kdf.salt, sealed.iv, sealed.ciphertext, sealed.tag]) if (typeof field !== 'string') throw new Error('layout');
    return sealed;
  } catch {
    throw new KeyringError();
  }
}

/** Temp file in the same directory, 0600, fsync, rename: a crash never leaves half a keyring. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fsp.open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fsp.rename(tmp, file);
  } catch (error) {
    await fsp.rm(tmp, { force: true });
    throw error;
  }
}

async function exists(file: string): Promise<boolean> {
  return fsp.access(file).then(
    () => true,
    () => false,
  );
}
