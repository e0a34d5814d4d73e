import type { SourceProblem } from '../config/errors.js';
import { nearestName } from '../config/nearest-name.js';
import {
  FIRST_REGULAR_ID,
  LAST_REGULAR_ID,
  NEVER_GRANTED_GROUPS,
  RESERVED_NAMES,
  ROLE_NAME,
  ROOT_EQUIVALENT_GROUPS,
} from './linux-names.js';
import type { ApprovalsFile, FleetFile, RoleFile, UserFile } from './schema.js';
import { parseSshKey } from './ssh-key.js';
import type { YamlFile } from './yaml-file.js';

/**
 * A parsed file, with the name it was found under. `data` holds the top-level fields that passed
 * their schemas: all of them for a valid file, the rest of them for a file with schema problems, so
 * that the cross-file checks still run on what can be checked and every problem is reported at once.
 */
export interface ParsedFile<T> {
  file: YamlFile;
  /** The file's base name without `.yaml`: a role's name, a user's empId. */
  stem: string;
  data: Partial<T>;
}

export interface ParsedDesiredState {
  fleet?: ParsedFile<FleetFile>;
  roles: ParsedFile<RoleFile>[];
  /** Every role file found, parsed or not: a broken role file still names its role. */
  roleNames: Set<string>;
  users: ParsedFile<UserFile>[];
  approvals?: ParsedFile<ApprovalsFile>;
}


/**
 * The checks that span more than one value: names that must exist, be unique or stay clear of each
 * other, and the safety rules (privileged groups, uid and gid ranges). Each problem points at the
 * node at fault. A field that failed its schema is absent here and was reported already.
 */
