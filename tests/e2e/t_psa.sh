#!/bin/bash
# t_psa.sh - Pod Security admission (engine/api/api_psa.c, engine/valid/psa*.c),
# through both faces, with no node (the pods need not run):
#   - a privileged pod copied into /cluster/pods: EACCES, Kubernetes' words
#     in /cluster/errors, nothing written (the default is baseline:latest);
#   - a namespace labelled enforce=privileged takes it; a bad label value is
#     refused on the Namespace write (EINVAL);
#   - a restricted namespace refuses a baseline pod and takes a restricted one;
#   - warn mode: a namespace enforcing privileged and warning restricted
#     takes a pod with a Warning event (the filesystem's warning);
#   - a Deployment with a privileged template is written with a Warning
#     event, and its ReplicaSet's pods are refused: FailedCreate events;
#   - kubectl: the 403 with Kubernetes' message, and the Warning it prints;
#   - --pod-security-default privileged (after a restart) takes the pod.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"
. "$(dirname "$0")/lib_ctl.sh"

cfs_start || cfs_abort "server starts and mounts $MNT"
http_env
P=$MNT/pods

pod() { # NAME SECURITYCONTEXT-LINES (container level, indented 6)
	cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  containers:
  - name: c
    image: busybox
    securityContext:
$2
EOF
}
ns() { # NAME LABEL-LINES (indented 4)
	printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n  labels:\n%s\n' "$1" "$2"
}
LBL=pod-security.kubernetes.io
pod priv "      privileged: true" >"$WORK/priv.yaml"
pod plain "      runAsUser: 1000" >"$WORK/plain.yaml"
pod strict "      allowPrivilegeEscalation: false
      runAsNonRoot: true
      seccompProfile: {type: RuntimeDefault}
      capabilities: {drop: [ALL]}" >"$WORK/strict.yaml"
PRIV_MSG='privileged (container "c" must not set securityContext.privileged=true)'

# --- enforce: the cluster default, baseline:latest ---------------------------
expect_refusal EACCES 'pods "priv" is forbidden: violates PodSecurity "baseline:latest": privileged .container "c" must not set securityContext.privileged=true.' \
	"a privileged pod in default (baseline)" cp "$WORK/priv.yaml" "$P/priv.yaml"
check_not "nothing written" test -e "$P/priv.yaml"
pod caps "      capabilities: {add: [SYS_ADMIN]}" >"$WORK/caps.yaml"
expect_refusal EACCES 'non-default capabilities .container "c" must not include "SYS_ADMIN" in securityContext.capabilities.add.' \
	"capabilities beyond baseline's" cp "$WORK/caps.yaml" "$P/caps.yaml"
pod unconf "      seccompProfile: {type: Unconfined}" >"$WORK/unconf.yaml"
expect_refusal EACCES 'seccompProfile .container "c" must not set securityContext.seccompProfile.type to "Unconfined".' \
	"seccomp Unconfined" cp "$WORK/unconf.yaml" "$P/unconf.yaml"
check "a baseline pod is taken" cp "$WORK/plain.yaml" "$P/plain.yaml"

# --- namespace labels ------------------------------------------------------
ns open "    $LBL/enforce: privileged" >"$WORK/ns-open.yaml"
check "namespace open (enforce: privileged)" cfs_write "$MNT/apply" "$WORK/ns-open.yaml"
check "open takes the privileged pod" cp "$WORK/priv.yaml" "$MNT/namespaces/open/pods/priv.yaml"
ns bad "    $LBL/enforce: strict" >"$WORK/ns-bad.yaml"
expect_refusal EINVAL "metadata.labels\[$LBL/enforce\]: Invalid value: \"strict\": must be one of privileged, baseline, restricted" \
	"a bad enforce label" cp "$WORK/ns-bad.yaml" "$MNT/namespaces/bad.yaml"
ns badv "    $LBL/enforce: baseline
    $LBL/enforce-version: \"1.30\"" >"$WORK/ns-badv.yaml"
expect_refusal EINVAL 'Invalid value: "1.30": must be "latest" or of the form "v1.x"' \
	"a bad version label" cp "$WORK/ns-badv.yaml" "$MNT/namespaces/badv.yaml"
