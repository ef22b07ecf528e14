#!/bin/bash
# t_errors.sh - refused writes, one table.  Each row is a bad input; for
# each the test checks that
#   - the command fails with the expected errno (the tool's message, or
#     cfs_write's / cfs_rename's errno name),
#   - /cluster/errors got a line naming the path and the errno,
#   - nothing changed (every kind folder listed, and the objects' YAML,
#     identical before and after),
#   - the server is still alive and serving (cat status works).
. "$(dirname "$0")/lib.sh"

cfs_start || cfs_abort "server starts and mounts $MNT"
D=$MNT/deployments
W=$WORK

# Fixtures: what the rows write, and the objects they must not change.

deploy() { # NAME [REPLICAS] [extra lines under spec.template.spec]
	cat <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $1
spec:
  replicas: ${2:-3}
  selector:
    matchLabels:
      app: $1
  template:
    metadata:
      labels:
        app: $1
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
EOF
}
cm() { # NAME [NAMESPACE]
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n' "$1"
	[ -n "${2:-}" ] && printf '  namespace: %s\n' "$2"
	printf 'data:\n  k: v\n'
}
svc() { # NAME PORT [TYPE]
	printf 'apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\nspec:\n' "$1"
	[ -n "${3:-}" ] && printf '  type: %s\n' "$3"
	printf '  selector:\n    app: web\n  ports:\n  - port: %s\n' "$2"
}

deploy web >"$W/web.yaml"
cp "$W/web.yaml" "$D/" || cfs_abort "cp web.yaml deployments/"
svc web 80 >"$W/svc.yaml"
cp "$W/svc.yaml" "$MNT/services/web.yaml" || cfs_abort "cp services/web.yaml"
cm cfg >"$W/cfg.yaml"
cp "$W/cfg.yaml" "$MNT/configmaps/" || cfs_abort "cp configmaps/cfg.yaml"

# Everything a row could change.
snapshot() {
	local d ns
	for d in deployments replicasets pods services configmaps nodes namespaces; do
		echo "[$d]"
		ls "$MNT/$d"
	done
	for ns in $(ls "$MNT/namespaces" | grep -v '\.yaml$'); do
		for d in deployments pods services configmaps; do
			echo "[$ns/$d]"
			ls "$MNT/namespaces/$ns/$d"
		done
	done
	cat "$D/web.yaml" "$MNT/services/web.yaml" "$MNT/configmaps/cfg.yaml" "$MNT/namespaces/default.yaml"
}

# row ERRNO ERRPATH DESCRIPTION CMD...: one bad input.  ERRPATH (relative
# to the mount; "-" for none: refusals the kernel makes alone) is the path
# the new errors line must name.
row() {
	local ename=$1 errpath=$2 desc=$3 before n after new
	shift 3
	before=$(snapshot)
	n=$(errors_lines)
	expect_errno "$ename" "$desc" "$@"
	new=$(errors_since "$n")
	if [ "$errpath" != "-" ]; then
		check_contains "$desc: errors names the path and $ename" "$new" "$MNT/$errpath: $ename: "
	fi
	after=$(snapshot)
	if [ "$before" = "$after" ]; then
		ok "$desc: nothing changed"
	else
		fail "$desc: nothing changed" "$(diff <(echo "$before") <(echo "$after") | head -20)"
	fi
	if cfs_alive && cat "$MNT/status" >/dev/null 2>&1; then
		ok "$desc: the server is alive and serving"
	else
		fail "$desc: the server is alive and serving"
		cfs_abort "the server died"
	fi
}

# row_unreported ERRPATH DESCRIPTION CMD...: a refusal no close() can
# report: a file opened to be replaced (O_TRUNC, a new file) and closed
# without a write is applied at release, after close() returned 0 (a flush
# with nothing written applies nothing: the shell closes its own
# descriptor so before writing).  Its exit status is not checked; the rest
# is (the errors line may come a moment after close).
row_unreported() {
	local errpath=$1 desc=$2 before n after i existed=0
	shift 2
	[ -e "$MNT/$errpath" ] && existed=1
	before=$(snapshot)
	n=$(errors_lines)
	"$@" >/dev/null 2>&1
	for i in $(seq 1 50); do
		[ -n "$(errors_since "$n")" ] && break
		sleep 0.1
	done
	check_contains "$desc: errors names the path and EINVAL" "$(errors_since "$n")" "$MNT/$errpath: EINVAL: "
	after=$(snapshot)
	if [ "$before" = "$after" ]; then
		ok "$desc: nothing changed"
	else
		fail "$desc: nothing changed" "$(diff <(echo "$before") <(echo "$after") | head -20)"
	fi
	if [ "$existed" = 1 ]; then
		check "$desc: $errpath is still there" test -e "$MNT/$errpath"
	else
		check_not "$desc: no object $errpath" test -e "$MNT/$errpath"
	fi
	check "$desc: the server is alive and serving" cat "$MNT/status"
}