export function checkDesiredState(state: ParsedDesiredState): SourceProblem[] {
  const problems: SourceProblem[] = [];
  const { fleet, roles, roleNames, users, approvals } = state;
  const hostgroups = fleet?.data.hostgroups ? new Set(Object.keys(fleet.data.hostgroups)) : undefined;

  if (fleet) problems.push(...checkFleet(fleet));

  // Roles: names, hostgroups, groups, sudo.
  const groupGids = new Map<string, { gid: number; where: string }>();
  const gidOwners = new Map<number, { group: string; where: string }>();
  const loginsByName = new Map(users.flatMap((user) => (user.data.login === undefined ? [] : [[user.data.login, user] as const])));
  const privileged = new Set(fleet?.data.policy?.privilegedGroups ?? []);
  for (const role of roles) {
    const { file, stem, data } = role;
    if (!ROLE_NAME.test(stem)) {
      problems.push(file.problem([], `file name "${stem}" is not a role name: use a lowercase letter, then a-z 0-9 _ - (sudo skips sudoers.d files with a dot)`));
    }
    (data.hostgroups ?? []).forEach((name, index) => {
      if (hostgroups && !hostgroups.has(name)) {
        problems.push(file.problem(['hostgroups', index], `hostgroups[${index}]: hostgroup "${name}" is not defined in fleet.yaml${suggest(name, hostgroups)}`));
      }
    });
    (data.groups ?? []).forEach((entry, index) => {
      const group = typeof entry === 'string' ? { name: entry } : entry;
      const path = typeof entry === 'string' ? ['groups', index] : ['groups', index, 'name'];
      const at = `groups[${index}]`;
      if (NEVER_GRANTED_GROUPS.has(group.name)) {
        problems.push(file.problem(path, `${at}: group "${group.name}" is root itself and can never be granted`));
        return;
      }
      if (ROOT_EQUIVALENT_GROUPS.has(group.name) && !privileged.has(group.name)) {
        problems.push(file.problem(path, `${at}: group "${group.name}" is root-equivalent; list it in policy.privilegedGroups (fleet.yaml) to allow roles to grant it`));
      }
      const owner = loginsByName.get(group.name);
      if (owner) {
        problems.push(file.problem(path, `${at}: group "${group.name}" has the name of the private group of user ${group.name} (${owner.file.path}); rename one of them`));
      }
      if (group.gid === undefined) return;
      const gidPath = ['groups', index, 'gid'];
      if (RESERVED_NAMES.has(group.name)) {
        problems.push(file.problem(gidPath, `${at}.gid: "${group.name}" is a system group: leave out gid to use the host's own`));
      }
      if (group.gid < FIRST_REGULAR_ID || group.gid > LAST_REGULAR_ID) {
        problems.push(file.problem(gidPath, `${at}.gid: ${group.gid} is outside ${FIRST_REGULAR_ID}-${LAST_REGULAR_ID}: rollcall only creates regular groups`));
      }
      const declared = groupGids.get(group.name);
      if (declared && declared.gid !== group.gid) {
        problems.push(file.problem(gidPath, `${at}.gid: group "${group.name}" has gid ${declared.gid} in ${declared.where}; one group has one gid`));
      } else if (!declared) {
        groupGids.set(group.name, { gid: group.gid, where: file.path });
      }
      const other = gidOwners.get(group.gid);
      if (other && other.group !== group.name) {
        problems.push(file.problem(gidPath, `${at}.gid: gid ${group.gid} is already group "${other.group}" (${other.where}); gids must be unique`));
      } else if (!other) {
        gidOwners.set(group.gid, { group: group.name, where: file.path });
      }
    });
    if (data.sudo && data.sudo.length > 0 && data.groups?.length === 0) {
      problems.push(file.problem(['sudo'], 'sudo: rules need a group to hold them (they are written as %<first group> <rule>): add one under groups'));
    }
  }

  // Users: file names, logins, uids, GECOS, shells, keys, roles.
  const seenLogins = new Map<string, string>();
  const seenUids = new Map<number, string>();
  // One person, one record: self-service requests and leavers are matched by these ids.
  const seenPlatformIds = new Map<string, string>();
  const [firstUid, lastUid] = fleet?.data.policy?.uidRange ?? [FIRST_REGULAR_ID, LAST_REGULAR_ID];
  for (const { file, stem, data } of users) {
    if (data.empId !== undefined && data.empId !== stem) {
      problems.push(file.problem(['empId'], `empId: "${data.empId}" does not match the file name ${stem}.yaml; name the file after the empId`));
    }
    if (data.login !== undefined) {
      const loginOwner = seenLogins.get(data.login);
      if (loginOwner) problems.push(file.problem(['login'], `login: "${data.login}" is already the login of ${loginOwner}`));
      else seenLogins.set(data.login, file.path);
    }
    for (const [platform, id] of Object.entries(data.ids ?? {})) {
      if (id === undefined) continue;
      const owner = seenPlatformIds.get(`${platform}\0${id}`);
      if (owner) problems.push(file.problem(['ids', platform], `ids.${platform}: "${id}" is already the ${platform} id of ${owner}; one person has one record`));
      else seenPlatformIds.set(`${platform}\0${id}`, file.path);
    }
    if (data.uid !== undefined) problems.push(...checkUid(file, data.uid, [firstUid, lastUid], seenUids, gidOwners));

    const seenKeys = new Set<string>();
    (data.sshKeys ?? []).forEach((line, index) => {
      const parsed = parseSshKey(line);
      if (!parsed.ok) return; // the schema reported it
      if (seenKeys.has(parsed.key.blob)) problems.push(file.problem(['sshKeys', index], `sshKeys[${index}]: this key is listed twice`));
      seenKeys.add(parsed.key.blob);
    });
    const granted = new Set<string>();
    (data.roles ?? []).forEach((grant, index) => {
      const role = typeof grant === 'string' ? grant : grant.role;
      const path = typeof grant === 'string' ? ['roles', index] : ['roles', index, 'role'];
      if (!roleNames.has(role)) {
        problems.push(file.problem(path, `roles[${index}]: role "${role}" does not exist (no roles/${role}.yaml)${suggest(role, roleNames)}`));
      }
      if (granted.has(role)) problems.push(file.problem(path, `roles[${index}]: role "${role}" is granted twice`));
      granted.add(role);
    });
  }

  if (approvals) problems.push(...checkApprovals(approvals, roleNames));
  return problems;
}

function checkUid(
  file: YamlFile,
  uid: number,
  [first, last]: readonly [number, number],
  seenUids: Map<number, string>,
  gidOwners: ReadonlyMap<number, { group: string; where: string }>,
): SourceProblem[] {
  const problems: SourceProblem[] = [];
  if (uid < first || uid > last) problems.push(file.problem(['uid'], `uid: ${uid} is outside policy.uidRange [${first}, ${last}]`));
  const uidOwner = seenUids.get(uid);
  if (uidOwner) problems.push(file.problem(['uid'], `uid: ${uid} is already the uid of ${uidOwner}; uids must be unique`));
  else seenUids.set(uid, file.path);
  const group = gidOwners.get(uid);
  if (group) {
    problems.push(file.problem(['uid'], `uid: ${uid} is the gid of group "${group.group}" (${group.where}); a user's private group takes gid = uid, so pick another`));
  }
  return problems;
}

function checkFleet({ file, data }: ParsedFile<FleetFile>): SourceProblem[] {
  const problems: SourceProblem[] = [];
  if (data.policy) problems.push(...checkPolicy(file, data.policy));
  for (const [name, group] of Object.entries(data.hostgroups ?? {})) {
    const hasTags = group.tags && Object.keys(group.tags).length > 0;
    const hasIds = group.instanceIds && group.instanceIds.length > 0;
    if (!hasTags && !hasIds) {
      problems.push(file.problem(['hostgroups', name], `hostgroups.${name}: select instances by tags or instanceIds (an empty selector would match nothing, or everything)`));
    }
  }
  return problems;
}

