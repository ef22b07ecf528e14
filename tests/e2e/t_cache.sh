#!/bin/bash
# t_cache.sh - the kernel's cache of generated files (fs/fs_cache.c) under
# concurrent writers and readers: no read that starts after a write's
# close() (or write(), rename(), an HTTP response) returned shows a value
# older than that write's, through any path of the object.
#
# One counter, one lock: each writer process takes the lock, writes the
# next value (7 digits: sizes never change) through its own way, and, once
# that returned, records it as the last value of its object; then lets go.
# Writers: the one-value file configmaps/c/data/v, sed -i of c.yaml
# (scratch file + rename), cp of a manifest onto c.yaml, PATCH of the
# ConfigMap over HTTPS, and PATCH of node n1's status (its capacity) over
# HTTPS.  Readers (other processes) loop: read the last values recorded,
# then every path of both objects (data/v, c.yaml, nodes/n1/capacity,
# nodes/n1/status, n1.yaml), each of which must show that value or a newer
# one.  The test fails when the server is started with CFS_TEST_NO_INVAL=1
# (cache on, invalidations never sent).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"

ROUNDS=${CFS_CACHE_ROUNDS:-25} # writes per writer
READERS=3

cfs_start || cfs_abort "server starts and mounts $MNT"
http_env

C=$MNT/configmaps
cm_yaml() {
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  v: "%s"\n' "$1"
}
cm_yaml 1000000 >"$WORK/c.yaml"
check "cp a ConfigMap" cp "$WORK/c.yaml" "$C/c.yaml"
printf 'apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\nstatus:\n  capacity:\n    cpu: "2"\n' >"$WORK/n1.yaml"
check "cp a Node" cp "$WORK/n1.yaml" "$MNT/nodes/n1.yaml"
a /api/v1/nodes/n1/status -X PATCH -H "Content-Type: application/merge-patch+json" \
	--data-binary '{"status":{"capacity":{"example.com/seq":"1000000"}}}' >/dev/null
check_eq "PATCH of n1's status: 200" 200 "$(code)"
echo 1000000 >"$WORK/seq"
echo 1000000 >"$WORK/last.c"
echo 1000000 >"$WORK/last.n1"
# Warm the cache: every path read once.
for f in "$C/c/data/v" "$C/c.yaml" "$MNT/nodes/n1/capacity" "$MNT/nodes/n1/status" \
	"$MNT/nodes/n1.yaml"; do
	cat "$f" >/dev/null
done
check_eq "data/v shows the first value" 1000000 "$(cat "$C/c/data/v")"
check_contains "capacity shows the first value" "$(cat "$MNT/nodes/n1/capacity")" \
	"example.com/seq: \"1000000\""

# writer HOW: ROUNDS writes through HOW, each under the lock.
writer() {
	local how=$1 i v obj
	exec 9>"$WORK/seq.lock"
	for ((i = 0; i < ROUNDS; i++)); do
		flock 9
		v=$(($(<"$WORK/seq") + 1))
		echo $v >"$WORK/seq"
		obj=c
		case $how in
		oneval) printf %s "$v" >"$C/c/data/v" ;;
		sed) sed -i "s/^  v: .*/  v: \"$v\"/" "$C/c.yaml" ;;
		cp)
			cm_yaml "$v" >"$WORK/cp.yaml"
			cp "$WORK/cp.yaml" "$C/c.yaml"
			;;
		http)
			a /api/v1/namespaces/default/configmaps/c -X PATCH \
				-H "Content-Type: application/merge-patch+json" \
				--data-binary "{\"data\":{\"v\":\"$v\"}}" >/dev/null
			;;
		status)
			obj=n1
			a /api/v1/nodes/n1/status -X PATCH \
				-H "Content-Type: application/merge-patch+json" \
				--data-binary "{\"status\":{\"capacity\":{\"example.com/seq\":\"$v\"}}}" \
				>/dev/null
			;;
		esac || echo "WRITEFAIL $how $v"
		echo $v >"$WORK/last.$obj.tmp"
		mv "$WORK/last.$obj.tmp" "$WORK/last.$obj"
		flock -u 9
	done
}