# sh_write DATA PATH: what `echo DATA > PATH` does, as a command.
sh_write() { bash -c 'echo "$1" > "$2"' sh "$1" "$2"; }

# timed_row MAX_MS ...: a row that must also be fast.
timed_row() {
	local max=$1 t0 ms
	shift
	t0=$(now_ms)
	row "$@"
	ms=$(($(now_ms) - t0))
	if [ $ms -lt "$max" ]; then ok "$3: refused fast ($ms ms)"; else fail "$3: refused fast" "took $ms ms, limit $max"; fi
}

# The inputs.

printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n spec: [unclosed\n  replicas: 3\n' >"$W/malformed.yaml"
head -c 4096 /dev/urandom >"$W/garbage.bin"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nul\ndata:\n  k: "a\0b"\n' >"$W/nul.yaml"
svc x 80 >"$W/svc-as-deploy.yaml"
deploy other >"$W/name-mismatch.yaml"         # written into web.yaml
sed '/^  name: /d' "$W/web.yaml" >"$W/noname.yaml"
deploy "$(printf 'a%.0s' {1..300})" >"$W/long-name.yaml"
svc "s$(printf 'a%.0s' {1..63})" 80 >"$W/svc-64.yaml"
svc "s$(printf 'a%.0s' {1..62})" 80 >"$W/svc-63.yaml"
deploy "../x" >"$W/dotdot.yaml"
deploy "Bad_Name" >"$W/badname-in-manifest.yaml"
sed 's#apps/v1#apps/v2#' "$W/web.yaml" >"$W/v2.yaml"
sed 's#^  name: web$#  name: web\n  namespace: kube-system#' "$W/web.yaml" >"$W/other-ns.yaml"
deploy web -1 >"$W/neg-replicas.yaml"
deploy web '"three"' >"$W/str-replicas.yaml"
sed '/^  template:/,$ s/app: web$/app: other/' "$W/web.yaml" >"$W/selector-mismatch.yaml"
sed 's/containerPort: 80/containerPort: 70000/' "$W/web.yaml" >"$W/container-port.yaml"
svc big 70000 >"$W/svc-port.yaml"
svc ext 80 ExternalName >"$W/svc-external.yaml"
sed 's/^    spec:$/    spec:\n      hostNetwork: true/' "$W/web.yaml" >"$W/host-network.yaml"
sed 's/app: web$/app: changed/g' "$W/web.yaml" >"$W/selector-change.yaml"
sed 's#^  name: web$#  name: web\n  resourceVersion: "abc"#' "$W/web.yaml" >"$W/bad-rv.yaml"
printf -- '- apiVersion: v1\n  kind: ConfigMap\n' >"$W/sequence.yaml"
printf 'apiVersion: v1\nkind: Frobnicator\nmetadata:\n  name: f\n' >"$W/unknown-kind.yaml"
printf 'apiVersion: v1\nkind: Event\nmetadata:\n  name: e\n' >"$W/event.yaml"
{ cm two-a; echo ---; cm two-b; } >"$W/two-docs.yaml"
{ deploy web; echo ---; deploy web; } >"$W/two-docs-web.yaml"
# A 3 MB manifest (a ConfigMap with a big value).
{
	cm big | sed '$d'
	printf '  k: '
	head -c 3145728 /dev/zero | tr '\0' 'x'
	echo
} >"$W/big.yaml"
# A billion laughs: 9^9 strings from 9 aliases of 9 aliases of ...
{
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\ndata:\n'
	printf 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
	prev=a
	for l in b c d e f g h i; do
		printf '%s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n' $l $l $prev $prev $prev $prev $prev $prev $prev $prev $prev
		prev=$l
	done
} >"$W/lol.yaml"
# 20,000 nested brackets.
head -c 20000 /dev/zero | tr '\0' '[' >"$W/deep.yaml"
# Multi-document applies where the second of three is bad: refused by
# validation, and refused inside the store transaction (namespace missing).
{ cm first; echo ---; deploy second -1; echo ---; cm third; } >"$W/multi-bad-2.yaml"
{ cm m1; echo ---; cm m2 nowhere; echo ---; cm m3; } >"$W/multi-bad-ns.yaml"
{ deploy web2 | sed 's/^  name: web2$/  name: web2\n  namespace: nowhere/'; } >"$W/missing-ns.yaml"
: >"$W/empty.yaml"
printf '# only a comment\n---\n...\n' >"$W/comments.yaml"

# Controls: the fixtures for the rows are right but for the one fault.
S63=s$(printf 'a%.0s' {1..62})
S64=s$(printf 'a%.0s' {1..63})
check "control: a 63-character Service name is accepted" cp "$W/svc-63.yaml" "$MNT/services/$S63.yaml"
check "control: ...and rm removes it" rm "$MNT/services/$S63.yaml"
check_eq "control: the selector-mismatch manifest is valid YAML" '{"app": "web"}' "$(yget "$W/selector-mismatch.yaml" spec.selector.matchLabels)"
check_eq "control: ...with other labels on the template" '{"app": "other"}' "$(yget "$W/selector-mismatch.yaml" spec.template.metadata.labels)"
check_eq "control: other-ns.yaml says kube-system" '"kube-system"' "$(yget "$W/other-ns.yaml" metadata.namespace)"
check_eq "control: host-network.yaml sets hostNetwork" true "$(yget "$W/host-network.yaml" spec.template.spec.hostNetwork)"
check_eq "control: big.yaml is over 3 MB" 1 "$(($(stat -c %s "$W/big.yaml") > 3000000))"
{
	cm nearlimit | sed '$d'
	printf '  k: '
	head -c 900000 /dev/zero | tr '\0' 'x'
	echo
} >"$W/nearlimit.yaml"
check "control: a 900 kB manifest (under the 1 MiB limit) is accepted" cp "$W/nearlimit.yaml" "$MNT/configmaps/nearlimit.yaml"
check_eq "control: ...with its 900,000-byte value" 900000 "$(stat -c %s "$MNT/configmaps/nearlimit/data/k")"
check "control: ...and rm removes it" rm "$MNT/configmaps/nearlimit.yaml"
{ cm first; echo ---; cm third; } >"$W/multi-good.yaml"
check "control: multi-bad-2's 1st and 3rd documents apply without the 2nd" cfs_write "$MNT/apply" "$W/multi-good.yaml"
check "control: ...and first exists then" test -f "$MNT/configmaps/first.yaml"
rm -f "$MNT/configmaps/first.yaml" "$MNT/configmaps/third.yaml"
check_not "control: ...removed again" test -e "$MNT/configmaps/first.yaml"

# The table.

row EINVAL deployments/web.yaml "malformed YAML over web.yaml" cp "$W/malformed.yaml" "$D/web.yaml"
check_contains "malformed YAML: the reason gives a line" "$(tail -n 1 "$MNT/errors")" "line"
row EINVAL deployments/new.yaml "malformed YAML as a new file" cp "$W/malformed.yaml" "$D/new.yaml"
row EINVAL deployments/web.yaml "4 KiB of binary garbage" cp "$W/garbage.bin" "$D/web.yaml"
row EINVAL configmaps/nul.yaml "a NUL byte in a value" cfs_write "$MNT/configmaps/nul.yaml" "$W/nul.yaml"
row EINVAL deployments/x.yaml "a Service written as deployments/x.yaml" cp "$W/svc-as-deploy.yaml" "$D/x.yaml"
check_contains "wrong kind: the reason names the kind" "$(tail -n 1 "$MNT/errors")" "Service"
row EINVAL deployments/web.yaml "metadata.name other written into web.yaml (a rename is not an update)" cp "$W/name-mismatch.yaml" "$D/web.yaml"
check_contains "name mismatch: the reason says what to do" "$(tail -n 1 "$MNT/errors")" "cp it as a new file into $MNT/deployments/ or write it to $MNT/apply"
row EINVAL deployments/Bad_Name.yaml "invalid name Bad_Name (from the file name)" cp "$W/noname.yaml" "$D/Bad_Name.yaml"
row EINVAL deployments/Bad_Name.yaml "invalid name Bad_Name (in the manifest)" cp "$W/badname-in-manifest.yaml" "$D/Bad_Name.yaml"
row EINVAL apply "a 300-character name" cfs_write "$MNT/apply" "$W/long-name.yaml"
row EINVAL services/$S64.yaml "a 64-character Service name (DNS-1035 label)" cp "$W/svc-64.yaml" "$MNT/services/$S64.yaml"
row EINVAL apply "metadata.name ../x" cfs_write "$MNT/apply" "$W/dotdot.yaml"
row EINVAL deployments/web.yaml "unknown apiVersion apps/v2" cp "$W/v2.yaml" "$D/web.yaml"
row EINVAL deployments/web.yaml "metadata.namespace kube-system in deployments/ (namespace default)" cp "$W/other-ns.yaml" "$D/web.yaml"
row EINVAL deployments/web/replicas "echo -1 > replicas" sh_write -1 "$D/web/replicas"
check_contains "echo -1: the shell reports the write error" "$LAST_OUT" "write error: Invalid argument"
row EINVAL deployments/web/replicas "echo abc > replicas" sh_write abc "$D/web/replicas"
row EINVAL deployments/web/replicas "echo 1.5 > replicas" sh_write 1.5 "$D/web/replicas"
row EINVAL deployments/web/replicas "echo 99999999999 > replicas (over int32)" sh_write 99999999999 "$D/web/replicas"
row EINVAL deployments/web/replicas "an empty write to replicas" sh_write "" "$D/web/replicas"
row EINVAL deployments/web.yaml "replicas: -1 in the YAML" cp "$W/neg-replicas.yaml" "$D/web.yaml"
row EINVAL deployments/web.yaml "replicas: \"three\" in the YAML" cp "$W/str-replicas.yaml" "$D/web.yaml"
row EROFS deployments/web/status "echo x > deployments/web/status" sh_write x "$D/web/status"
row EROFS deployments/web/revision "echo x > deployments/web/revision" sh_write x "$D/web/revision"
row EROFS status "echo x > status" sh_write x "$MNT/status"
row EROFS events "echo x > events" sh_write x "$MNT/events"
row EROFS errors "echo x > errors" sh_write x "$MNT/errors"
row EROFS README "echo x > README" sh_write x "$MNT/README"
row EROFS services/web/clusterip "echo 10.0.0.1 > services/web/clusterip" sh_write 10.0.0.1 "$MNT/services/web/clusterip"
row EFBIG configmaps/big.yaml "a 3 MB manifest (cp)" cp "$W/big.yaml" "$MNT/configmaps/big.yaml"
row EFBIG configmaps/big.yaml "a 3 MB manifest (cfs_write)" cfs_write "$MNT/configmaps/big.yaml" "$W/big.yaml"
row EFBIG deployments/web.yaml "a 3 MB manifest over web.yaml" cp "$W/big.yaml" "$D/web.yaml"
row EFBIG apply "a 3 MB manifest to apply" cfs_write "$MNT/apply" "$W/big.yaml"
timed_row 2000 EINVAL configmaps/lol.yaml "a billion-laughs alias bomb" cp "$W/lol.yaml" "$MNT/configmaps/lol.yaml"
timed_row 2000 EINVAL apply "a billion-laughs alias bomb to apply" cfs_write "$MNT/apply" "$W/lol.yaml"
timed_row 2000 EINVAL deployments/deep.yaml "20,000 nested [ brackets" cp "$W/deep.yaml" "$D/deep.yaml"
row EINVAL apply "3 documents, the 2nd invalid" cfs_write "$MNT/apply" "$W/multi-bad-2.yaml"
check_contains "the reason names document 2" "$(tail -n 1 "$MNT/errors")" "document 2"
check_not "all or nothing: the 1st document (configmaps/first) was not applied" test -e "$MNT/configmaps/first.yaml"
check_not "all or nothing: the 3rd document (configmaps/third) was not applied" test -e "$MNT/configmaps/third.yaml"
row ENOENT apply "3 documents, the 2nd in a missing namespace" cfs_write "$MNT/apply" "$W/multi-bad-ns.yaml"
check_contains "the reason names document 2" "$(tail -n 1 "$MNT/errors")" "document 2"
check_contains "the reason names the missing namespace" "$(tail -n 1 "$MNT/errors")" "nowhere"
check_not "all or nothing: m1 was not applied (rolled back)" test -e "$MNT/configmaps/m1.yaml"
check_not "all or nothing: m3 was not applied" test -e "$MNT/configmaps/m3.yaml"
row EINVAL deployments/web.yaml "two documents written to web.yaml" cp "$W/two-docs-web.yaml" "$D/web.yaml"
row EINVAL configmaps/two-a.yaml "two documents written to a new NAME.yaml" cp "$W/two-docs.yaml" "$MNT/configmaps/two-a.yaml"
row EINVAL deployments/web.yaml "selector does not match the template's labels" cp "$W/selector-mismatch.yaml" "$D/web.yaml"
row EINVAL deployments/web.yaml "selector changed (immutable)" cp "$W/selector-change.yaml" "$D/web.yaml"
row EINVAL deployments/web.yaml "containerPort 70000" cp "$W/container-port.yaml" "$D/web.yaml"
row EINVAL services/big.yaml "Service port 70000" cp "$W/svc-port.yaml" "$MNT/services/big.yaml"
row EINVAL services/ext.yaml "an unsupported feature (ExternalName) is refused, not ignored" cp "$W/svc-external.yaml" "$MNT/services/ext.yaml"
check_contains "ExternalName: the reason says it is not supported" "$(tail -n 1 "$MNT/errors")" "Unsupported value"
row EINVAL deployments/web.yaml "hostNetwork: true is refused, not ignored" cp "$W/host-network.yaml" "$D/web.yaml"
row EINVAL deployments/web.yaml "metadata.resourceVersion \"abc\"" cp "$W/bad-rv.yaml" "$D/web.yaml"
row EINVAL apply "a YAML sequence, not a mapping" cfs_write "$MNT/apply" "$W/sequence.yaml"
row EINVAL apply "an unknown kind" cfs_write "$MNT/apply" "$W/unknown-kind.yaml"
row EINVAL apply "a kind users may not write (Event)" cfs_write "$MNT/apply" "$W/event.yaml"
row_unreported deployments/new.yaml "an empty new file (touch)" touch "$D/new.yaml"
row_unreported deployments/new.yaml "an empty new file (: > new.yaml)" bash -c ": > '$D/new.yaml'"
row_unreported deployments/new.yaml "an empty new file (open, close)" cfs_write "$D/new.yaml" "$W/empty.yaml"
row EINVAL deployments/new.yaml "a new file of only comments and markers" cp "$W/comments.yaml" "$D/new.yaml"
row_unreported deployments/web.yaml "web.yaml truncated to nothing" cfs_write "$D/web.yaml" "$W/empty.yaml"
row EINVAL apply "an apply of only comments and markers" cfs_write "$MNT/apply" "$W/comments.yaml"
row ENOENT apply "a Deployment in a namespace that does not exist" cfs_write "$MNT/apply" "$W/missing-ns.yaml"
row ENOENT - "cp into namespaces/nowhere/deployments/ (no such namespace)" cp "$W/web.yaml" "$MNT/namespaces/nowhere/deployments/"
row EPERM deployments/x "mkdir deployments/x" mkdir "$D/x"
row EPERM nowhere "mkdir at the top" mkdir "$MNT/nowhere"
row EPERM deployments/web/replicas "rm deployments/web/replicas" rm "$D/web/replicas"
row EPERM status "rm status" rm "$MNT/status"
row EPERM namespaces/default "rmdir namespaces/default" rmdir "$MNT/namespaces/default"
row EPERM deployments "rmdir deployments" rmdir "$D"
row EINVAL deployments/other.yaml "rename web.yaml to other.yaml" cfs_rename "$D/web.yaml" "$D/other.yaml"
row EACCES deployments/web/nosuchfield "echo x > deployments/web/nosuchfield" sh_write x "$D/web/nosuchfield"
row EACCES - "cat apply (write-only)" cat "$MNT/apply"
printf '\377\376bad' >"$W/notutf8"
row EINVAL configmaps/cfg/data/k "non-UTF-8 bytes to configmaps/cfg/data/k" cfs_write "$MNT/configmaps/cfg/data/k" "$W/notutf8"

# After all of it: the errors file and the status warnings line.
nerr=$(errors_lines)
if [ "$nerr" -ge 60 ]; then ok "errors holds a line per refusal ($nerr)"; else fail "errors holds a line per refusal" "only $nerr lines"; fi
check_contains "status reports the refused writes" "$(cat "$MNT/status")" "refused write"
check_eq "size of errors = bytes read" "$(cat "$MNT/errors" | wc -c)" "$(stat -c %s "$MNT/errors")"
check_eq "web is as it was: replicas 3" 3 "$(cat "$D/web/replicas")"
check_eq "web is as it was: generation 1" 1 "$(yget "$D/web.yaml" metadata.generation)"

check_stop
cfs_done
