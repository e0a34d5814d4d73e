#!/bin/sh
# rollcall agent: runs as root on an instance, through ECS Cloud Assistant, or by hand as
# `rollcall-agent.sh MODE [OPS] [PAGE]` (what the registered stub does after checking its sha256).
#   inventory  prints this instance's accounts as JSON (one page; "nextPage" says what follows)
#   apply      runs the operations in <ops> (base64 of gzip) and prints one JSON line for each
# Request values never reach this text: Cloud Assistant puts only the three values below here, and
# each is checked against a fixed alphabet before use. Operations are read field by field, never
# evaluated. Portable sh: Alibaba Cloud Linux 2/3, CentOS 7+, Ubuntu 18.04+, Debian 10+.
mode='{{mode}}'
ops='{{ops}}'
page='{{page}}'
# Run by hand, the placeholders are still there: take the arguments instead.
case $mode in '{''{'*) mode=${1:-}; ops=${2:-}; page=${3:-} ;; esac
case $ops in '{''{'*) ops= ;; esac
case $page in '{''{'*) page= ;; esac

PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LC_ALL=C
export PATH LC_ALL
umask 077
R=/var/lib/rollcall
M=$R/managed
T= KD=
nl='
'
tab='	'

die() { printf '{"error":"%s"}\n' "$1"; exit 2; }
cleanup() { rm -rf ${T:+"$T"} ${KD:+"$KD"}; }
trap cleanup EXIT
trap 'exit 129' HUP INT TERM

mkdir -p "$R" && chmod 700 "$R" || die 'cannot create /var/lib/rollcall'
[ -f "$M" ] || : >"$M"
T=$(mktemp -d "$R/tmp.XXXXXX") || die 'cannot create a temporary folder'

# JSON string of $1 for messages: our text, with quotes, backslashes and control characters escaped.
jstr() { printf '%s' "$1" | awk 'BEGIN{ORS=""} {gsub(/\\/,"\\\\");gsub(/"/,"\\\"");gsub(/[\001-\037]/," ");print (NR>1?" ":"") $0}'; }

# ── the managed list: what rollcall created here; nothing else is ever changed ──
# Held in $MANAGED (read under the lock) so that a look-up costs no process; written atomically.
managed_has() { case "$nl$MANAGED$nl" in *"$nl$1 $2 "* | *"$nl$1 $2$nl"*) return 0 ;; esac; return 1; }
managed_write() { printf '%s\n' "$MANAGED" | grep -v '^$' >"$M.new"; mv -f "$M.new" "$M"; }
managed_set() { # kind name [id]: intent first, before the object is created
	case "$nl$MANAGED$nl" in *"$nl$1 $2${3:+ $3}$nl"*) return ;; esac
	managed_has "$1" "$2" && MANAGED=$(printf '%s\n' "$MANAGED" | grep -v "^$1 $2\( \|\$\)")
	MANAGED="$MANAGED${MANAGED:+$nl}$1 $2${3:+ $3}"
	managed_write
}
# A user is rollcall's only with the uid it was recorded with: a login deleted by hand and made
# again by someone else is not.
managed_user() { case "$nl$MANAGED$nl" in *"${nl}user $1 $2$nl"*) return 0 ;; esac; return 1; }
managed_del() { MANAGED=$(printf '%s\n' "$MANAGED" | grep -v "^$1 $2\( \|\$\)"); managed_write; }

# ── one JSON line per operation ──
changed=0 unchanged=0 failed=0
report() { # op kind name status [error]
	case $4 in changed) changed=$((changed + 1)) ;; unchanged) unchanged=$((unchanged + 1)) ;; *) failed=$((failed + 1)) ;; esac
	if [ -n "${5:-}" ]; then
		printf '{"op":"%s","kind":"%s","name":"%s","status":"%s","error":"%s"}\n' "$1" "$2" "$3" "$4" "$(jstr "$5")"
	else
		printf '{"op":"%s","kind":"%s","name":"%s","status":"%s"}\n' "$1" "$2" "$3" "$4"
	fi
}

