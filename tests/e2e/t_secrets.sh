#!/bin/bash
# t_secrets.sh - Secrets (issue 14): kubectl create secret generic, get -o
# yaml and its table; the filesystem's secrets/NAME/KEY files with the
# decoded value (read, write, a new key, rm), stringData merged into data,
# a type's required keys refused without echoing a value, the files
# showing no bits for others and a non-owner refused.  Control plane only.
# TODO (issue 14): pods using Secrets (env, envFrom, tmpfs volumes, updates),
# encryption at rest (--encryption-key-file, grep state.db).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

P_SAVED=""
sec_cleanup() { [ -n "$P_SAVED" ] && chmod "$P_SAVED" "$(dirname "$T_BASE")"; }
trap 'rc=$?; sec_cleanup; (exit $rc); cfs_cleanup' EXIT

cfs_start || cfs_abort "server starts and mounts $MNT"
http_env
K=$(kubectl_newest)
S=$MNT/secrets

# kubectl: create, get -o yaml (base64 data), the table's columns
out=$("$K" create secret generic db --from-literal=password=s3cret --from-literal=user=admin 2>&1)
check_contains "kubectl create secret generic" "$out" "secret/db created"
out=$("$K" get secret db -o jsonpath='{.data.password}' 2>&1)
check_eq "data.password is base64" "$(printf s3cret | base64)" "$out"
out=$("$K" get secret db -o yaml 2>&1)
check_contains "get -o yaml shows type Opaque" "$out" "type: Opaque"
out=$("$K" get secrets 2>&1)
check_contains "the table's columns" "$out" "NAME   TYPE     DATA   AGE"
check_contains "the table's row" "$out" "db     Opaque   2"

# the filesystem: decoded values
check_eq "cat secrets/db/password" "s3cret" "$(cat "$S/db/password")"
check_eq "ls secrets/db" "password user" "$(ls "$S/db" | tr '\n' ' ' | sed 's/ $//')"
check_contains "secrets/db.yaml holds the base64 value" "$(cat "$S/db.yaml")" "password: czNjcmV0"
printf %s hunter2 >"$S/db/password"
check_eq "a write stores the value base64-encoded" "$(printf hunter2 | base64)" \
	"$("$K" get secret db -o jsonpath='{.data.password}')"
check_eq "and reads back decoded" "hunter2" "$(cat "$S/db/password")"
printf %s 'postgres://x' >"$S/db/url"
check_eq "a new KEY file adds the key" "$(printf postgres://x | base64)" \
	"$("$K" get secret db -o jsonpath='{.data.url}')"
rm "$S/db/url"
check_eq "rm removes the key" "" "$("$K" get secret db -o jsonpath='{.data.url}')"
check "the key's file is gone" test ! -e "$S/db/url"

# stringData is merged into data and dropped
cat >"$WORK/sd.yaml" <<'Y'
apiVersion: v1
kind: Secret
metadata: {name: sd}
stringData: {token: plain-tok}
Y
cfs_write "$S/sd.yaml" "$WORK/sd.yaml" >/dev/null
check_eq "stringData lands in data" "$(printf plain-tok | base64)" \
	"$("$K" get secret sd -o jsonpath='{.data.token}')"
check_not_contains "stringData is not kept" "$(cat "$S/sd.yaml")" "stringData"
check_eq "secrets/sd/token" "plain-tok" "$(cat "$S/sd/token")"

# a type's required keys; the value is never echoed
cat >"$WORK/tls.yaml" <<'Y'
apiVersion: v1
kind: Secret
metadata: {name: tls1}
type: kubernetes.io/tls
stringData: {tls.crt: "very-secret-cert"}
Y
expect_refusal EINVAL 'data\[tls.key\]: Required value' "a tls Secret without tls.key" \
	cfs_write "$S/tls1.yaml" "$WORK/tls.yaml"
check_not_contains "the errors file does not echo the value" "$(cat "$MNT/errors")" "very-secret"
check_not_contains "nor the server's log" "$(cat "$DATA/server.log")" "very-secret"
check_not_contains "nor its base64" "$(cat "$MNT/errors" "$DATA/server.log")" \
	"$(printf very-secret-cert | base64)"

# modes: no bits for others; nobody is refused
check_eq "secrets/db/ shows no bits for others" "drwxr-x---" "$(stat -c %A "$S/db")"
check_eq "secrets/db/password shows no bits for others" "-rw-r-----" "$(stat -c %A "$S/db/password")"
P_SAVED=$(stat -c %a "$(dirname "$T_BASE")")
chmod o+x "$(dirname "$T_BASE")" "$T_BASE"
expect_errno EACCES "nobody cannot read secrets/db/password" \
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups cat "$S/db/password"
check_eq "nobody still reads configmaps/" "0" \
	"$(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups ls "$MNT/configmaps" >/dev/null 2>&1; echo $?)"

cfs_done
