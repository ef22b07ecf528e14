#!/bin/bash
# t_pull.sh - the node agent pulls its pods' images from a registry
# (Debian's docker-registry on 127.0.0.1, plain HTTP, the server started
# with --insecure-registry), nothing imported by hand:
#   - a Deployment of 127.0.0.1:PORT/busybox:1 runs; Pulling and Pulled
#     ("Successfully pulled image ... Image size: N bytes.") events;
#   - a missing tag: ErrImagePull (manifest unknown), then ImagePullBackOff
#     ("Back-off pulling image ...") and a BackOff event;
#   - five pods of one new image: its manifest fetched once;
#   - imagePullPolicy Never and absent: ErrImageNeverPull;
#   - Always and a moved tag: the next pod runs the new digest (imageID);
#   - a TLS registry (its CA in --registry-certs-dir) with htpasswd: a pod
#     without credentials is ErrImagePull (unauthorized) then
#     ImagePullBackOff; its imagePullSecrets' Secret (dockerconfigjson),
#     once created, lets it start; node credentials in DATA_DIR/config.json
#     let a pod without imagePullSecrets pull.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_registry.sh"
. "$(dirname "$0")/lib_ctl.sh"

TAR=${CFS_BUSYBOX_TAR:-$CFS_SRC/build/images/busybox.tar}
[ -f "$TAR" ] || cfs_abort "busybox image at $TAR"
for t in docker-registry skopeo curl htpasswd openssl; do
	command -v $t >/dev/null || cfs_abort "$t is installed (scripts/deps.sh)"
done
P=$MNT/pods
NODE=t-pull-node

PORT=$(free_port)
H=127.0.0.1:$PORT
REGISTRY_LOG_LEVEL=info start_registry reg "$PORT"
check "skopeo pushes busybox:1 to the registry" \
	skopeo copy -q --dest-tls-verify=false "oci-archive:$TAR" "docker://$H/busybox:1"
check "and five:1" skopeo copy -q --dest-tls-verify=false "oci-archive:$TAR" "docker://$H/five:1"
D1=$(digest_of "http://$H/v2/busybox/manifests/1")

PORT2=$(free_port)
H2=127.0.0.1:$PORT2
start_tls_registry tls "$PORT2" "$WORK/certs.d" alice s3cret
for t in 1 2; do
	check "skopeo pushes private/busybox:$t to the TLS registry" \
		skopeo copy -q --dest-cert-dir "$WORK/certs.d/$H2" --dest-creds alice:s3cret \
		"oci-archive:$TAR" "docker://$H2/private/busybox:$t"
done

CFS_AGENT=1
# the image pull back-off shortened (3 s doubling to 12 s instead of the
# kubelet's 10 s to 300 s): a testing knob, so that the pod whose Secret
# comes late starts soon after
CFS_IMAGE_BACKOFF_MS=3000,12000 cfs_start --node-name "$NODE" --insecure-registry "$H" \
	--registry-certs-dir "$WORK/certs.d" || cfs_abort "server did not start"
check "the agent registers its node" wait_until 10 test -e "$MNT/nodes/$NODE.yaml"

cstat() { yvals "$P/$1.yaml" "status.containerStatuses.0.$2"; }
cstat_is() { [ "$(cstat "$1" "$2")" = "$3" ]; }
phase_is() { [ "$(cat "$P/$1/phase" 2>/dev/null)" = "$2" ]; }
events() { cat "$MNT/events" 2>/dev/null; }
events_have() { events | grep -qF -- "$1"; }

# mkpod NAME IMAGE [POLICY [PULL-SECRET]]
mkpod() {
	{
		echo "apiVersion: v1"
		echo "kind: Pod"
		echo "metadata: {name: $1}"
		echo "spec:"
		echo "  terminationGracePeriodSeconds: 1"
		echo "  containers:"
		echo "  - name: c"
		echo "    image: $2"
		[ -n "${3:-}" ] && echo "    imagePullPolicy: $3"
		echo '    command: ["sh", "-c", "exec sleep 100000"]'
		[ -n "${4:-}" ] && printf '  imagePullSecrets:\n  - name: %s\n' "$4"
	} >"$WORK/$1.yaml"
	cp "$WORK/$1.yaml" "$P/$1.yaml"
}