valid_name() { case $1 in '' | [!a-z_]* | *[!a-z0-9_-]*) return 1 ;; esac; [ ${#1} -le 32 ]; }
valid_id() { case $1 in '' | *[!0-9]*) return 1 ;; esac; [ "$1" -ge 1000 ] && [ "$1" -le 60000 ]; }
b64d() { printf '%s' "$1" | base64 -d; }
pw() { awk -F: -v u="$1" '$1==u{print;exit}' /etc/passwd; }
field() { printf '%s' "$1" | cut -d: -f"$2"; }
as_user() { # uid gid command...: never follow a link the user controls: act as the user
	u=$1 g=$2
	shift 2
	if command -v setpriv >/dev/null; then setpriv --reuid="$u" --regid="$g" --clear-groups -- "$@"; else runuser -u "#$u" -- "$@"; fi
}

# ── operations ──
op_group() { # name gid
	if getent group "$1" >/dev/null; then
		cur=$(awk -F: -v g="$1" '$1==g{print $3; exit}' /etc/group)
		[ "$cur" = "$2" ] && { report group group "$1" unchanged; return; }
		managed_has group "$1" || { report group group "$1" failed "group $1 exists with gid $cur and rollcall did not create it"; return; }
		groupmod -g "$2" "$1" 2>"$T/e" || { report group group "$1" failed "groupmod: $(cat "$T/e")"; return; }
	else
		managed_set group "$1" "$2"
		groupadd -g "$2" "$1" 2>"$T/e" || { report group group "$1" failed "groupadd: $(cat "$T/e")"; return; }
	fi
	managed_set group "$1" "$2"
	report group group "$1" changed
}

op_group_delete() { # name
	managed_has group "$1" || { report group-delete group "$1" failed "group $1 is not rollcall's"; return; }
	if getent group "$1" >/dev/null; then
		groupdel "$1" 2>"$T/e" || { report group-delete group "$1" failed "groupdel: $(cat "$T/e")"; return; }
		managed_del group "$1"
		report group-delete group "$1" changed
	else
		managed_del group "$1"
		report group-delete group "$1" unchanged
	fi
}

write_keys() { # login uid gid home content-file: authorized_keys exactly, written as the user
	# A home that is not there (an apply killed after useradd) is made; a link is refused.
	[ -L "$4" ] || [ -e "$4" ] || install -d -o "$2" -g "$3" -m 750 "$4" || { err="cannot create $4"; return 1; }
	if [ -L "$4" ] || [ ! -d "$4" ]; then err="home $4 is a link or not a folder: refusing"; return 1; fi
	s="$4/.ssh" k="$4/.ssh/authorized_keys"
	# Root's leftovers of a killed apply (install between mkdir and chown). The home sits in
	# root's /home, so the user cannot swap it: it is handed over (chown -h follows no link).
	# Inside it the user could swap names, so root's .ssh or key file is only moved aside, never
	# handed over, and the user's own is written in its place.
	if [ "$(stat -c %u "$4")" = 0 ]; then chown -h "$2:$3" "$4" || { err="cannot hand $4 to $1"; return 1; }; fi
	for p in "$k" "$s"; do
		if [ -e "$p" ] && [ ! -L "$p" ] && [ "$(stat -c %u "$p")" = 0 ]; then mkdir -p "$R/archive" && mv "$p" "$R/archive/$1-$(date +%s)-$(basename "$p")" || { err="cannot move $p aside"; return 1; }; fi
	done
	if [ -L "$s" ] || { [ -e "$s" ] && { [ ! -d "$s" ] || [ "$(stat -c %u "$s")" != "$2" ]; }; }; then err="$s is a link, not a folder, or not owned by $1: refusing"; return 1; fi
	if [ -L "$k" ] || { [ -e "$k" ] && { [ ! -f "$k" ] || [ "$(stat -c %u "$k")" != "$2" ]; }; }; then err="$k is a link, not a file, or not owned by $1: refusing"; return 1; fi
	if [ -f "$k" ] && as_user "$2" "$3" cmp -s "$k" - <"$5"; then
		[ "$(stat -c %a "$s")" = 700 ] && [ "$(stat -c %a "$k")" = 600 ] && return 0
	fi
	as_user "$2" "$3" sh -c 'umask 077; mkdir -p "$1" && chmod 700 "$1" && cat >"$2.rollcall" && chmod 600 "$2.rollcall" && mv -f "$2.rollcall" "$2"' sh "$s" "$k" <"$5" 2>"$T/e" || { err="writing $k: $(cat "$T/e")"; return 1; }
	did=1
}

op_user() { # login uid gid gecos64 home shell groups keys64 locked expires mode; "-" leaves a field, "=v" sets it
	login=$1 uid=$2 gid=$3 gecos=$4 home=$5 shell=$6 groups=$7 keys=$8 locked=$9
	shift 9
	expires=$1 how=$2 did= err=
	line=$(pw "$login")
	if [ -z "$line" ]; then
		user_create && report user user "$login" changed
		return
	fi
	cur_uid=$(field "$line" 3)
	{ [ "$login" = root ] || [ "$cur_uid" -lt 1000 ] || [ "$cur_uid" -gt 60000 ]; } && { report user user "$login" failed "$login is a system account: rollcall never changes it"; return; }
	if ! managed_user "$login" "$cur_uid"; then
		[ "$how" = adopt ] || { report user user "$login" failed "$login exists and rollcall did not create it (set adopt: true to take it over)"; return; }
		managed_set user "$login" "$cur_uid"
		did=1
	fi
	user_update && report user user "$login" "$([ -n "$did" ] && echo changed || echo unchanged)"
}

unlock() { # usermod -U leaves a bare "!" as it is (it would allow an empty password): make that "*"
	case $(awk -F: -v u="$1" '$1==u{print $2; exit}' /etc/shadow) in '!' | '!!' | '!*' | '!!*') usermod -p '*' "$1" ;; *) usermod -U "$1" ;; esac
}

