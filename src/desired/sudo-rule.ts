const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
const SUDO_INCLUDE = /^\s*[#@]include(dir)?\b/;

/** Why a sudo rule is unsafe or malformed, or undefined when it is fine. */
export function checkSudoRule(rule: string): string | undefined {
  if (rule.trim() === '') return 'is empty';
  if (/[\r\n]/.test(rule)) return 'must be one line: a newline would start a second sudoers entry';
  if (CONTROL_CHARACTERS.test(rule)) return 'must not contain control characters';
  if (SUDO_INCLUDE.test(rule)) return 'must not include other files (#include / @include)';
  if (/\\\s*$/.test(rule)) return 'must not end with a backslash (it would continue onto the next line)';
  if (/^\s*(%|Defaults\b|[A-Za-z_]+_Alias\b)/.test(rule)) {
    return 'write only the part after the group, like ALL=(ALL) NOPASSWD: /usr/bin/systemctl restart nginx (rollcall adds %<group>; Defaults and aliases are not allowed)';
  }
  if (!rule.includes('=')) return 'is not a sudo rule: expected hosts=(runas) commands, like ALL=(ALL) NOPASSWD: /usr/bin/systemctl restart nginx';
  return undefined;
}