# --- a Deployment of an image only in the registry ---------------------------
cat >"$WORK/dep.yaml" <<EOF2
apiVersion: apps/v1
kind: Deployment
metadata: {name: pulled}
spec:
  replicas: 1
  selector: {matchLabels: {app: pulled}}
  template:
    metadata: {labels: {app: pulled}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: $H/busybox:1
        command: ["sh", "-c", "exec sleep 100000"]
EOF2
check "the Deployment is created" cp "$WORK/dep.yaml" "$MNT/deployments/pulled.yaml"
dep_ready() { [ "$(yvals "$MNT/deployments/pulled/status" readyReplicas)" = "1" ]; }
check "its pod runs (pulled by the agent)" wait_until 60 dep_ready
check "event Pulling image" events_have "Pulling image \"$H/busybox:1\""
check "event Successfully pulled image ... Image size" \
	sh -c "cat '$MNT/events' | grep -E 'Successfully pulled image \"$H/busybox:1\" in [0-9.]+s \\([0-9.]+s including waiting\\)\\. Image size: [0-9]+ bytes\\.' >/dev/null"
check_contains "image ls lists it" "$("$CLUSTERFS" image ls --data-dir "$DATA")" "$H/busybox:1"

# --- a missing tag -----------------------------------------------------------
mkpod missing "$H/busybox:nosuch"
check "a missing tag: ErrImagePull" wait_until 20 cstat_is missing state.waiting.reason ErrImagePull
check_contains "its message: manifest unknown" "$(cstat missing state.waiting.message)" "manifest unknown"
check "then ImagePullBackOff" wait_until 10 cstat_is missing state.waiting.reason ImagePullBackOff
check_contains "with Back-off pulling image" "$(cstat missing state.waiting.message)" "Back-off pulling image \"$H/busybox:nosuch\""
check "event Failed to pull image" events_have "Failed to pull image \"$H/busybox:nosuch\""
check "event Back-off" events_have "Back-off pulling image \"$H/busybox:nosuch\""
check_contains "the pod's status file shows it" "$(cat "$P/missing/status")" "ImagePullBackOff"
check "the back-off knob is taken (and logged)" grep -q "CFS_IMAGE_BACKOFF_MS" "$DATA/server.log"

# --- five pods of one new image: one pull -------------------------------------
for i in 1 2 3 4 5; do mkpod "five$i" "$H/five:1" IfNotPresent; done
all_five() { for i in 1 2 3 4 5; do phase_is "five$i" Running || return 1; done; }
check "five pods of one new image run" wait_until 60 all_five
n=$(grep -c '"GET /v2/five/manifests/1 ' "$WORK/reg/log") # the access log's lines
check_eq "its manifest fetched once" "1" "$n"

# --- Never --------------------------------------------------------------------
mkpod never "$H/busybox:never" Never
check "Never and absent: ErrImageNeverPull" wait_until 20 cstat_is never state.waiting.reason ErrImageNeverPull
check_contains "its message" "$(cstat never state.waiting.message)" \
	"Container image \"$H/busybox:never\" is not present with pull policy of Never"
mkpod present "$H/five:1" IfNotPresent
check "IfNotPresent and present: runs" wait_until 30 phase_is present Running
check "event already present on machine" events_have "Container image \"$H/five:1\" already present on machine"

# --- Always and a moved tag ---------------------------------------------------
mkpod always1 "$H/busybox:1" Always
check "an Always pod runs" wait_until 30 phase_is always1 Running
check_contains "its imageID is the registry's digest" "$(cstat always1 imageID)" "$D1"
check "skopeo moves busybox:1 (Docker v2 schema 2)" \
	skopeo copy -q --format v2s2 --dest-tls-verify=false "oci-archive:$TAR" "docker://$H/busybox:1"
D2=$(digest_of "http://$H/v2/busybox/manifests/1")
check "the tag moved" test -n "$D2" -a "$D2" != "$D1"
mkpod always2 "$H/busybox:1" Always
check "the next Always pod runs" wait_until 30 phase_is always2 Running
check_contains "with the new digest" "$(cstat always2 imageID)" "$D2"

# --- credentials ---------------------------------------------------------------
mkpod nocreds "$H2/private/busybox:1"
check "no credentials: ErrImagePull" wait_until 30 cstat_is nocreds state.waiting.reason ErrImagePull
check_contains "unauthorized" "$(cstat nocreds state.waiting.message)" "unauthorized"
check "then ImagePullBackOff" wait_until 10 cstat_is nocreds state.waiting.reason ImagePullBackOff
mkpod withsecret "$H2/private/busybox:1" IfNotPresent regcred
pull_failing() { cstat "$1" state.waiting.reason | grep -Eq 'ErrImagePull|ImagePullBackOff'; }
check "its Secret missing: ErrImagePull" wait_until 30 pull_failing withsecret
check "event FailedToRetrieveImagePullSecret" events_have 'Unable to retrieve some image pull secrets ("regcred")'
AUTH=$(printf '{"auths":{"%s":{"auth":"%s"}}}' "$H2" "$(printf alice:s3cret | base64)" | base64 -w0)
cat >"$WORK/regcred.yaml" <<EOF2
apiVersion: v1
kind: Secret
metadata: {name: regcred}
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: $AUTH
EOF2
check "the pull Secret is created" cp "$WORK/regcred.yaml" "$MNT/secrets/regcred.yaml"
check "with it the pod starts (after its back-off, 12 s at most)" wait_until 20 phase_is withsecret Running
printf '{"auths":{"%s":{"auth":"%s"}}}' "$H2" "$(printf alice:s3cret | base64)" >"$DATA/config.json"
mkpod nodecreds "$H2/private/busybox:2"
check "node credentials (DATA_DIR/config.json) pull for a pod without a Secret" \
	wait_until 30 phase_is nodecreds Running
rm -f "$DATA/config.json"

for p in nocreds withsecret nodecreds missing five1 five2 five3 five4 five5 never present always1 always2; do rm -f "$P/$p.yaml"; done
rm -f "$MNT/deployments/pulled.yaml"
gone() { ! ls "$P" | grep -q '\.yaml$'; }
check "the pods are deleted" wait_until 60 gone
cfs_done
