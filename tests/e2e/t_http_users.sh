#!/bin/bash
# t_http_users.sh - users' tokens (http/tokens.c) and the one access rule
# over HTTP: `clusterfs token issue` gives a Unix user a token; kubectl with
# it reads what the user may read and writes only where the namespace's
# owner, group and mode let the user write (the same rule as the mount's);
# a refusal is 403 with a Status that says why, and a line in errors; a
# 0770 namespace does not leak through `get pods -A`; a hand-written line
# of DATA_DIR/tokens works at once; revoke makes the token 401 at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

U=cfsu$$  # owns team-a
G=cfsug$$ # its group
users_cleanup() {
	userdel "$U" >/dev/null 2>&1
	groupdel "$G" >/dev/null 2>&1
}
trap 'rc=$?; users_cleanup; (exit $rc); cfs_cleanup' EXIT
groupadd "$G" || cfs_abort "groupadd $G"
useradd -M -N -g "$G" -s /usr/sbin/nologin "$U" || cfs_abort "useradd $U"

cfs_start --no-agent || cfs_abort "server starts and mounts $MNT"
http_env
K=$(kubectl_newest)

mkdir "$MNT/namespaces/team-a" "$MNT/namespaces/team-b" || cfs_abort "namespaces"
chown "$U:$G" "$MNT/namespaces/team-a" && chmod 2770 "$MNT/namespaces/team-a" ||
	cfs_abort "chown, chmod team-a"
chmod 0700 "$MNT/namespaces/team-b" || cfs_abort "chmod team-b"
cm() { printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  k: v\n' "$1"; }
cm base >"$WORK/base.yaml"
cp "$WORK/base.yaml" "$MNT/configmaps/" && cp "$WORK/base.yaml" "$MNT/namespaces/team-b/configmaps/" ||
	cfs_abort "root's configmaps"

# Issue: the token is printed once; the file keeps its hash only.
UT=$("$CLUSTERFS" token issue --data-dir "$DATA" "$U") || cfs_abort "token issue $U"
check_contains "an issued token is cfsu1.HEX" "$UT" "cfsu1."
check_not_contains "the file keeps no usable token" "$(cat "$DATA/tokens")" "$UT"
check_eq "the tokens file is 0600" 600 "$(stat -c %a "$DATA/tokens")"
out=$("$CLUSTERFS" token issue --data-dir "$DATA" no-such-user-$$ 2>&1)
check_eq "no token for a user the machine does not know" \
	"1 clusterfs: token issue: no-such-user-$$: no such Unix user" "$? $out"

ku() { "$K" --token "$UT" "$@"; } # kubectl as U (the kubeconfig's server and CA)

# Reads: the user's own namespace and a 0755 one; not a 0700 one.
check "U: get configmaps in default (0755)" ku get configmaps base
check "U: get configmaps in team-a (theirs)" ku -n team-a get configmaps
out=$(ku -n team-b get configmaps 2>&1)
check_contains "U: team-b (0700) is 403 with the reason" "$out" \
	'User "'"$U"'" cannot list resource "configmaps" in API group "" in the namespace "team-b": namespace "team-b" is owned by root:root mode 0700'
out=$(ku get configmaps -A -o name 2>&1)
check_contains "U: get -A lists default's" "$out" "configmap/base"
check_eq "U: get -A shows nothing of team-b" "1" "$(printf '%s\n' "$out" | grep -c 'configmap/base')"

# Writes: in team-a yes; in default no (403, a Status, a line in errors).
cm mine >"$WORK/mine.yaml"
check "U: create in team-a" ku -n team-a create -f "$WORK/mine.yaml"
check_contains "it is in the mount" "$(cat "$MNT/namespaces/team-a/configmaps/mine.yaml")" "k: v"
check "U: delete in team-a" ku -n team-a delete configmap mine
check_not "it is gone" test -e "$MNT/namespaces/team-a/configmaps/mine.yaml"
out=$(ku create -f "$WORK/mine.yaml" 2>&1)
check_contains "U: create in default is Forbidden" "$out" \
	'configmaps is forbidden: User "'"$U"'" cannot create resource "configmaps"'
check_contains "the reason names default's ownership" "$out" \
	'namespace "default" is owned by root:root mode 0755'
check_not "nothing was made" test -e "$MNT/configmaps/mine.yaml"
body=$(c /api/v1/namespaces/default/configmaps/base -X DELETE -H "Authorization: Bearer $UT")
check_eq "curl DELETE as U: 403 Forbidden" "403 Forbidden" "$(code) $(printf %s "$body" | jv 'd["reason"]')"
check_contains "a line in errors" "$(tail -n 3 "$MNT/errors")" "DELETE /api/v1/namespaces/default/configmaps/base"
check "base is still there" test -e "$MNT/configmaps/base.yaml"
out=$(ku delete node n1 2>&1)
check_contains "U: cluster-scoped writes are root's" "$out" "forbidden"
out=$(ku create namespace evil 2>&1)
check_contains "U: no new namespaces" "$out" "forbidden"

# A hand-written line (kube-apiserver's format, a group) works at once.
printf 'hand-token-%s,nobody,,"%s"\n' "$$" "$G" >>"$DATA/tokens"
NT=hand-token-$$
check "nobody (in G by the line): create in team-a" \
	"$K" --token "$NT" -n team-a create configmap fromline --from-literal=a=b
check "it is in the mount" test -e "$MNT/namespaces/team-a/configmaps/fromline.yaml"
check "the admin token still does everything" "$K" -n team-b delete configmap base

# Revoke: 401 at once.
check "token revoke U" "$CLUSTERFS" token revoke --data-dir "$DATA" "$U"
c /api/v1/namespaces/default/configmaps -H "Authorization: Bearer $UT" >/dev/null
check_eq "the revoked token: 401" 401 "$(code)"
c /api/v1/namespaces/default/configmaps -H "Authorization: Bearer $NT" >/dev/null
check_eq "the other user's token still works" 200 "$(code)"
cfs_done
