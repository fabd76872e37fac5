// Encryption at rest: the keyring (data keys, itself encrypted with a master password) and the
// chunk size of newly written objects. Stores opt in with `encrypted: true`.
import { z } from 'zod';

const KIB = 1024;
const MIB = 1024 * KIB;

/** Largest and smallest plaintext chunk: one chunk is what the worker holds per stream. */
export const MIN_CHUNK_BYTES = 4 * KIB;
export const MAX_CHUNK_BYTES = 8 * MIB;

export const encryptionSchema = z
  .strictObject({
    keyringFile: z
      .string()
      .min(1)
      .optional()
      .describe('the keyring (JSON, sealed with the master password; `sluice keys init` creates it); required by the worker when a store is encrypted'),
    passwordFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        'where the master password is read from, once, at start-up: a file descriptor (`/dev/fd/3`), a named pipe, or (with `allowRegularPasswordFile`) a file on tmpfs',
      ),
    allowRegularPasswordFile: z
      .boolean()
      .default(false)
      .describe('accept a regular file as `passwordFile`; only for secrets mounted on tmpfs (Docker/Kubernetes)'),
    chunkSize: z
      .number()
      .int()
      .min(MIN_CHUNK_BYTES)
      .max(MAX_CHUNK_BYTES)
      .default(64 * KIB)
      .describe('plaintext bytes per AEAD chunk of new objects (4 KiB – 8 MiB; old objects keep theirs: it is in their header)'),
  })
  .prefault({});

export type EncryptionConfig = z.infer<typeof encryptionSchema>;
