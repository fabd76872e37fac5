// Seeds the encrypted vault through Sluice itself: PUT <prefix>/_uploads/encrypted/<store>/<key>
// with each user's own token, so the worker encrypts on the way in (the host app never holds the
// keyring). An existing key answers 409 (write-once): a restarted demo keeps what is there.
import { SignJWT } from 'jose';
import { USERS, VAULT_FILES, vaultFileContent } from './catalog.js';
import { VAULT_STORE } from './config.js';

const encodeKey = (key: string): string => key.split('/').map(encodeURIComponent).join('/');

export async function seedVault(sluiceOrigin: string, jwtSecret: string, store = VAULT_STORE): Promise<void> {
  const secret = new TextEncoder().encode(jwtSecret);
  for (const user of USERS) {
    const token = await new SignJWT({ groups: [...user.groups] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.name)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(secret);
    for (const name of VAULT_FILES) {
      const key = `users/${user.name}/${name}`;
      const res = await fetch(`${sluiceOrigin}/files/_uploads/encrypted/${store}/${encodeKey(key)}`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${token}` },
        body: await vaultFileContent(user.name, name),
      });
      await res.arrayBuffer();
      if (res.status !== 201 && res.status !== 409) throw new Error(`seeding the vault: PUT ${key} answered ${res.status}`);
    }
  }
}
