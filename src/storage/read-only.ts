// The write side of a view that must never write: the app's and the worker's views of encrypted
// stores (plaintext or delivery only). Writes go to the store itself, through the worker.
import type { StoreWrites } from './types.js';

export function refusedWrites(storeName: string): StoreWrites {
  const refuse = async (): Promise<never> => {
    throw new Error(`store "${storeName}": this view is read-only (the worker writes encrypted stores)`);
  };
  return { head: refuse, put: refuse, delete: refuse, directUpload: { via: 'none' } };
}
