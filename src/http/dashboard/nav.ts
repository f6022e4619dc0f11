import type { Caller, Permission, SchoolGrant } from '../../auth/caller.js';
import type { MessageKey } from './messages/index.js';

export interface NavItem { href: string; label: MessageKey; show(caller: Caller, grant: SchoolGrant): boolean }
export interface NavGroup { label: MessageKey; items: NavItem[] }

const staff = (permission: Permission) => (caller: Caller, grant: SchoolGrant) => caller.kind === 'staff' && grant.permissions.has(permission);
const parent = (caller: Caller) => caller.kind === 'parent';

/** Every page of the dashboard a menu links to, by area; what a caller sees follows its permissions in the school. */
export const NAV: NavGroup[] = [
  { label: 'nav.group.family', items: [
    { href: '/parent', label: 'nav.parent.week', show: parent },
    { href: '/parent/preferences', label: 'nav.parent.preferences', show: parent },
    { href: '/parent/telegram', label: 'nav.parent.telegram', show: parent },
  ] },
  { label: 'nav.group.journal', items: [
    { href: '/inbox', label: 'nav.inbox', show: staff('discrepancies:read') },
    { href: '/journal', label: 'nav.journal', show: staff('journal:read') },
    { href: '/paper', label: 'nav.paper', show: staff('records:write') },
  ] },
  { label: 'nav.group.control', items: [
    { href: '/compliance', label: 'nav.compliance', show: staff('compliance:read') },
    { href: '/close', label: 'nav.close', show: staff('periods:close') },
    { href: '/reports', label: 'nav.reports', show: staff('reports:read') },
  ] },
  { label: 'nav.group.admin', items: [
    { href: '/it', label: 'nav.it.connections', show: staff('connections:manage') },
    { href: '/it/runs', label: 'nav.it.runs', show: staff('connections:manage') },
    { href: '/it/dead-letters', label: 'nav.it.deadLetters', show: staff('connections:manage') },
    { href: '/it/webhooks', label: 'nav.it.webhooks', show: staff('webhooks:manage') },
    { href: '/it/keys', label: 'nav.it.keys', show: staff('access:manage') },
    { href: '/it/users', label: 'nav.it.users', show: staff('access:manage') },
    { href: '/it/settings', label: 'nav.it.settings', show: staff('connections:manage') },
    { href: '/it/backups', label: 'nav.it.backups', show: staff('backups:manage') },
  ] },
];

/** Where a caller lands after signing in: the first page of its main role. */
export function homeOf(caller: Caller, grant: SchoolGrant): string {
  if (caller.kind === 'parent') return '/parent';
  if (grant.roles.includes('it_admin')) return '/it';
  if (grant.roles.includes('deputy') || grant.roles.includes('director')) return '/compliance';
  if (grant.permissions.has('discrepancies:read')) return '/inbox';
  return '/journal';
}
