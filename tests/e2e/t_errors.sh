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

deploy() { web_deployment "$1" "${2:-3}" 80; } # NAME [REPLICAS]
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

# row ERRNO ERRPATH REASON DESCRIPTION CMD...: one bad input.  ERRPATH
# (relative to the mount; "-" for none: refusals the kernel makes alone)
# is the path the one new errors line must name, after which comes
# "ERRNO: " and a reason matching REASON (grep -E).  For "-" rows, REASON
# must match what the command printed instead.
row() {
	local ename=$1 errpath=$2 reason=$3 desc=$4 before n after new
	shift 4
	before=$(snapshot)
	n=$(errors_lines)
	expect_errno "$ename" "$desc" "$@"
	new=$(errors_since "$n")
	if [ "$errpath" != "-" ]; then
		check_eq "$desc: one line in errors" 1 "$(printf '%s' "$new" | grep -c .)"
		check_contains "$desc: errors names the path and $ename" "$new" "$MNT/$errpath: $ename: "
		check_reason "$desc" "$reason" "${new#*"$MNT/$errpath: $ename: "}"
	else
		check_eq "$desc: no line in errors (the kernel refused it)" "" "$new"
		check_reason "$desc" "$reason" "$LAST_OUT"
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

# check_reason DESCRIPTION REGEX TEXT: TEXT (a reason) matches REGEX.
check_reason() {
	if printf '%s\n' "$3" | grep -qE -- "$2"; then
		ok "$1: the reason says why"
	else
		fail "$1: the reason says why" "expected (grep -E): $2" "actual: $3"
	fi
}

# row_unreported ERRPATH REASON DESCRIPTION CMD...: a refusal no close() can
# report: a file opened to be replaced (O_TRUNC, a new file) and closed
# without a write is applied at release, after close() returned 0 (a flush
# with nothing written applies nothing: the shell closes its own
# descriptor so before writing).  Its exit status is not checked; the rest
# is (the errors line may come a moment after close).
row_unreported() {
	local errpath=$1 reason=$2 desc=$3 before n after new i existed=0
	shift 3
	[ -e "$MNT/$errpath" ] && existed=1
	before=$(snapshot)
	n=$(errors_lines)
	"$@" >/dev/null 2>&1
	for i in $(seq 1 50); do
		[ -n "$(errors_since "$n")" ] && break
		sleep 0.1
	done
	new=$(errors_since "$n")
	check_eq "$desc: one line in errors" 1 "$(printf '%s' "$new" | grep -c .)"
	check_contains "$desc: errors names the path and EINVAL" "$new" "$MNT/$errpath: EINVAL: "
	check_reason "$desc" "$reason" "${new#*"$MNT/$errpath: EINVAL: "}"
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

# The inputs.

printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n spec: [unclosed\n  replicas: 3\n' >"$W/malformed.yaml"
head -c 4096 /dev/urandom >"$W/garbage.bin"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nul\ndata:\n  k: "a\0b"\n' >"$W/nul.yaml"
svc x 80 >"$W/svc-as-deploy.yaml"
deploy other >"$W/name-mismatch.yaml"         # written into web.yaml
sed 's/^  name: web$/  labels: {app: web}/' "$W/web.yaml" >"$W/noname.yaml" # no name, metadata kept
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

row EINVAL deployments/web.yaml '^yaml: line 5 column 2: did not find expected key' "malformed YAML over web.yaml" cp "$W/malformed.yaml" "$D/web.yaml"
check_contains "malformed YAML: the reason gives a line" "$(tail -n 1 "$MNT/errors")" "line"
row EINVAL deployments/new.yaml '^yaml: line 5 column 2: did not find expected key' "malformed YAML as a new file" cp "$W/malformed.yaml" "$D/new.yaml"
row EINVAL deployments/web.yaml '^yaml: line [0-9]+ column [0-9]+: (NUL byte in input|.*UTF-8|.*Unicode|control characters)' "4 KiB of binary garbage" cp "$W/garbage.bin" "$D/web.yaml"
row EINVAL configmaps/nul.yaml '^yaml: line 6 column 8: NUL byte in input' "a NUL byte in a value" cfs_write "$MNT/configmaps/nul.yaml" "$W/nul.yaml"
row EINVAL deployments/x.yaml 'kind Service does not belong in deployments/' "a Service written as deployments/x.yaml" cp "$W/svc-as-deploy.yaml" "$D/x.yaml"
check_contains "wrong kind: the reason names the kind" "$(tail -n 1 "$MNT/errors")" "Service"
row EINVAL deployments/web.yaml 'Deployment "other": metadata\.name does not match the file name "web"' "metadata.name other written into web.yaml (a rename is not an update)" cp "$W/name-mismatch.yaml" "$D/web.yaml"
check_contains "name mismatch: the reason says what to do" "$(tail -n 1 "$MNT/errors")" "cp it as a new file into $MNT/deployments/ or write it to $MNT/apply"
row EINVAL deployments/Bad_Name.yaml 'metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain' "invalid name Bad_Name (from the file name)" cp "$W/noname.yaml" "$D/Bad_Name.yaml"
row EINVAL deployments/Bad_Name.yaml 'metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain' "invalid name Bad_Name (in the manifest)" cp "$W/badname-in-manifest.yaml" "$D/Bad_Name.yaml"
row EINVAL apply 'metadata\.name: Invalid value: "a+.*must be no more than 253 characters' "a 300-character name" cfs_write "$MNT/apply" "$W/long-name.yaml"
row EINVAL services/$S64.yaml 'metadata\.name: Invalid value: "sa{63}": must be no more than 63 characters' "a 64-character Service name (DNS-1035 label)" cp "$W/svc-64.yaml" "$MNT/services/$S64.yaml"
row EINVAL apply 'metadata\.name: Invalid value: "\.\./x": may not contain .?/' "metadata.name ../x" cfs_write "$MNT/apply" "$W/dotdot.yaml"
row EINVAL deployments/web.yaml 'unknown apiVersion "apps/v2" for Deployment' "unknown apiVersion apps/v2" cp "$W/v2.yaml" "$D/web.yaml"
row EINVAL deployments/web.yaml 'metadata\.namespace "kube-system" does not match the folder'\''s namespace "default"' "metadata.namespace kube-system in deployments/ (namespace default)" cp "$W/other-ns.yaml" "$D/web.yaml"
row EINVAL deployments/web/replicas 'replicas: Invalid value: -1: must be between 0 and 2147483647' "echo -1 > replicas" sh_write -1 "$D/web/replicas"
check_contains "echo -1: the shell reports the write error" "$LAST_OUT" "write error: Invalid argument"
row EINVAL deployments/web/replicas 'replicas: want a whole number, got "abc"' "echo abc > replicas" sh_write abc "$D/web/replicas"
row EINVAL deployments/web/replicas 'replicas: want a whole number, got "1\.5"' "echo 1.5 > replicas" sh_write 1.5 "$D/web/replicas"
row EINVAL deployments/web/replicas 'replicas: Invalid value: 99999999999: must be between 0 and 2147483647' "echo 99999999999 > replicas (over int32)" sh_write 99999999999 "$D/web/replicas"
row EINVAL deployments/web/replicas 'replicas: want a whole number, got nothing' "an empty write to replicas" sh_write "" "$D/web/replicas"
row EINVAL deployments/web.yaml 'spec\.replicas: Invalid value: -1: must be greater than or equal to 0' "replicas: -1 in the YAML" cp "$W/neg-replicas.yaml" "$D/web.yaml"
row EINVAL deployments/web.yaml 'spec\.replicas: Invalid value: "three": must be an integer' "replicas: \"three\" in the YAML" cp "$W/str-replicas.yaml" "$D/web.yaml"
row EROFS deployments/web/status '^read-only file$' "echo x > deployments/web/status" sh_write x "$D/web/status"
row EROFS deployments/web/revision '^read-only file$' "echo x > deployments/web/revision" sh_write x "$D/web/revision"
row EROFS status '^read-only file$' "echo x > status" sh_write x "$MNT/status"
row EROFS events '^read-only file$' "echo x > events" sh_write x "$MNT/events"
row EROFS errors '^read-only file$' "echo x > errors" sh_write x "$MNT/errors"
row EROFS README '^read-only file$' "echo x > README" sh_write x "$MNT/README"
row EROFS services/web/clusterip '^read-only file$' "echo 10.0.0.1 > services/web/clusterip" sh_write 10.0.0.1 "$MNT/services/web/clusterip"
row EFBIG configmaps/big.yaml 'a manifest may be at most 1048576 bytes' "a 3 MB manifest (cp)" cp "$W/big.yaml" "$MNT/configmaps/big.yaml"
row EFBIG configmaps/big.yaml 'a manifest may be at most 1048576 bytes' "a 3 MB manifest (cfs_write)" cfs_write "$MNT/configmaps/big.yaml" "$W/big.yaml"
row EFBIG deployments/web.yaml 'a manifest may be at most 1048576 bytes' "a 3 MB manifest over web.yaml" cp "$W/big.yaml" "$D/web.yaml"
row EFBIG apply 'a manifest may be at most 1048576 bytes' "a 3 MB manifest to apply" cfs_write "$MNT/apply" "$W/big.yaml"
row EFBIG configmaps/lol.yaml 'aliases expand past [0-9]+ bytes' "a billion-laughs alias bomb" cp "$W/lol.yaml" "$MNT/configmaps/lol.yaml"
row EFBIG apply 'aliases expand past [0-9]+ bytes' "a billion-laughs alias bomb to apply" cfs_write "$MNT/apply" "$W/lol.yaml"
row EINVAL deployments/deep.yaml 'nesting deeper than 100' "20,000 nested [ brackets" cp "$W/deep.yaml" "$D/deep.yaml"
row EINVAL apply '^document 2\b.*Deployment "second": spec\.replicas: Invalid value: -1' "3 documents, the 2nd invalid" cfs_write "$MNT/apply" "$W/multi-bad-2.yaml"
check_contains "the reason names document 2" "$(tail -n 1 "$MNT/errors")" "document 2"
check_not "all or nothing: the 1st document (configmaps/first) was not applied" test -e "$MNT/configmaps/first.yaml"
check_not "all or nothing: the 3rd document (configmaps/third) was not applied" test -e "$MNT/configmaps/third.yaml"
row ENOENT apply '^document 2\b.*ConfigMap "m2": namespace "nowhere" not found' "3 documents, the 2nd in a missing namespace" cfs_write "$MNT/apply" "$W/multi-bad-ns.yaml"
check_contains "the reason names document 2" "$(tail -n 1 "$MNT/errors")" "document 2"
check_contains "the reason names the missing namespace" "$(tail -n 1 "$MNT/errors")" "nowhere"
check_not "all or nothing: m1 was not applied (rolled back)" test -e "$MNT/configmaps/m1.yaml"
check_not "all or nothing: m3 was not applied" test -e "$MNT/configmaps/m3.yaml"
row EINVAL deployments/web.yaml 'web\.yaml holds one object, got 2 documents' "two documents written to web.yaml" cp "$W/two-docs-web.yaml" "$D/web.yaml"
row EINVAL configmaps/two-a.yaml 'two-a\.yaml holds one object, got 2 documents' "two documents written to a new NAME.yaml" cp "$W/two-docs.yaml" "$MNT/configmaps/two-a.yaml"
row EINVAL deployments/web.yaml 'spec\.template\.metadata\.labels: .*selector does not match template labels' "selector does not match the template's labels" cp "$W/selector-mismatch.yaml" "$D/web.yaml"
row EINVAL deployments/web.yaml 'spec\.selector: .*field is immutable' "selector changed (immutable)" cp "$W/selector-change.yaml" "$D/web.yaml"
row EINVAL deployments/web.yaml 'containerPort: Invalid value: 70000: must be between 1 and 65535' "containerPort 70000" cp "$W/container-port.yaml" "$D/web.yaml"
row EINVAL services/big.yaml 'spec\.ports\[0\]\.port: Invalid value: 70000: must be between 1 and 65535' "Service port 70000" cp "$W/svc-port.yaml" "$MNT/services/big.yaml"
row EINVAL services/ext.yaml 'spec\.type: Unsupported value: "ExternalName"' "an unsupported feature (ExternalName) is refused, not ignored" cp "$W/svc-external.yaml" "$MNT/services/ext.yaml"
check_contains "ExternalName: the reason says it is not supported" "$(tail -n 1 "$MNT/errors")" "Unsupported value"
row EINVAL deployments/web.yaml 'spec\.template\.spec\.hostNetwork: Unsupported value: true' "hostNetwork: true is refused, not ignored" cp "$W/host-network.yaml" "$D/web.yaml"
row EINVAL deployments/web.yaml 'metadata\.resourceVersion: Invalid value' "metadata.resourceVersion \"abc\"" cp "$W/bad-rv.yaml" "$D/web.yaml"
row EINVAL apply 'a manifest must be a mapping \(got a sequence\)' "a YAML sequence, not a mapping" cfs_write "$MNT/apply" "$W/sequence.yaml"
row EINVAL apply 'unknown kind "Frobnicator"' "an unknown kind" cfs_write "$MNT/apply" "$W/unknown-kind.yaml"
row EINVAL apply 'Event "e": involvedObject: Required value' "an Event without its involvedObject" cfs_write "$MNT/apply" "$W/event.yaml"
row_unreported deployments/new.yaml '^the manifest is empty' "an empty new file (touch)" touch "$D/new.yaml"
row_unreported deployments/new.yaml '^the manifest is empty' "an empty new file (: > new.yaml)" bash -c ": > '$D/new.yaml'"
row_unreported deployments/new.yaml '^the manifest is empty' "an empty new file (open, close)" cfs_write "$D/new.yaml" "$W/empty.yaml"
row EINVAL deployments/new.yaml '^the manifest is empty' "a new file of only comments and markers" cp "$W/comments.yaml" "$D/new.yaml"
row_unreported deployments/web.yaml '^the manifest is empty' "web.yaml truncated to nothing" cfs_write "$D/web.yaml" "$W/empty.yaml"
row EINVAL apply '^the manifest is empty' "an apply of only comments and markers" cfs_write "$MNT/apply" "$W/comments.yaml"
row ENOENT apply 'Deployment "web2": namespace "nowhere" not found' "a Deployment in a namespace that does not exist" cfs_write "$MNT/apply" "$W/missing-ns.yaml"
row ENOENT - 'cannot create regular file .*: No such file or directory' "cp into namespaces/nowhere/deployments/ (no such namespace)" cp "$W/web.yaml" "$MNT/namespaces/nowhere/deployments/"
row EPERM deployments/x 'only namespaces are made with mkdir' "mkdir deployments/x" mkdir "$D/x"
row EPERM nowhere 'no folder can be made here' "mkdir at the top" mkdir "$MNT/nowhere"
row EPERM deployments/web/replicas 'this file cannot be removed' "rm deployments/web/replicas" rm "$D/web/replicas"
row EPERM status 'this file cannot be removed' "rm status" rm "$MNT/status"
row EPERM namespaces/default 'namespace "default" may not be deleted' "rmdir namespaces/default" rmdir "$MNT/namespaces/default"
row EPERM deployments 'this folder cannot be removed' "rmdir deployments" rmdir "$D"
row EINVAL deployments/other.yaml 'objects cannot be renamed' "rename web.yaml to other.yaml" cfs_rename "$D/web.yaml" "$D/other.yaml"
row EACCES deployments/web/nosuchfield 'no such field of Deployment' "echo x > deployments/web/nosuchfield" sh_write x "$D/web/nosuchfield"
row EACCES - 'apply: Permission denied' "cat apply (write-only)" cat "$MNT/apply"
printf '\377\376bad' >"$W/notutf8"
row EINVAL configmaps/cfg/data/k 'data\.k: the value is not UTF-8 text' "non-UTF-8 bytes to configmaps/cfg/data/k" cfs_write "$MNT/configmaps/cfg/data/k" "$W/notutf8"

# After all of it: the errors file and the status warnings line.
nerr=$(errors_lines)
if [ "$nerr" -ge 60 ]; then ok "errors holds a line per refusal ($nerr)"; else fail "errors holds a line per refusal" "only $nerr lines"; fi
check_contains "status reports the refused writes" "$(cat "$MNT/status")" "refused write"
check_eq "size of errors = bytes read" "$(cat "$MNT/errors" | wc -c)" "$(stat -c %s "$MNT/errors")"
check_eq "web is as it was: replicas 3" 3 "$(cat "$D/web/replicas")"
check_eq "web is as it was: generation 1" 1 "$(yget "$D/web.yaml" metadata.generation)"

check_stop
cfs_done