check_not "no namespace bad" test -e "$MNT/namespaces/bad.yaml"

ns tight "    $LBL/enforce: restricted" >"$WORK/ns-tight.yaml"
check "namespace tight (enforce: restricted)" cfs_write "$MNT/apply" "$WORK/ns-tight.yaml"
expect_refusal EACCES 'pods "plain" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false .container "c" must set securityContext.allowPrivilegeEscalation=false., unrestricted capabilities' \
	"restricted refuses a baseline pod" cp "$WORK/plain.yaml" "$MNT/namespaces/tight/pods/plain.yaml"
check "restricted takes a restricted pod" cp "$WORK/strict.yaml" "$MNT/namespaces/tight/pods/strict.yaml"
ns old "    $LBL/enforce: restricted
    $LBL/enforce-version: v1.22" >"$WORK/ns-old.yaml"
check "namespace old (restricted:v1.22)" cfs_write "$MNT/apply" "$WORK/ns-old.yaml"
pod root "      allowPrivilegeEscalation: false
      runAsNonRoot: true
      runAsUser: 0
      seccompProfile: {type: RuntimeDefault}
      capabilities: {drop: [ALL]}" >"$WORK/root.yaml"
check "restricted:v1.22 takes runAsUser 0 (checked from v1.23)" cp "$WORK/root.yaml" "$MNT/namespaces/old/pods/root.yaml"
expect_refusal EACCES 'violates PodSecurity "restricted:latest": runAsUser=0 .container "c" must not set runAsUser=0.' \
	"restricted:latest refuses it" cp "$WORK/root.yaml" "$MNT/namespaces/tight/pods/root.yaml"

# --- warn: written, with a Warning event -----------------------------------
ns loose "    $LBL/enforce: privileged
    $LBL/warn: restricted" >"$WORK/ns-loose.yaml"
check "namespace loose (enforce privileged, warn restricted)" cfs_write "$MNT/apply" "$WORK/ns-loose.yaml"
check "warn: the pod is written" cp "$WORK/plain.yaml" "$MNT/namespaces/loose/pods/plain.yaml"
check "warn: a Warning event names what it would violate" wait_until 10 \
	grep -q 'Warning PodSecurity loose/pod/plain would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false' "$MNT/namespaces/loose/events"

# --- workloads: admitted with a warning, their pods refused ----------------
cat >"$WORK/pd.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pd
spec:
  replicas: 2
  selector:
    matchLabels: {app: pd}
  template:
    metadata:
      labels: {app: pd}
    spec:
      containers:
      - name: c
        image: busybox
        securityContext: {privileged: true}
EOF
check "a Deployment with a privileged template is written" cp "$WORK/pd.yaml" "$MNT/deployments/pd.yaml"
check "its Warning event" wait_until 10 grep -qF "Warning PodSecurity deployment/pd would violate PodSecurity \"baseline:latest\": $PRIV_MSG" "$MNT/events"
check "its ReplicaSet's pods are refused: FailedCreate" wait_until 20 \
	grep -qE "Warning FailedCreate replicaset/pd-[a-z0-9]+ Error creating: pods \"pd-[a-z0-9-]+\" is forbidden: violates PodSecurity \"baseline:latest\": privileged" "$MNT/events"
check_eq "no pod of pd" "" "$(ls "$P" | grep '^pd-')"

# --- kubectl: 403 and the Warning ------------------------------------------
K=$(kubectl_newest)
a /openapi/v2 >/dev/null
VAL=
[ "$(code)" = 404 ] && VAL=--validate=false
sed 's/name: priv$/name: kpriv/' "$WORK/priv.yaml" >"$WORK/kpriv.yaml"
out=$("$K" create $VAL -f "$WORK/kpriv.yaml" 2>&1)
check_contains "kubectl create: Forbidden with Kubernetes' message" "$out" \
	"Error from server (Forbidden): error when creating \"$WORK/kpriv.yaml\": pods \"kpriv\" is forbidden: violates PodSecurity \"baseline:latest\": $PRIV_MSG"