user_create() { # a new account in one go: nobody can have touched its home yet
	[ "$uid" != - ] || { report user user "$login" failed "$login does not exist and the operation has no uid"; return 1; }
	u=${uid#=} g=${uid#=} h=/home/$login sh=/bin/sh c= grp=
	[ "$gid" = - ] || g=${gid#=}
	[ "$home" = - ] || h=${home#=}
	[ "$shell" = - ] || sh=${shell#=}
	[ "$gecos" = - ] || c=$(b64d "${gecos#=}")
	[ "$groups" = - ] || grp=${groups#=}
	managed_set user "$login" "$u"
	# A home left behind (an account removed by hand keeps it) is not trusted: moved aside whole.
	if [ -e "$h" ] || [ -L "$h" ]; then mkdir -p "$R/archive" && mv "$h" "$R/archive/$login-$(date +%Y%m%d%H%M%S)-found" || { report user user "$login" failed "cannot move the old $h aside"; return 1; }; fi
	getent group "$login" >/dev/null || groupadd -g "$g" "$login" 2>"$T/e" || { report user user "$login" failed "groupadd: $(cat "$T/e")"; return 1; }
	useradd -u "$u" -g "$g" -G "$grp" -c "$c" -d "$h" -s "$sh" -p '*' -M "$login" 2>"$T/e" || { report user user "$login" failed "useradd: $(cat "$T/e")"; return 1; }
	[ "$locked" != =1 ] || usermod -L "$login" || { report user user "$login" failed "usermod -L failed"; return 1; }
	[ "$expires" = - ] || [ "$expires" = =-1 ] || chage -E "${expires#=}" "$login" || { report user user "$login" failed "chage -E failed"; return 1; }
	install -d -o "$u" -g "$g" -m 750 "$h" || { report user user "$login" failed "cannot create $h"; return 1; }
	[ "$keys" = - ] && return 0
	b64d "${keys#=}" >"$T/keys" && install -d -o "$u" -g "$g" -m 700 "$h/.ssh" && install -o "$u" -g "$g" -m 600 "$T/keys" "$h/.ssh/authorized_keys" ||
		{ report user user "$login" failed "cannot write $h/.ssh/authorized_keys"; return 1; }
}

user_update() { # each attribute the operation sets, compared first and changed only when it differs
	cur_uid=$(field "$line" 3) cur_gid=$(field "$line" 4)
	if [ "$uid" != - ] && [ "${uid#=}" != "$cur_uid" ]; then
		# Intent first: both uids are recorded while usermod runs, then the old one is dropped.
		MANAGED="$MANAGED${nl}user $login ${uid#=}" && managed_write
		usermod -u "${uid#=}" "$login" 2>"$T/e" || { report user user "$login" failed "usermod -u: $(cat "$T/e")"; return 1; }
		MANAGED=$(printf '%s\n' "$MANAGED" | grep -vx "user $login $cur_uid") && managed_write
		did=1
	fi
	if [ "$gid" != - ] && [ "${gid#=}" != "$cur_gid" ]; then
		own=$(awk -F: -v g="$login" '$1==g{print $3; exit}' /etc/group)
		[ -z "$own" ] || [ "$own" = "$cur_gid" ] || { report user user "$login" failed "group $login (gid $own) is not $login's private group: refusing to renumber it"; return 1; }
		if [ -n "$own" ]; then groupmod -g "${gid#=}" "$login"; else groupadd -g "${gid#=}" "$login"; fi 2>"$T/e" &&
			usermod -g "${gid#=}" "$login" 2>>"$T/e" || { report user user "$login" failed "setting gid: $(cat "$T/e")"; return 1; }
		did=1
	fi
	if [ "$gecos" != - ]; then
		v=$(b64d "${gecos#=}")
		[ "$v" = "$(field "$line" 5)" ] || { usermod -c "$v" "$login" 2>"$T/e" || { report user user "$login" failed "usermod -c: $(cat "$T/e")"; return 1; }; did=1; }
	fi
	if [ "$home" != - ] && [ "${home#=}" != "$(field "$line" 6)" ]; then
		usermod -d "${home#=}" -m "$login" 2>"$T/e" || { report user user "$login" failed "usermod -d: $(cat "$T/e")"; return 1; }
		did=1
	fi
	if [ "$shell" != - ] && [ "${shell#=}" != "$(field "$line" 7)" ]; then
		usermod -s "${shell#=}" "$login" 2>"$T/e" || { report user user "$login" failed "usermod -s: $(cat "$T/e")"; return 1; }
		did=1
	fi
	if [ "$groups" != - ]; then
		want=$(printf '%s' "${groups#=}" | tr ',' '\n' | sort | tr '\n' ',')
		have=$(awk -F: -v u="$login" '{n=split($4,m,",");for(i=1;i<=n;i++)if(m[i]==u)print $1}' /etc/group | sort | tr '\n' ',')
		[ "$want" = "$have" ] || { usermod -G "${groups#=}" "$login" 2>"$T/e" || { report user user "$login" failed "usermod -G: $(cat "$T/e")"; return 1; }; did=1; }
	fi
	if [ "$locked" != - ] || [ "$expires" != - ]; then
		sw=$(awk -F: -v u="$login" '$1==u{print substr($2,1,1) ":" ($8==""?-1:$8); exit}' /etc/shadow)
		if [ "$locked" = =1 ] && [ "${sw%%:*}" != '!' ]; then usermod -L "$login" 2>"$T/e" || { report user user "$login" failed "usermod -L: $(cat "$T/e")"; return 1; }; did=1; fi
		if [ "$locked" = =0 ] && [ "${sw%%:*}" = '!' ]; then unlock "$login" 2>"$T/e" || { report user user "$login" failed "unlocking: $(cat "$T/e")"; return 1; }; did=1; fi
		if [ "$expires" != - ] && [ "${expires#=}" != "${sw#*:}" ]; then
			chage -E "${expires#=}" "$login" 2>"$T/e" || { report user user "$login" failed "chage -E: $(cat "$T/e")"; return 1; }
			did=1
		fi
	fi
	if [ "$keys" != - ]; then
		line=$(pw "$login")
		b64d "${keys#=}" >"$T/keys" || { report user user "$login" failed "the keys are not base64"; return 1; }
		write_keys "$login" "$(field "$line" 3)" "$(field "$line" 4)" "$(field "$line" 6)" "$T/keys" || { report user user "$login" failed "$err"; return 1; }
	fi
}

check_managed_user() { # op login: sets line; refuses what is not rollcall's
	line=$(pw "$2")
	u=$(field "$line" 3)
	managed_user "$2" "$u" || { report "$1" user "$2" failed "$2 is not rollcall's: refusing"; return 1; }
	if [ "$2" = root ] || [ "$u" -lt 1000 ] || [ "$u" -gt 60000 ]; then report "$1" user "$2" failed "$2 is a system account: refusing"; return 1; fi
}

op_lock() { # login: password locked, expired, no keys, no groups, sessions ended
	[ -n "$(pw "$1")" ] || { report lock user "$1" unchanged; return; }
	check_managed_user lock "$1" || return
	did=
	pass=$(awk -F: -v u="$1" '$1==u{print $2 ":" $8; exit}' /etc/shadow)
	case $pass in '!'*) ;; *) usermod -L "$1" 2>"$T/e" || { report lock user "$1" failed "usermod -L: $(cat "$T/e")"; return; }; did=1 ;; esac
	[ "${pass#*:}" = 1 ] || { chage -E 1 "$1" 2>"$T/e" || { report lock user "$1" failed "chage -E: $(cat "$T/e")"; return; }; did=1; }
	[ -z "$(id -Gn "$1" | tr ' ' '\n' | grep -vx "$(id -gn "$1")")" ] || { usermod -G '' "$1" 2>"$T/e" || { report lock user "$1" failed "usermod -G: $(cat "$T/e")"; return; }; did=1; }
	: >"$T/none"
	k="$(field "$line" 6)/.ssh/authorized_keys"
	if [ -s "$k" ] || [ -L "$k" ]; then write_keys "$1" "$(field "$line" 3)" "$(field "$line" 4)" "$(field "$line" 6)" "$T/none" || { report lock user "$1" failed "$err"; return; }; fi
	pkill -KILL -U "$(field "$line" 3)" 2>/dev/null && did=1
	report lock user "$1" "$([ -n "$did" ] && echo changed || echo unchanged)"
}

op_delete() { # login: account removed, home kept under /var/lib/rollcall/archive
	if [ -z "$(pw "$1")" ]; then managed_has user "$1" && managed_del user "$1"; report delete user "$1" unchanged; return; fi
	check_managed_user delete "$1" || return
	pkill -KILL -U "$(field "$line" 3)" 2>/dev/null
	h=$(field "$line" 6)
	if [ -d "$h" ] && [ ! -L "$h" ]; then
		mkdir -p "$R/archive" && a="$R/archive/$1-$(date +%Y%m%d%H%M%S)" && mv "$h" "$a" || { report delete user "$1" failed "cannot archive $h"; return; }
	fi
	userdel "$1" 2>"$T/e" || { report delete user "$1" failed "userdel: $(cat "$T/e")"; return; }
	# The private group goes too, if it is the user's (its gid) and nobody else is in it.
	awk -F: -v g="$1" -v gid="$(field "$line" 4)" '$1==g && $3==gid && ($4=="" || $4==g){found=1} END{exit !found}' /etc/group && groupdel "$1" 2>/dev/null
	managed_del user "$1"
	report delete user "$1" changed
}

op_sudoers() { # file content64: checked with visudo before it is moved into place
	d=/etc/sudoers.d
	b64d "$2" >"$T/s" || { report sudoers sudoers "$1" failed "content is not base64"; return; }
	if [ -f "$d/$1" ] && [ ! -L "$d/$1" ] && cmp -s "$d/$1" "$T/s" && [ "$(stat -c %a "$d/$1")" = 440 ]; then
		managed_set sudoers "$1"
		report sudoers sudoers "$1" unchanged
		return
	fi
	mkdir -p "$d"
	# The dot keeps sudo from reading a file left behind by a kill; visudo checks it first.
	new="$d/.$1.rollcall" && cp "$T/s" "$new" && chmod 440 "$new" || { report sudoers sudoers "$1" failed "cannot write $new"; return; }
	if ! visudo -cqf "$new" >"$T/e" 2>&1; then
		rm -f "$new"
		report sudoers sudoers "$1" failed "visudo rejected it, the previous file stays: $(cat "$T/e")"
		return
	fi
	managed_set sudoers "$1"
	mv -f "$new" "$d/$1" || { report sudoers sudoers "$1" failed "cannot move it into place"; return; }
	report sudoers sudoers "$1" changed
}

op_sudoers_delete() { # file
	managed_has sudoers "$1" || { report sudoers-delete sudoers "$1" failed "$1 is not rollcall's"; return; }
	if [ -e "/etc/sudoers.d/$1" ]; then rm -f "/etc/sudoers.d/$1"; managed_del sudoers "$1"; report sudoers-delete sudoers "$1" changed
	else managed_del sudoers "$1"; report sudoers-delete sudoers "$1" unchanged; fi
}

kind_of() { case $1 in group*) K=group ;; sudoers*) K=sudoers ;; *) K=user ;; esac; }

