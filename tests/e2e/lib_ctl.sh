#!/bin/bash
# lib_ctl.sh - helpers of the control-plane tests (t_ctl_*.sh), sourced after
# lib.sh.  They read pods through the filesystem; $P is the test's pods folder.

# wait_until SECONDS CMD...: polls CMD (quietly) until it succeeds, for at
# most SECONDS of wall-clock time.
wait_until() {
	local end=$(($(now_ms) + $1 * 1000))
	shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(now_ms)" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# yvals FILE PATH...: the values at each PATH (as yget's, plus "cond=TYPE"
# to pick the condition of that type from a list), space-separated, "-"
# for a missing one.
CTL_PYVALS='
import re, sys, yaml
try:
    v0 = yaml.safe_load(open(sys.argv[1], "rb"))
except Exception:
    print("<unreadable>"); sys.exit(0)
out = []
for path in sys.argv[2:]:
    v = v0
    for part in [p.replace("\\.", ".") for p in re.split(r"(?<!\\)\.", path) if p]:
        if part.startswith("cond="):
            v = next((c for c in v if isinstance(c, dict) and c.get("type") == part[5:]), None) if isinstance(v, list) else None
        elif isinstance(v, list):
            try:
                v = v[int(part)]
            except Exception:
                v = None
        elif isinstance(v, dict):
            v = v.get(part)
        else:
            v = None
        if v is None:
            break
    out.append("-" if v is None else str(v))
print(" ".join(out))
'
yvals() {
	"$PY" -c "$CTL_PYVALS" "$@"
}

# pods_table: one line per pod of namespace default:
#   NAME PHASE NODE READY CONTROLLER-OWNER TERMINATING(T/-) PODIP IMAGE HASH
CTL_PYPODS='
import os, sys, yaml
L = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    if not f.endswith(".yaml"):
        continue
    try:
        o = yaml.load(open(os.path.join(d, f), "rb"), Loader=L)
    except OSError:
        continue
    md = o.get("metadata") or {}
    sp = o.get("spec") or {}
    st = o.get("status") or {}
    ready = "-"
    for c in st.get("conditions") or []:
        if c.get("type") == "Ready":
            ready = c.get("status")
    owner = "-"
    for r in md.get("ownerReferences") or []:
        if r.get("controller"):
            owner = r.get("name")
    img = ((sp.get("containers") or [{}])[0]).get("image") or "-"
    h = (md.get("labels") or {}).get("pod-template-hash") or "-"
    print(md.get("name"), st.get("phase") or "-", sp.get("nodeName") or "-", ready, owner,
          "T" if md.get("deletionTimestamp") else "-", st.get("podIP") or "-", img, h)
'
pods_table() {
	"$PY" -c "$CTL_PYPODS" "$P"
}

# npods: the number of NAME.yaml files in pods/.
npods() {
	ls "$P" | grep -c '\.yaml$'
}

# The two below read $D (deployments) and $RSD (replicasets) as well.

# deploy_ok NAME N: the Deployment's status says N replicas, all ready,
# updated and available, and exactly N pods exist, all Running and Ready
# and none terminating.
deploy_ok() {
	local s t
	s=$(yvals "$D/$1/status" replicas readyReplicas updatedReplicas availableReplicas)
	[ "$s" = "$2 $2 $2 $2" ] || return 1
	t=$(pods_table)
	[ "$(printf '%s\n' "$t" | grep -c .)" = "$2" ] || return 1
	[ "$(printf '%s\n' "$t" | awk '$2 == "Running" && $4 == "True" && $6 == "-"' | grep -c .)" = "$2" ]
}

# state NAME: what a failed wait shows.
state() {
	echo "deployment status: $(yvals "$D/$1/status" replicas readyReplicas updatedReplicas availableReplicas)"
	echo "replicasets: $(ls "$RSD" | grep '\.yaml$' | tr '\n' ' ')"
	echo "pods (name phase node ready owner terminating ip image hash):"
	pods_table
}