a /api/v1/namespaces/default/pods -X POST -H "Content-Type: application/yaml" --data-binary @"$WORK/kpriv.yaml" >/dev/null
check_eq "POST: 403 Forbidden" "403 Forbidden" "$(code) $(jv 'd["reason"]' <"$WORK/body")"
sed 's/name: pd$/name: kpd/; s/app: pd/app: kpd/g' "$WORK/pd.yaml" >"$WORK/kpd.yaml"
out=$("$K" create $VAL -f "$WORK/kpd.yaml" 2>&1)
check_contains "kubectl create deployment: the Warning" "$out" \
	"Warning: would violate PodSecurity \"baseline:latest\": $PRIV_MSG"
check "the Deployment is there" test -e "$MNT/deployments/kpd.yaml"
a /apis/apps/v1/namespaces/default/deployments/kpd -X PUT -H "Content-Type: application/yaml" --data-binary @"$WORK/kpd.yaml" >/dev/null
check_contains "PUT: the Warning header, quotes escaped" "$(tr -d '\r' <"$WORK/headers")" \
	"Warning: 299 - \"would violate PodSecurity \\\"baseline:latest\\\": privileged (container \\\"c\\\" must not set securityContext.privileged=true)\""

sed 's/name: pd$/name: kpa/; s/app: pd/app: kpa/g' "$WORK/pd.yaml" >"$WORK/kpa.yaml"
"$K" apply $VAL -f "$WORK/kpa.yaml" >/dev/null 2>&1
sed -i 's/replicas: 2/replicas: 3/' "$WORK/kpa.yaml"
out=$("$K" apply $VAL -f "$WORK/kpa.yaml" 2>&1)
check_contains "kubectl apply (a PATCH): the Warning" "$out" \
	"Warning: would violate PodSecurity \"baseline:latest\": $PRIV_MSG"
check_eq "the change is written" 3 "$(yget "$MNT/deployments/kpa.yaml" spec.replicas)"
out=$("$K" label ns open --overwrite "$LBL/enforce=strict" 2>&1)
check_contains "kubectl label ns: a bad level refused (422)" "$out" 'namespaces "open" is invalid'
check_contains "with its reason in errors" "$(tail -n 1 "$MNT/errors")" \
	"PATCH /api/v1/namespaces/open: EINVAL: Namespace \"open\": metadata.labels[$LBL/enforce]: Invalid value: \"strict\": must be one of privileged, baseline, restricted"
check "kubectl label ns: a good level taken" "$K" label ns open --overwrite "$LBL/enforce=baseline"
out=$("$K" run kp --image=busybox --privileged 2>&1)
check_contains "kubectl run --privileged in open (now baseline): Forbidden" "$out" \
	'pods "kp" is forbidden: violates PodSecurity "baseline:latest": privileged'

# --- the server flag -----------------------------------------------------------
cfs_stop || cfs_abort "server stops"
out=$(timeout 20 "$CLUSTERFS" server --mount "$MNT" --data-dir "$DATA" --no-agent --listen none \
	--pod-security-default strict 2>&1)
check_eq "--pod-security-default strict: the server refuses to start" "1 1" \
	"$([ $? -ne 0 ] && echo 1) $(printf %s "$out" | grep -c 'must be one of privileged, baseline, restricted')"
# --listen none on a data dir with no pki/ yet (the CA comes with the HTTP API)
DATA0=$DATA
DATA=$WORK/nolisten
mkdir -p "$DATA"
cfs_start --listen none || cfs_abort "server starts with --listen none on a fresh data dir"
check "--listen none: the mount serves status" grep -q '^pods:' "$MNT/status"
check "--listen none: no CA nor kubeconfig made" test ! -e "$DATA/pki" -a ! -e "$DATA/kubeconfig"
cfs_stop || cfs_abort "server stops"
DATA=$DATA0
cfs_start --pod-security-default privileged:v1.30 || cfs_abort "server starts with --pod-security-default privileged:v1.30"
check "privileged default: the privileged pod is taken" cp "$WORK/priv.yaml" "$P/priv.yaml"
expect_errno EACCES "a labelled namespace keeps its level" cp "$WORK/plain.yaml" "$MNT/namespaces/tight/pods/plain.yaml"

cfs_done