# The numbers of the operations that already hold, found in one awk pass over the account files:
# a converged instance answers "unchanged" without a process per account. Anything in doubt is
# left to the operation itself. authorized_keys are read only where find says the file and its
# folder are the user's own, not links.
settled() {
	awk -F'\t' '$1 == "user" && $9 != "-" { print $2 } $1 == "lock" { print $2 }' "$T/body" >"$T/ku"
	awk -F: 'NR == FNR { k[$1]; next } ($1 in k) { print $6 "/.ssh"; print $6 "/.ssh/authorized_keys" }' "$T/ku" /etc/passwd |
		tr '\n' '\000' | xargs -0 -r sh -c 'find -P "$@" -maxdepth 0 -printf "%y %U %p\n" 2>/dev/null' sh >"$T/found"
	printf '%s\n' "$MANAGED" >"$T/managed"
	awk -F'\t' -v found="$T/found" -v managed="$T/managed" '
	function b64(s,   o, i, v, bits, x) {
		o = ""; v = 0; bits = 0
		for (i = 1; i <= length(s); i++) { x = substr(s, i, 1); if (x == "=") break
			v = v * 64 + B[x]; bits += 6; if (bits >= 8) { bits -= 8; x = int(v / 2 ^ bits); o = o sprintf("%c", x); v -= x * 2 ^ bits } }
		return o
	}
	function keysfile(u,   f, c, l) { f = H[u] "/.ssh/authorized_keys"
		if (ty[H[u] "/.ssh"] != "d" || ow[H[u] "/.ssh"] != U[u] || ty[f] != "f" || ow[f] != U[u]) return "\001"
		c = ""; while ((getline l < f) > 0) c = c l "\n"; close(f); return c }
	function same_groups(u, want,   n, w, i, seen) { n = split(want, w, ",")
		if (n != nsup[u]) return 0
		for (i = 1; i <= n; i++) { if (!((u SUBSEP w[i]) in member) || (w[i] in seen)) return 0; seen[w[i]] = 1 }
		return 1 }
	function v(f) { return substr(f, 2) }
	BEGIN {
		a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"; for (i = 1; i <= 64; i++) B[substr(a, i, 1)] = i - 1
		while ((getline l < managed) > 0) { man[l] = 1; split(l, w, " "); mname[w[1] " " w[2]] = 1 }
		while ((getline l < found) > 0) { t = substr(l, 1, 1); l = substr(l, 3); o = substr(l, 1, index(l, " ") - 1); p = substr(l, index(l, " ") + 1); ty[p] = t; ow[p] = o }
		while ((getline l < "/etc/passwd") > 0) { split(l, w, ":"); if (w[1] in U) continue; U[w[1]] = w[3]; GI[w[1]] = w[4]; C[w[1]] = w[5]; H[w[1]] = w[6]; S[w[1]] = w[7] }
		while ((getline l < "/etc/shadow") > 0) { split(l, w, ":"); L[w[1]] = substr(w[2], 1, 1) == "!"; E[w[1]] = w[8] == "" ? -1 : w[8] }
		while ((getline l < "/etc/group") > 0) { split(l, w, ":"); G[w[1]] = w[3]; n = split(w[4], m, ",")
			for (i = 1; i <= n; i++) if (!((m[i] SUBSEP w[1]) in member)) { member[m[i], w[1]] = 1; nsup[m[i]]++ } }
	}
	$1 == "group" && G[$2] == $3 && $2 in G { print NR }
	$1 == "group-delete" && !($2 in G) && !man["group " $2] { print NR }
	$1 == "delete" && !($2 in U) && !(("user " $2) in mname) { print NR }
	$1 == "user" && ($2 in U) && man["user " $2 " " U[$2]] && $2 != "root" && U[$2] >= 1000 && U[$2] <= 60000 {
		u = $2
		if (($3 == "-" || v($3) == U[u]) && ($4 == "-" || v($4) == GI[u]) && ($5 == "-" || b64(v($5)) == C[u]) && ($6 == "-" || v($6) == H[u]) &&
			($7 == "-" || v($7) == S[u]) && ($8 == "-" || same_groups(u, v($8))) && ($10 == "-" || v($10) == L[u]) && ($11 == "-" || v($11) == E[u]) &&
			($9 == "-" || b64(v($9)) == keysfile(u))) print NR
	}
	$1 == "lock" && ($2 in U) && man["user " $2 " " U[$2]] && L[$2] && E[$2] == 1 && nsup[$2] == 0 && (keysfile($2) == "" || keysfile($2) == "\001" && ty[H[$2] "/.ssh/authorized_keys"] == "") { print NR }
	' "$T/body"
}

