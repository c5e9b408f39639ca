// Entries of the admin home. Each capability adds its own at registration:
//   addAdminLink({ href: '/admin/announcements', label: { fr: 'Annonces', en: 'Announcements' }, role: 'editor' })
// `role` is the least role that sees the entry (an admin sees editors' entries too).
import type { Role } from '../accounts/accounts.tables.ts';
import type { Locale } from '../config.ts';

export interface AdminLink {
  href: string;
  label: Record<Locale, string>;
  role: Role;
  description?: Record<Locale, string>;
}

const links: AdminLink[] = [];

/** Adds an entry (once per href: several instances in one process register the same links). */
export function addAdminLink(link: AdminLink): void {
  if (!links.some((l) => l.href === link.href)) links.push(link);
}

export function adminLinks(): readonly AdminLink[] {
  return links;
}
