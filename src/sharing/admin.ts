// Who may revoke what: everyone their own links and tokens; an admin (sharing.admin) anything.
import type { Subject } from '../auth/types.js';
import type { SharingConfig } from '../config/sharing-schema.js';
import { lookupClaim } from '../policy/conditions.js';

export type AdminCheck = (subject: Subject) => boolean;

export function adminCheck(admin: SharingConfig['admin']): AdminCheck {
  if (admin === undefined) return () => false;
  return (subject) => {
    if (!subject.authenticated || subject.via === 'share-link') return false;
    const value = lookupClaim(subject.claims, admin.claim);
    if (Array.isArray(value)) return value.includes(admin.value);
    return typeof value === 'string' && (value === admin.value || value.split(' ').includes(admin.value));
  };
}
