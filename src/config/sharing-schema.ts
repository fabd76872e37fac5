// Share links, revocation, rate limits and the nginx auth_request endpoint.
import { z } from 'zod';

export const sharingSchema = z.strictObject({}).default({});