apply() {
	case $ops in '' | *[!A-Za-z0-9+/=]*) die 'ops must be base64 of gzip' ;; esac
	printf '%s' "$ops" | base64 -d 2>/dev/null | gzip -dc >"$T/ops" 2>/dev/null || die 'ops is not base64 of gzip'
	IFS=$tab read -r magic version gen <"$T/ops"
	[ "$magic" = rollcall-ops ] && [ "$version" = 1 ] || die 'ops has no rollcall-ops 1 header'
	case $gen in '' | *[!0-9]*) die 'the generation is not a number' ;; esac
	# One apply at a time: flock where there is one, else a mkdir lock.
	if command -v flock >/dev/null; then
		exec 9>"$R/lock" && flock -w 600 9 || die 'another apply holds the lock'
	else
		n=0
		until mkdir "$R/lock.d" 2>/dev/null; do n=$((n + 1)); [ $n -gt 600 ] && die 'another apply holds the lock'; sleep 1; done
		trap 'rmdir "$R/lock.d"; cleanup' EXIT
	fi
	last=$(cat "$R/generation" 2>/dev/null || echo 0)
	if [ "$gen" -lt "$last" ]; then
		printf '{"summary":{"changed":0,"unchanged":0,"failed":0},"generation":%s,"refused":"generation %s is older than %s, the last applied here"}\n' "$gen" "$gen" "$last"
		exit 3
	fi
	printf '%s\n' "$gen" >"$R/generation.new" && mv -f "$R/generation.new" "$R/generation"
	# An apply that was killed can leave shadow-utils' files out of step (group written, gshadow
	# not yet): pwconv and grpconv bring shadow and gshadow back in line with passwd and group.
	[ -e "$R/applying" ] && { pwconv; grpconv; } 2>/dev/null
	: >"$R/applying"
	MANAGED=$(cat "$M")
	tail -n +2 "$T/ops" >"$T/body"
	settled=" $(settled | tr '\n' ' ') "
	n=0
	while IFS=$tab read -r op a b c d e f g h i j k; do
		n=$((n + 1))
		kind_of "$op"
		case $settled in *" $n "*) report "$op" "$K" "$a" unchanged; continue ;; esac
		case $op in user | lock | delete | group | group-delete) valid_name "$a" || { report "$op" "$K" invalid failed 'not a valid name'; continue; } ;; esac
		case $op in
		group) valid_id "$b" && op_group "$a" "$b" || report group group "$a" failed 'gid out of range' ;;
		group-delete) op_group_delete "$a" ;;
		user)
			case $b in - | =*) ;; *) b=x ;; esac
			[ "$b" = - ] || valid_id "${b#=}" || { report user user "$a" failed 'uid out of range'; continue; }
			op_user "$a" "$b" "$c" "$d" "$e" "$f" "$g" "$h" "$i" "$j" "$k" ;;
		lock) op_lock "$a" ;;
		delete) op_delete "$a" ;;
		sudoers | sudoers-delete)
			case $a in rollcall-[a-z]*) ;; *) report "$op" sudoers invalid failed 'not a rollcall sudoers file'; continue ;; esac
			case $a in *[!a-z0-9_-]*) report "$op" sudoers invalid failed 'not a rollcall sudoers file'; continue ;; esac
			if [ "$op" = sudoers ]; then op_sudoers "$a" "$b"; else op_sudoers_delete "$a"; fi ;;
		'') ;;
		*) report "$op" unknown unknown failed 'unknown operation' ;;
		esac
	done <"$T/body"
	rm -f "$R/applying"
	printf '{"summary":{"changed":%d,"unchanged":%d,"failed":%d},"generation":%s}\n' "$changed" "$unchanged" "$failed" "$gen"
	[ "$failed" = 0 ]
}