function checkPolicy(file: YamlFile, policy: FleetFile['policy']): SourceProblem[] {
  const problems: SourceProblem[] = [];
  const [first, last] = policy.uidRange;
  if (first < FIRST_REGULAR_ID) {
    problems.push(file.problem(['policy', 'uidRange', 0], `policy.uidRange: starts at ${first}; rollcall never manages uids below ${FIRST_REGULAR_ID}`));
  }
  if (last > LAST_REGULAR_ID) {
    problems.push(file.problem(['policy', 'uidRange', 1], `policy.uidRange: ends at ${last}; keep it at or below ${LAST_REGULAR_ID} (65534 is nobody)`));
  }
  if (first > last) {
    problems.push(file.problem(['policy', 'uidRange'], `policy.uidRange: [${first}, ${last}] is empty; write [first, last] with first <= last`));
  }
  policy.privilegedGroups.forEach((name, index) => {
    if (NEVER_GRANTED_GROUPS.has(name)) {
      problems.push(file.problem(['policy', 'privilegedGroups', index], `policy.privilegedGroups: "${name}" is root itself and can never be granted`));
    }
  });
  return problems;
}

function checkApprovals({ file, data }: ParsedFile<ApprovalsFile>, roleNames: ReadonlySet<string>): SourceProblem[] {
  const problems: SourceProblem[] = [];
  const channels = new Set(Object.keys(data.channels ?? {}));
  const codes = new Map<string, number>();
  (data.flows ?? []).forEach((flow, index) => {
    const at = `flows[${index}]`;
    const path = ['flows', index];
    const codeField = flow.platform === 'dingtalk' ? 'processCode' : 'approvalCode';
    const wrongField = flow.platform === 'dingtalk' ? 'approvalCode' : 'processCode';
    const code = flow[codeField];
    if (!code) problems.push(file.problem(path, `${at}: a ${flow.platform} flow needs ${codeField} (the id of its approval form)`));
    if (flow[wrongField]) problems.push(file.keyProblem(path, wrongField, `${at}.${wrongField}: ${flow.platform} flows use ${codeField}, not ${wrongField}`));
    if (code) {
      const key = `${flow.platform}:${code}`;
      const other = codes.get(key);
      if (other !== undefined) problems.push(file.problem([...path, codeField], `${at}.${codeField}: "${code}" is already the code of flows[${other}]; one approval form, one flow`));
      else codes.set(key, index);
    }
    flow.roles.forEach((role, roleIndex) => {
      if (!roleNames.has(role)) {
        problems.push(file.problem([...path, 'roles', roleIndex], `${at}.roles[${roleIndex}]: role "${role}" does not exist (no roles/${role}.yaml)${suggest(role, roleNames)}`));
      }
    });
    if (data.channels && !channels.has(flow.notify)) {
      problems.push(file.problem([...path, 'notify'], `${at}.notify: channel "${flow.notify}" is not defined under channels${suggest(flow.notify, channels)}`));
    }
    for (const message of missingFlowFields(flow)) problems.push(file.problem(path, `${at}: ${message}`));
  });
  return problems;
}

/** What a flow's form must provide for its request to name a user and what to do. */
function missingFlowFields(flow: ApprovalsFile['flows'][number]): string[] {
  const messages: string[] = [];
  const { fields } = flow;
  if (flow.request === 'onboard') {
    if (flow.subject === 'originator') messages.push('onboard flows file for a new hire: subject must be field, not originator');
    if (!fields.empId || !fields.login) messages.push('an onboard flow needs fields.empId and fields.login (the form labels holding them)');
    if (flow.roles.length === 0) messages.push('an onboard flow needs roles: the roles it may grant');
  } else if (flow.subject === 'field' && !fields.empId && !fields.login) {
    messages.push(`a ${flow.request} flow with subject: field needs fields.empId or fields.login to name the user`);
  }
  if ((flow.request === 'grant' || flow.request === 'revoke') && flow.roles.length === 0) {
    messages.push(`a ${flow.request} flow needs roles: the roles it may ${flow.request}`);
  }
  if ((flow.request === 'grant' || flow.request === 'revoke') && !fields.role && flow.roles.length > 1) {
    messages.push(`a ${flow.request} flow with several roles needs fields.role to say which one`);
  }
  return messages;
}

/** ` (did you mean "x"?)` when one known name is a small edit away. */
function suggest(name: string, known: Iterable<string>): string {
  const best = nearestName(name, known);
  return best ? ` (did you mean "${best}"?)` : '';
}

