#!/bin/bash
# t_perms.sh - Unix permissions are the access control (issue 13, Access):
# as unprivileged users (nobody, and a test user who owns one namespace
# with a test group), writes outside what they own are EACCES with a line
# in /cluster/errors where the API refused them, nothing changes; reads of
# a 2770 namespace (its pods, their logs) are refused to others; the
# ownership (chown, chmod on namespaces/NS) is shown by ls -l and survives
# a restart; root still does everything.  Control plane only (--no-agent).
. "$(dirname "$0")/lib.sh"

U=cfsperm$$ # the namespace's owner ("alice")
G=cfspermg$$ # its group ("dev")
P_SAVED=""   # the run dir's mode, restored at the end
perm_cleanup() {
	userdel "$U" >/dev/null 2>&1
	groupdel "$G" >/dev/null 2>&1
	groupdel "$U" >/dev/null 2>&1
	[ -n "$P_SAVED" ] && chmod "$P_SAVED" "$(dirname "$T_BASE")"
}
trap 'rc=$?; perm_cleanup; (exit $rc); cfs_cleanup' EXIT

groupadd "$G" || cfs_abort "groupadd $G"
useradd -M -N -g "$G" -s /usr/sbin/nologin "$U" || cfs_abort "useradd $U"
# The mount is under the test's temp dirs (0700): let others through.
P_SAVED=$(stat -c %a "$(dirname "$T_BASE")")
chmod o+x "$(dirname "$T_BASE")" "$T_BASE"
chmod 755 "$WORK"

as() { # USER CMD...: runs CMD as USER with their groups
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- "$@"
}
st() { stat -c '%A %U %G' "$1"; }
NOGROUP=$(id -gn nobody)
as_write() { # USER PATH SRC: cfs_write as USER (close() errors reported)
	as "$1" "$PY" -c "$CFS_PYWRITE" "$2" "$3"
}

cfs_start || cfs_abort "server starts and mounts $MNT"