inventory() {
	case $page in '') page=0 ;; *[!0-9]*) die 'page must be a number' ;; esac
	# Key fingerprints: each authorized_keys line of a managed user (never through a link), folded
	# as the planner folds it, hashed in one sha256sum call. Only for the users this page can hold:
	# a managed user takes at least 130 bytes of the 23,000, so 180 from the page's start suffice.
	# One small file per key line: on a tmpfs when there is one (many times faster to create there).
	KD=$(mktemp -d /dev/shm/rollcall.XXXXXX 2>/dev/null) || { KD=$T/k; mkdir "$KD"; }
	awk -F: -v page="$page" -v managed="$M" 'BEGIN { while ((getline l < managed) > 0) { split(l, w, " "); if (w[1] == "user") m[w[2]] = 1 } }
		$3 ~ /^[0-9]+$/ && $4 ~ /^[0-9]+$/ { if (idx++ >= page && ($1 in m)) { print $1 "\t" $6; if (++n == 180) exit } }' /etc/passwd |
		while IFS=$tab read -r u h; do
			[ -n "$h" ] && [ ! -L "$h" ] && [ ! -L "$h/.ssh" ] && [ -f "$h/.ssh/authorized_keys" ] && [ ! -L "$h/.ssh/authorized_keys" ] && printf '%s\t%s\n' "$u" "$h/.ssh/authorized_keys"
		done >"$T/akfiles"
	awk -F'\t' -v dir="$KD" '{
		while ((getline l < $2) > 0) { gsub(/^[ \t]+|[ \t]+$/, "", l); gsub(/[ \t]+/, " ", l); if (l == "" || l ~ /^#/) continue
			n++; f = dir "/" n; printf "%s", l > f; close(f); print n, $1 }
		close($2) }' "$T/akfiles" >"$T/kmap"
	if [ -s "$T/kmap" ]; then (cd "$KD" && sha256sum -- *) >"$T/ksum"; else : >"$T/ksum"; fi
	for f in $(awk '$1=="sudoers"{print $2}' "$M"); do [ -f "/etc/sudoers.d/$f" ] && [ ! -L "/etc/sudoers.d/$f" ] && printf '%s\n' "$f"; done >"$T/sfiles"
	awk -v page="$page" -v budget=23000 -v kmap="$T/kmap" -v ksum="$T/ksum" -v sfiles="$T/sfiles" -v managed="$M" '
	function js(s,   o, i, n, c, b, k, j, x, ok) {
		if (s !~ /[^ -~]|["\\]/) return "\"" s "\""
		o = ""; n = length(s)
		for (i = 1; i <= n; i++) {
			c = substr(s, i, 1); b = ord[c]
			if (b < 128) { if (c == "\"" || c == "\\") o = o "\\" c; else if (b < 32 || b == 127) o = o sprintf("\\u%04x", b); else o = o c; continue }
			k = b >= 194 && b <= 223 ? 1 : b >= 224 && b <= 239 ? 2 : b >= 240 && b <= 244 ? 3 : 0
			ok = k > 0 && i + k <= n
			for (j = 1; ok && j <= k; j++) { x = ord[substr(s, i + j, 1)]; if (x < 128 || x > 191) ok = 0
				if (j == 1 && ((b == 224 && x < 160) || (b == 237 && x > 159) || (b == 240 && x < 144) || (b == 244 && x > 143))) ok = 0 }
			if (ok) { o = o substr(s, i, k + 1); i += k } else o = o "\357\277\275"
		}
		return "\"" o "\""
	}
	function ymd(z,   era, doe, yoe, y, doy, mp, d, m) {
		z += 719468; era = int((z >= 0 ? z : z - 146096) / 146097); doe = z - era * 146097
		yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365); y = yoe + era * 400
		doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100)); mp = int((5 * doy + 2) / 153)
		d = doy - int((153 * mp + 2) / 5) + 1; m = mp < 10 ? mp + 3 : mp - 9; if (m <= 2) y++
		return sprintf("\"%04d-%02d-%02d\"", y, m, d)
	}
	# Adds one item to the page, or, when it would not fit, ends the page before it.
	function emit(part, text) { if (out + length(text) > budget && count > 0) { next_page = idx - 1; return 0 } buf[part] = buf[part] (seen[part]++ ? "," : "") text; out += length(text) + 1; count++; return 1 }
	BEGIN {
		FS = ":"; for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i
		while ((getline l < managed) > 0) { split(l, w, " "); man[w[1] " " w[2]] = 1; if (w[1] == "user") muser[w[2] " " w[3]] = 1 }
		while ((getline l < kmap) > 0) { split(l, w, " "); owner[w[1]] = w[2] }
		while ((getline l < ksum) > 0) { split(l, w, " "); sub(/^.*\//, "", w[2]); keys[owner[w[2]]] = keys[owner[w[2]]] (keys[owner[w[2]]] == "" ? "" : ",") "\"sha256:" w[1] "\"" }
		while ((getline l < "/etc/shadow") > 0) { split(l, w, ":"); locked[w[1]] = substr(w[2], 1, 1) == "!" ? "true" : "false"; expd[w[1]] = w[8] }
		while ((getline l < "/etc/passwd") > 0) { split(l, w, ":"); if (w[3] !~ /^[0-9]+$/ || w[4] !~ /^[0-9]+$/) continue; np++; pl[np] = l; private[w[1] ":" w[4]] = 1 }
		while ((getline l < "/etc/group") > 0) { split(l, w, ":"); if (w[3] !~ /^[0-9]+$/) continue; ng++; gl[ng] = l; n = split(w[4], mem, ",")
			for (i = 1; i <= n; i++) if (!private[mem[i] ":" w[3]] || mem[i] != w[1]) sup[mem[i]] = sup[mem[i]] (sup[mem[i]] == "" ? "" : ",") js(w[1]) }
		next_page = ""; idx = 0
		for (p = 1; p <= np && next_page == ""; p++) {
			if (idx++ < page) continue
			split(pl[p], w, ":"); u = w[1]
			if (muser[u " " w[3]]) text = "{\"login\":" js(u) ",\"uid\":" w[3] ",\"gid\":" w[4] ",\"name\":" js(w[5]) ",\"home\":" js(w[6]) ",\"shell\":" js(w[7]) ",\"groups\":[" sup[u] "],\"sshKeys\":[" keys[u] "],\"locked\":" (u in locked ? locked[u] : "false") ",\"expires\":" (expd[u] ~ /^[0-9]+$/ ? ymd(expd[u] - 1) : "null") ",\"managed\":true}"
			else text = "{\"login\":" js(u) ",\"uid\":" w[3] ",\"managed\":false}"
			if (!emit("u", text)) break
		}
		for (g = 1; g <= ng && next_page == ""; g++) {
			split(gl[g], w, ":")
			if (private[w[1] ":" w[3]]) continue
			if (idx++ < page) continue
			n = split(w[4], mem, ","); m = ""; for (i = 1; i <= n; i++) m = m (i > 1 ? "," : "") js(mem[i])
			# A private group whose user is not there (an apply killed between groupadd and useradd) is managed too.
			if (!emit("g", "{\"name\":" js(w[1]) ",\"gid\":" w[3] ",\"members\":[" m "],\"managed\":" (man["group " w[1]] || muser[w[1] " " w[3]] ? "true" : "false") "}")) break
		}
		while (next_page == "" && (getline f < sfiles) > 0) {
			if (idx++ < page) continue
			c = ""; while ((getline l < ("/etc/sudoers.d/" f)) > 0) c = c l "\n"; close("/etc/sudoers.d/" f)
			if (!emit("s", js(f) ":" js(c))) break
		}
		printf "{\"users\":[%s],\"groups\":[%s],\"sudoers\":{%s}%s}\n", buf["u"], buf["g"], buf["s"], next_page == "" ? "" : ",\"nextPage\":\"" next_page "\""
	}'
}

case $mode in
inventory) inventory ;;
apply) apply ;;
*) die 'mode must be inventory or apply' ;;
esac
