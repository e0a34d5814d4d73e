/**
 * Names that rollcall treats specially on Linux hosts. Kept in one place so that validation (which
 * rejects them early, with a position) and the planner (which never touches them, whatever the
 * files say) agree.
 */

/** A valid login or group name for useradd/groupadd in their portable form. */
export const LINUX_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/** Role names become `/etc/sudoers.d/rollcall-<role>`: sudo silently skips files whose names hold a dot. */
export const ROLE_NAME = /^[a-z][a-z0-9_-]*$/;

/** The lowest uid or gid rollcall may ever manage: below it are the system's own accounts. */
export const FIRST_REGULAR_ID = 1000;

/** The highest: 65534 is `nobody`, and useradd's default UID_MAX is 60000. */
export const LAST_REGULAR_ID = 60000;

/**
 * System accounts and groups shipped by Debian, Ubuntu, CentOS/RHEL and Alibaba Cloud Linux. A
 * desired login with one of these names would collide with, or be mistaken for, a system account.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  'root', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'proxy',
  'www-data', 'backup', 'list', 'irc', 'gnats', 'nobody', 'nogroup', 'nfsnobody', 'operator',
  'halt', 'shutdown', 'ftp', 'adm', 'wheel', 'sudo', 'admin', 'shadow', 'disk', 'tty', 'kmem',
  'dialout', 'cdrom', 'floppy', 'tape', 'audio', 'video', 'plugdev', 'staff', 'users', 'utmp',
  'input', 'kvm', 'render', 'sgx', 'netdev', 'crontab', 'messagebus', 'dbus', 'sshd', 'ssh',
  '_apt', 'syslog', 'uuidd', 'tcpdump', 'polkitd', 'chrony', 'ntp', 'postfix', 'postdrop',
  'systemd-network', 'systemd-resolve', 'systemd-timesync', 'systemd-journal',
  'systemd-coredump', 'systemd-oom', 'tss', 'landscape', 'pollinate', 'lxd', 'docker', 'libvirt',
  'rpc', 'rpcuser', 'ecs-assist-user', 'aliyun', 'rollcall',
]);

/**
 * Groups whose members can become root (or read every secret) without sudo. A role may grant one
 * only when `policy.privilegedGroups` lists it, so that nobody hands out root by accident.
 */
export const ROOT_EQUIVALENT_GROUPS: ReadonlySet<string> = new Set([
  'root', 'wheel', 'sudo', 'admin', 'adm', 'shadow', 'disk', 'kmem', 'docker', 'lxd', 'lxc',
  'libvirt', 'sys',
]);

/** Groups no role may grant even when listed as privileged: gid 0 is root itself. */
export const NEVER_GRANTED_GROUPS: ReadonlySet<string> = new Set(['root']);

/** Shells a managed account may have: the login shells that the supported distributions list in /etc/shells. */
export const LOGIN_SHELLS: readonly string[] = [
  '/bin/bash', '/usr/bin/bash', '/bin/sh', '/usr/bin/sh', '/bin/dash', '/usr/bin/dash',
  '/bin/zsh', '/usr/bin/zsh', '/usr/bin/fish', '/bin/ksh', '/usr/bin/ksh', '/bin/tcsh',
  '/usr/bin/tcsh', '/bin/csh', '/usr/bin/csh',
];

/** True for the accounts rollcall must never change, whatever any file or snapshot says (nobody is 65534). */
export function isProtectedAccount(login: string, uid: number): boolean {
  return login === 'root' || uid < FIRST_REGULAR_ID || uid > LAST_REGULAR_ID;
}