pod() { # NAME [NAMESPACE]
	printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n' "$1"
	[ -n "${2:-}" ] && printf '  namespace: %s\n' "$2"
	printf 'spec:\n  containers:\n  - name: c\n    image: busybox\n'
}
pod p >"$WORK/p.yaml"
pod q team-a >"$WORK/q.yaml"
web_deployment web 1 >"$WORK/web.yaml"
sed 's/name: p$/name: p3/' "$WORK/p.yaml" >"$WORK/p3.yaml"
sed 's/name: web$/name: web2\n  namespace: team-a/' "$WORK/web.yaml" >"$WORK/web2.yaml"
sed 's/name: web$/name: web3\n  namespace: team-a/' "$WORK/web.yaml" >"$WORK/web3.yaml"
chmod 644 "$WORK"/*.yaml
cp "$WORK/p.yaml" "$MNT/pods/" || cfs_abort "root writes pods/p.yaml"
mkdir "$MNT/namespaces/team-a" || cfs_abort "root makes namespace team-a"
cp "$WORK/q.yaml" "$MNT/namespaces/team-a/pods/" || cfs_abort "root writes team-a's pod"
cp "$WORK/web.yaml" "$MNT/deployments/" || cfs_abort "root writes deployments/web.yaml"

# Defaults: root's, 0755; nobody reads what is not secret, writes nothing.
check_eq "namespaces/team-a is root:root drwxr-xr-x" "drwxr-xr-x root root" "$(st "$MNT/namespaces/team-a")"
check_eq "pods/p.yaml is root's, rw-r--r--" "-rw-r--r-- root root" "$(st "$MNT/pods/p.yaml")"
check "nobody lists pods/" as nobody ls "$MNT/pods"
check_contains "nobody reads default's pod" "$(as nobody cat "$MNT/pods/p.yaml")" "name: p"
check "nobody reads team-a's pod (0755)" as nobody cat "$MNT/namespaces/team-a/pods/q.yaml"
expect_errno EACCES "nobody cp into pods/" as nobody cp "$WORK/p.yaml" "$MNT/pods/p2.yaml"
expect_errno EACCES "nobody overwrites pods/p.yaml" as nobody sh -c "echo x > $MNT/pods/p.yaml"
expect_errno EACCES "nobody rm pods/p.yaml" as nobody rm -f "$MNT/pods/p.yaml"
expect_errno EACCES "nobody mkdir a namespace" as nobody mkdir "$MNT/namespaces/evil"
expect_errno EACCES "nobody rmdir a namespace" as nobody rmdir "$MNT/namespaces/team-a"
expect_errno EACCES "nobody writes a one-value file" \
	as nobody sh -c "echo 5 > $MNT/deployments/web/replicas"
expect_errno EPERM "nobody chmod namespaces/team-a" as nobody chmod 777 "$MNT/namespaces/team-a"
expect_refusal EACCES 'pods "p3" is forbidden: User "nobody" cannot create' \
	"nobody writes a pod through /cluster/apply" as_write nobody "$MNT/apply" "$WORK/p3.yaml"
check_not "nothing was made" test -e "$MNT/pods/p3.yaml"
check "pods/p.yaml is still there" test -e "$MNT/pods/p.yaml"

# chown and chmod: the namespace is the test user's and group's, 2770.
check "root: chown U:G namespaces/team-a" chown "$U:$G" "$MNT/namespaces/team-a"
check "root: chmod 2770 namespaces/team-a" chmod 2770 "$MNT/namespaces/team-a"
check_eq "ls -l shows drwxrws--- U G" "drwxrws--- $U $G" "$(st "$MNT/namespaces/team-a")"
check_eq "its pods/ folder: drwxrwx--- U G" "drwxrwx--- $U $G" "$(st "$MNT/namespaces/team-a/pods")"
check_eq "its pod manifest: -rw-rw----" "-rw-rw---- $U $G" "$(st "$MNT/namespaces/team-a/pods/q.yaml")"
check_contains "kept as annotations" "$(cat "$MNT/namespaces/team-a.yaml")" "clusterfs.io/mode: \"2770\""
expect_errno EPERM "the owner may not give the namespace away" \
	as "$U" chown nobody "$MNT/namespaces/team-a"
expect_errno EPERM "nor give it to a group not theirs" \
	as "$U" chgrp "$NOGROUP" "$MNT/namespaces/team-a"
check "the owner may chmod it (2750)" as "$U" chmod 2750 "$MNT/namespaces/team-a"
check_eq "now drwxr-s---" "drwxr-s---" "$(stat -c %A "$MNT/namespaces/team-a")"
check "and back (2770)" as "$U" chmod 2770 "$MNT/namespaces/team-a"

# The owner creates, changes and deletes a deployment in team-a.
TA=$MNT/namespaces/team-a
check "U creates team-a's deployment" as "$U" cp "$WORK/web.yaml" "$TA/deployments/web.yaml"
check_eq "it is there" "1" "$(cat "$TA/deployments/web/replicas")"
check "U changes its replicas" as "$U" sh -c "echo 2 > $TA/deployments/web/replicas"
check_eq "replicas now 2" "2" "$(cat "$TA/deployments/web/replicas")"
check "U edits its manifest (sed -i)" as "$U" sed -i 's/replicas: 2/replicas: 3/' "$TA/deployments/web.yaml"
check_eq "replicas now 3" "3" "$(cat "$TA/deployments/web/replicas")"
check "U reads team-a's pod logs" as "$U" cat "$TA/pods/q/logs"
check "U deletes it" as "$U" rm "$TA/deployments/web.yaml"
check_not "it is gone" test -e "$TA/deployments/web.yaml"
expect_errno EACCES "U may not write default" as "$U" cp "$WORK/web.yaml" "$MNT/deployments/"
expect_refusal EACCES 'namespace "default" is owned by root:root mode 0755' \
	"U's apply into default is refused" as_write "$U" "$MNT/apply" "$WORK/web.yaml"
check "U applies into team-a through /cluster/apply" as_write "$U" "$MNT/apply" "$WORK/web2.yaml"
check "web2 is in team-a" test -e "$TA/deployments/web2.yaml"

# Others: nothing of team-a, not even its logs.
expect_errno EACCES "nobody lists team-a" as nobody ls "$TA"
expect_errno EACCES "nobody lists team-a's pods" as nobody ls "$TA/pods"
expect_errno EACCES "nobody reads team-a's pod logs" as nobody cat "$TA/pods/q/logs"
expect_errno EACCES "nobody writes into team-a" as nobody cp "$WORK/web.yaml" "$TA/deployments/"
expect_refusal EACCES 'namespace "team-a" is owned by' "nobody's apply into team-a is refused" \
	as_write nobody "$MNT/apply" "$WORK/web3.yaml"
check_not "web3 was not made" test -e "$TA/deployments/web3.yaml"

# The ownership survives a restart.
cfs_stop || fail "server stops"
cfs_start || cfs_abort "server restarts"
check_eq "after a restart: drwxrws--- U G" "drwxrws--- $U $G" "$(st "$MNT/namespaces/team-a")"
expect_errno EACCES "after a restart nobody still cannot list team-a" as nobody ls "$TA"

# Root still does everything.
check "root writes into team-a" cp "$WORK/web.yaml" "$TA/deployments/web.yaml"
check "root deletes there" rm "$TA/deployments/web.yaml"
check "root chmod back to 0755" chmod 0755 "$TA"
check "nobody lists team-a again" as nobody ls "$TA/pods"
check "root removes team-a" rmdir "$TA"
cfs_done
