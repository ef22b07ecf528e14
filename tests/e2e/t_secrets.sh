#!/bin/bash
# t_secrets.sh - Secrets (issue 14): kubectl create secret generic, get -o
# yaml and its table; the filesystem's secrets/NAME/KEY files with the
# decoded value (read, write, a new key, rm), stringData merged into data,
# a type's required keys refused without echoing a value, the files
# showing no bits for others and a non-owner refused.  Control plane only.
# Then, restarted with its node and --encryption-key-file: a busybox pod
# with env from secretKeyRef and envFrom, a secret volume on a tmpfs whose
# file follows a change of the Secret within 60 s, a missing Secret's
# CreateContainerConfigError, a missing volume's FailedMount, and state.db
# without the values.
# e2e-time-limit: 240
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

# --- pods, encryption at rest ---
check_stop "the control plane stops"
head -c 32 /dev/urandom | base64 >"$WORK/enc.key"
cfs_import_busybox || cfs_abort "importing the busybox image failed"
CFS_AGENT=1
cfs_start --node-name t-secrets --encryption-key-file "$WORK/enc.key" || cfs_abort "server with a key"
http_env
check_eq "the Secret written before the key still reads" "hunter2" "$(cat "$S/db/password")"
"$K" create secret generic app --from-literal=token=tok-one-12345 >/dev/null 2>&1
cat >"$WORK/sp.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: sp}
spec:
  containers:
  - name: c
    image: busybox:latest
    command: ["sleep", "3600"]
    env:
    - name: TOKEN
      valueFrom: {secretKeyRef: {name: app, key: token}}
    - name: GONE
      valueFrom: {secretKeyRef: {name: nosuch, key: x, optional: true}}
    envFrom:
    - prefix: DB_
      secretRef: {name: db}
    volumeMounts:
    - {name: sv, mountPath: /etc/secret-vol}
  volumes:
  - name: sv
    secret: {secretName: app}
Y
cfs_write "$MNT/pods/sp.yaml" "$WORK/sp.yaml" >/dev/null
out=$("$K" wait --for=condition=Ready pod/sp --timeout=90s 2>&1)
check_contains "the pod with Secrets runs" "$out" "condition met"
envs=$("$K" exec sp -- env 2>&1)
check_contains "env from secretKeyRef" "$envs" "TOKEN=tok-one-12345"
check_contains "envFrom secretRef with a prefix" "$envs" "DB_password=hunter2"
check_not_contains "an optional missing Secret sets nothing" "$envs" "GONE="
check_eq "the volume's file holds the value" "tok-one-12345" "$("$K" exec sp -- cat /etc/secret-vol/token 2>&1)"
check_contains "the volume is a tmpfs" "$("$K" exec sp -- grep /etc/secret-vol /proc/mounts 2>&1)" "tmpfs"
printf %s tok-two-67890 >"$S/app/token"
got="" i=0
while [ $i -lt 60 ]; do
	got=$("$K" exec sp -- cat /etc/secret-vol/token 2>&1)
	[ "$got" = tok-two-67890 ] && break
	sleep 2
	i=$((i + 2))
done
check_eq "a change shows in the running pod within 60 s (${i} s)" "tok-two-67890" "$got"
vol=$(ls -d "$DATA"/pods/*/volumes/sv 2>/dev/null | head -n 1)
check_eq "on the node the volume is a tmpfs" "tmpfs" "$(stat -f -c %T "$vol" 2>&1)"
check_eq "no value on the node's disk (outside the tmpfs)" "" \
	"$(find "$DATA" -xdev -type f -exec grep -lsF tok-two-67890 {} + 2>/dev/null)"

sed -e 's/name: sp}/name: sp2}/' -e 's/name: app, key: token}/name: missing, key: token}/' \
	"$WORK/sp.yaml" | sed '/volumeMounts/,$d' >"$WORK/sp2.yaml"
cfs_write "$MNT/pods/sp2.yaml" "$WORK/sp2.yaml" >/dev/null
why="" i=0
while [ $i -lt 30 ]; do
	why=$("$K" get pod sp2 -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}: {.status.containerStatuses[0].state.waiting.message}' 2>&1)
	case "$why" in CreateContainerConfigError*) break ;; esac
	sleep 1
	i=$((i + 1))
done
check_eq "a missing Secret: CreateContainerConfigError" \
	'CreateContainerConfigError: secret "missing" not found' "$why"

cat >"$WORK/sp4.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: sp4}
spec:
  securityContext: {fsGroup: 1234, runAsUser: 1000}
  containers:
  - {name: c, image: "busybox:latest", command: ["sleep", "3600"], volumeMounts: [{name: v, mountPath: /s}]}
  volumes:
  - {name: v, secret: {secretName: app, defaultMode: 0400}}
Y
cfs_write "$MNT/pods/sp4.yaml" "$WORK/sp4.yaml" >/dev/null
"$K" wait --for=condition=Ready pod/sp4 --timeout=60s >/dev/null 2>&1
check_eq "fsGroup: user 1000 reads the 0400 file through the group" "tok-two-67890" \
	"$("$K" exec sp4 -- cat /s/token 2>&1)"
printf %s tok-three-4242 >"$S/app/token"
got="" i=0
while [ $i -lt 60 ]; do
	got=$("$K" exec sp4 -- cat /s/token 2>&1)
	[ "$got" = tok-three-4242 ] && break
	sleep 2
	i=$((i + 2))
done
check_eq "fsGroup: the updated file is readable too (${i} s)" "tok-three-4242" "$got"
check_eq "fsGroup: the updated file's group" "1234" "$("$K" exec sp4 -- stat -L -c %g /s/token 2>&1)"

cat >"$WORK/sp3.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: sp3}
spec:
  containers:
  - {name: c, image: "busybox:latest", command: ["sleep", "3600"], volumeMounts: [{name: v, mountPath: /s}]}
  volumes:
  - {name: v, secret: {secretName: absent}}
Y
cfs_write "$MNT/pods/sp3.yaml" "$WORK/sp3.yaml" >/dev/null
ev="" i=0
while [ $i -lt 30 ]; do
	ev=$(cat "$MNT/pods/sp3/events" 2>&1)
	case "$ev" in *FailedMount*) break ;; esac
	sleep 1
	i=$((i + 1))
done
check_contains "a missing Secret's volume: FailedMount" "$ev" 'secret "absent" not found'
check_eq "and the pod waits in ContainerCreating" "ContainerCreating" \
	"$("$K" get pod sp3 -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}' 2>&1)"

sqlite3 "$DATA/state.db" 'PRAGMA wal_checkpoint(FULL)' >/dev/null 2>&1
for v in tok-one-12345 tok-two-67890 tok-three-4242; do
	b=$(printf %s "$v" | base64)
	check_not "state.db holds neither $v nor its base64" \
		grep -aqsF -e "$v" -e "$b" "$DATA/state.db" "$DATA/state.db-wal"
done
check "state.db holds sealed Secrets" grep -aqsF "k8s:enc:aesgcm:v1:" "$DATA/state.db" "$DATA/state.db-wal"

cfs_done