# seq_in TEXT: the 7-digit value TEXT shows ("v: "N"", "seq: "N"", or N).
seq_in() {
	if [[ $1 =~ (v|seq):\ \"([0-9]{7})\" ]]; then
		echo "${BASH_REMATCH[2]}"
	elif [[ $1 =~ ^([0-9]{7})$ ]]; then
		echo "${BASH_REMATCH[1]}"
	else
		echo 0
	fi
}

# reader N: until $WORK/stop, reads every path after reading the last
# values; prints STALE lines, and the number of rounds at the end.
reader() {
	local n=0 want_c want_n f got text
	while [ ! -e "$WORK/stop" ]; do
		want_c=$(<"$WORK/last.c")
		want_n=$(<"$WORK/last.n1")
		for f in "$C/c/data/v" "$C/c.yaml" "$MNT/nodes/n1/capacity" \
			"$MNT/nodes/n1/status" "$MNT/nodes/n1.yaml"; do
			text=$(<"$f")
			got=$(seq_in "$text")
			case $f in
			*/c/data/v | */c.yaml) [ "$got" -ge "$want_c" ] || echo "STALE $f: $got < $want_c" ;;
			*) [ "$got" -ge "$want_n" ] || echo "STALE $f: $got < $want_n" ;;
			esac
		done
		n=$((n + 1))
	done
	echo "ROUNDS $n"
}

rm -f "$WORK/stop"
rpids=""
for ((r = 0; r < READERS; r++)); do
	reader >"$WORK/reader.$r" 2>&1 &
	rpids="$rpids $!"
done
CFS_BG_PIDS="$CFS_BG_PIDS $rpids"
wpids=""
for how in oneval sed cp http status; do
	writer $how >"$WORK/writer.$how" 2>&1 &
	wpids="$wpids $!"
done
CFS_BG_PIDS="$CFS_BG_PIDS $wpids"
for p in $wpids; do wait "$p"; done
touch "$WORK/stop"
for p in $rpids; do wait "$p"; done

total=$((5 * ROUNDS + 1000000))
check_eq "every write was made ($((5 * ROUNDS)) of them)" "$total" "$(<"$WORK/seq")"
check_eq "no write was refused" "" "$(cat "$WORK"/writer.* | grep WRITEFAIL | head -5)"
check_eq "no reader saw a value older than a write that had returned" "" \
	"$(cat "$WORK"/reader.* | grep STALE | head -10)"
rounds=$(cat "$WORK"/reader.* | awk '$1 == "ROUNDS" { n += $2 } END { print n + 0 }')
check "the readers read while the writers wrote ($rounds rounds)" test "${rounds:-0}" -ge $((READERS * 5))
last_c=$(<"$WORK/last.c")
last_n=$(<"$WORK/last.n1")
check_eq "data/v shows the last write" "$last_c" "$(cat "$C/c/data/v")"
check_eq "c.yaml shows the last write" "\"$last_c\"" "$(yget "$C/c.yaml" data.v)"
check_eq "n1's capacity shows the last write" "\"$last_n\"" \
	"$(yget "$MNT/nodes/n1/capacity" 'example\.com/seq')"
check_eq "the size of data/v is its content's" 7 "$(stat -c %s "$C/c/data/v")"
check_eq "the size of c.yaml is its content's" "$(cat "$C/c.yaml" | wc -c)" "$(stat -c %s "$C/c.yaml")"

# An fd open across a change reads old or new; a new open reads new.
exec 8<"$C/c/data/v"
printf 2000000 >"$C/c/data/v"
check_eq "a new open after a write reads it" 2000000 "$(cat "$C/c/data/v")"
exec 8<&-

# Deletion: the names go, a new object of the same name shows its own.
check "rm c.yaml" rm "$C/c.yaml"
check_not "c.yaml is gone" test -e "$C/c.yaml"
check_not "c/data/v is gone" cat "$C/c/data/v"
cm_yaml 3000000 >"$WORK/c.yaml"
check "cp it again" cp "$WORK/c.yaml" "$C/c.yaml"
check_eq "data/v shows the new object's" 3000000 "$(cat "$C/c/data/v")"
check_contains "ls -l lists c.yaml" "$(ls -l "$C")" "c.yaml"

# The FUSE module's wake_here (fs/fs_kernel.c): set by a server started
# without --fuse-wake-here off, where the kernel has it; a bad value of the
# option is refused before anything starts.
WAKE=/sys/module/fuse/parameters/wake_here
if [ -e "$WAKE" ]; then
	check_eq "the server set the FUSE module's wake_here" Y "$(cat "$WAKE")"
else
	ok "# skip: this kernel has no FUSE wake_here"
fi
out=$("$CLUSTERFS" server --fuse-wake-here maybe --mount "$WORK/mnt2" --data-dir "$WORK/d2" 2>&1)
check_eq "--fuse-wake-here maybe: exit 2" 2 "$?"
check_contains "--fuse-wake-here maybe: why" "$out" "--fuse-wake-here: want on or off"
check_not "--fuse-wake-here maybe: nothing mounted" mountpoint -q "$WORK/mnt2"

cfs_done
