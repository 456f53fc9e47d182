export const ROLES = ['admin', 'curator', 'executor', 'observer'] as const;
export type Role = (typeof ROLES)[number];

/** Who may act on behalf of the issuing authority. */
export const STAFF_ROLES: readonly Role[] = ['admin', 'curator'];
/** Who may read every organisation's assignments. */
export const READ_ALL_ROLES: readonly Role[] = ['admin', 'curator', 'observer'];

export interface Actor {
  id: string;
  email: string;
  name: string;
  role: Role;
  organization?: string;
}
