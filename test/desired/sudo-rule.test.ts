import { describe, expect, it } from 'vitest';
import { checkSudoRule } from '../../src/desired/sudo-rule.js';

const AFTER_THE_GROUP =
  'write only the part after the group, like ALL=(ALL) NOPASSWD: /usr/bin/systemctl restart nginx (rollcall adds %<group>; Defaults and aliases are not allowed)';
const NOT_A_RULE = 'is not a sudo rule: expected hosts=(runas) commands, like ALL=(ALL) NOPASSWD: /usr/bin/systemctl restart nginx';

describe('checkSudoRule', () => {
  it.each([
    'ALL=(ALL) NOPASSWD: /usr/bin/systemctl restart nginx',
    'ALL=(postgres) NOPASSWD: ALL',
    'ALL=(root) /usr/sbin/reboot',
    'ALL=(ALL:ALL) ALL',
    'ALL = (ALL) NOPASSWD: /usr/bin/journalctl, /usr/bin/systemctl status *',
    'web1,web2=(www-data) NOPASSWD: /usr/bin/rsync',
    'ALL=(ALL) NOPASSWD: /usr/bin/ls # list files',
    'ALL=(ALL) /usr/bin/grep a\\b /var/log/syslog',
  ])('accepts %s', (rule) => {
    expect(checkSudoRule(rule)).toBeUndefined();
  });

  it.each([
    ['', 'is empty'],
    ['   ', 'is empty'],
    ['ALL=(ALL) ALL\nalice ALL=(ALL) NOPASSWD: ALL', 'must be one line: a newline would start a second sudoers entry'],
    ['ALL=(ALL) ALL\r', 'must be one line: a newline would start a second sudoers entry'],
    ['ALL=(ALL) ALL\n', 'must be one line: a newline would start a second sudoers entry'],
    ['ALL=(ALL) /bin/ls\u0000', 'must not contain control characters'],
    ['ALL=(ALL)\tALL', 'must not contain control characters'],
    ['ALL=(ALL) /bin/ls\u001b[2J', 'must not contain control characters'],
    ['ALL=(ALL) /bin/ls\u007f', 'must not contain control characters'],
    ['#include /etc/sudoers.d/extra', 'must not include other files (#include / @include)'],
    ['  #include /etc/sudoers.d/extra', 'must not include other files (#include / @include)'],
    ['#includedir /etc/sudoers.d', 'must not include other files (#include / @include)'],
    ['@include /tmp/rules', 'must not include other files (#include / @include)'],
    ['@includedir /tmp', 'must not include other files (#include / @include)'],
    ['ALL=(ALL) /usr/bin/ls \\', 'must not end with a backslash (it would continue onto the next line)'],
    ['ALL=(ALL) /usr/bin/ls \\   ', 'must not end with a backslash (it would continue onto the next line)'],
    ['%wheel ALL=(ALL) ALL', AFTER_THE_GROUP],
    ['  %admins ALL=(ALL) ALL', AFTER_THE_GROUP],
    ['Defaults !authenticate', AFTER_THE_GROUP],
    ['Defaults:alice !requiretty', AFTER_THE_GROUP],
    ['Cmnd_Alias SHELLS = /bin/sh, /bin/bash', AFTER_THE_GROUP],
    ['User_Alias ADMINS = alice', AFTER_THE_GROUP],
    ['Host_Alias WEB = web1', AFTER_THE_GROUP],
    ['Runas_Alias DB = postgres', AFTER_THE_GROUP],
    ['ALL', NOT_A_RULE],
    ['/usr/bin/systemctl restart nginx', NOT_A_RULE],
    ['NOPASSWD: ALL', NOT_A_RULE],
  ])('rejects %j', (rule, error) => {
    expect(checkSudoRule(rule)).toBe(error);
  });
});
