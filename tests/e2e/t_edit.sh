#!/bin/bash
# t_edit.sh - editing in place with the tools people use: sed -i, vim,
# cp --backup, a temporary file and mv; and the stale-write check
# (resourceVersion) that refuses an edit based on an old read.
. "$(dirname "$0")/lib.sh"

cfs_start || cfs_abort "server starts and mounts $MNT"
D=$MNT/deployments

web_deployment >"$WORK/web.yaml"
cp "$WORK/web.yaml" "$D/" || cfs_abort "cp web.yaml deployments/"
check_eq "replicas starts at 3" 3 "$(cat "$D/web/replicas")"

gen() { yget "$D/web.yaml" metadata.generation; }
rv() { yget "$D/web.yaml" metadata.resourceVersion; }
leftovers() { ls -a "$D" | grep -vxE '\.|\.\.|web|web\.yaml' | tr '\n' ' '; }

# sed -i on the manifest: sed writes deployments/sedXXXXXX, renames it over.

check "sed -i 's/replicas: 3/replicas: 4/' web.yaml" sed -i 's/replicas: 3/replicas: 4/' "$D/web.yaml"
check_eq "replicas file shows 4 after sed -i" 4 "$(cat "$D/web/replicas")"
check_eq "sed -i's edit bumped generation" 2 "$(gen)"
check_eq "no leftover files after sed -i" "" "$(leftovers)"
check_eq "the image is untouched by sed -i" '"nginx:1.25"' "$(yget "$D/web.yaml" spec.template.spec.containers.0.image)"

# sed -i on a one-value file.

check "sed -i 's/4/5/' web/replicas" sed -i 's/4/5/' "$D/web/replicas"
check_eq "replicas is 5 after sed -i on the value file" 5 "$(cat "$D/web/replicas")"
check_eq "web.yaml shows replicas 5" 5 "$(yget "$D/web.yaml" spec.replicas)"
check_eq "no leftover files in web/ after sed -i" "events history pods replicas revision rollback rollout status" "$(ls -A "$D/web" | tr '\n' ' ' | sed 's/ $//')"
echo 4 >"$D/web/replicas"

# vim (ex mode, no vimrc).  Under /tmp vim's 'backupskip' makes it write
# in place (open without O_TRUNC, ftruncate); with backupskip empty it first
# copies the file to web.yaml~ (backupcopy=auto) or renames it there
# (backupcopy=no) and then writes web.yaml.

vimedit() { timeout 10 vim -es -u NONE -i NONE "$@" "$D/web.yaml"; }
command -v vim >/dev/null || cfs_abort "vim is not installed (scripts/deps.sh installs vim-nox)"
check "vim (in place) edits web.yaml" vimedit -c '%s/replicas: 4/replicas: 6/' -c 'wq'
check_eq "replicas is 6 after vim" 6 "$(cat "$D/web/replicas")"
check_eq "no leftover swap/backup/4913 files after vim" "" "$(leftovers)"
check_eq "vim kept the rest of the object" '"nginx:1.25"' "$(yget "$D/web.yaml" spec.template.spec.containers.0.image)"
check "vim (in place) shortens a line" vimedit -c '%s/image: nginx:1.25/image: nginx:1/' -c 'wq'
check_eq "the image is nginx:1 (no stale tail of the old content)" '"nginx:1"' "$(yget "$D/web.yaml" spec.template.spec.containers.0.image)"
# (the controllers may change its status meanwhile: compare once it holds still)
same_size() {
	local i n s
	for i in $(seq 20); do
		n=$(wc -c <"$D/web.yaml")
		s=$(stat -c %s "$D/web.yaml")
		[ "$n" = "$s" ] && [ "$(wc -c <"$D/web.yaml")" = "$n" ] && break
		sleep 0.1
	done
	echo "$n $s"
}
sizes=$(same_size)
check_eq "size = bytes read after a shortening edit" "${sizes% *}" "${sizes#* }"
check "vim (writebackup copy) edits web.yaml" vimedit -c 'set backupskip=' -c '%s/replicas: 6/replicas: 7/' -c 'wq'
check_eq "replicas is 7 after vim with writebackup" 7 "$(cat "$D/web/replicas")"
check_eq "no leftover web.yaml~ after writebackup" "" "$(leftovers)"
check "vim (backupcopy=no: rename, then write) edits web.yaml" vimedit -c 'set backupskip= backupcopy=no' -c '%s/replicas: 7/replicas: 8/' -c 'wq'
check_eq "replicas is 8 after vim with backupcopy=no" 8 "$(cat "$D/web/replicas")"
check_eq "no leftover files after backupcopy=no" "" "$(leftovers)"
check "vim with 'backup' kept" vimedit -c 'set backupskip= backup' -c '%s/replicas: 8/replicas: 7/' -c 'wq'
check_eq "replicas is 7 after vim with backup" 7 "$(cat "$D/web/replicas")"
if [ -f "$D/web.yaml~" ]; then
	check_eq "the backup web.yaml~ holds the old content" 8 "$(yget "$D/web.yaml~" spec.replicas)"
	check "rm web.yaml~ removes the scratch backup" rm "$D/web.yaml~"
else
	fail "vim left its backup web.yaml~" "ls -a: $(ls -a "$D" | tr '\n' ' ')"
fi
check_eq "no Deployment named web.yaml~ was made" "web.yaml" "$(cd "$D" && ls *.yaml)"
check_eq "nothing left over after the vim edits" "" "$(leftovers)"

# The stale-write check.

cat "$D/web.yaml" >"$WORK/stale.yaml"
stale_rv=$(yget "$WORK/stale.yaml" metadata.resourceVersion)
check "the saved copy carries a resourceVersion ($stale_rv)" test "$stale_rv" != "<missing>"
echo 8 >"$D/web/replicas"
check_eq "someone scales to 8" 8 "$(cat "$D/web/replicas")"
sed -i 's/replicas: 7/replicas: 9/' "$WORK/stale.yaml"
check "the stale copy asks for 9 (control)" grep -q 'replicas: 9' "$WORK/stale.yaml"
cat "$D/web.yaml" >"$WORK/before.yaml"
n=$(errors_lines)
expect_errno EBUSY "cp of a copy based on a stale resourceVersion" cp "$WORK/stale.yaml" "$D/web.yaml"
check_contains "cp's message is EBUSY's" "$LAST_OUT" "Device or resource busy"
check_eq "the stale write changed nothing" "$(cat "$WORK/before.yaml")" "$(cat "$D/web.yaml")"
check_eq "replicas is still 8" 8 "$(cat "$D/web/replicas")"
check_contains "errors names the path and EBUSY" "$(errors_since "$n")" "$MNT/deployments/web.yaml: EBUSY"
expect_errno EBUSY "sed -i over a stale copy (via a temp file and mv)" \
	bash -c "cp '$WORK/stale.yaml' '$D/web.yaml.tmp' && mv '$D/web.yaml.tmp' '$D/web.yaml'"
rm -f "$D/web.yaml.tmp"
check_eq "replicas is still 8 after the stale mv" 8 "$(cat "$D/web/replicas")"

# Negative control: the current file, re-applied unchanged, is accepted
# and changes nothing.
cat "$D/web.yaml" >"$WORK/current.yaml"
rv_before=$(rv)
gen_before=$(gen)
check "cp of the current file (fresh resourceVersion) succeeds" cp "$WORK/current.yaml" "$D/web.yaml"
check_eq "re-applying unchanged keeps resourceVersion" "$rv_before" "$(rv)"
check_eq "re-applying unchanged keeps generation" "$gen_before" "$(gen)"
check_eq "re-applying unchanged keeps the whole object" "$(cat "$WORK/current.yaml")" "$(cat "$D/web.yaml")"
# A fresh copy with a changed spec is accepted.
sed 's/replicas: 8/replicas: 2/' "$WORK/current.yaml" >"$WORK/fresh.yaml"
check "cp of a fresh copy with a change succeeds" cp "$WORK/fresh.yaml" "$D/web.yaml"
check_eq "replicas is 2" 2 "$(cat "$D/web/replicas")"
# A manifest without resourceVersion (kubectl apply -f) is not a stale read.
check "cp of the original manifest (no resourceVersion)" cp "$WORK/web.yaml" "$D/web.yaml"
check_eq "replicas back to 3" 3 "$(cat "$D/web/replicas")"
# A manifest whose uid is of an earlier object of the same name.
cat "$D/web.yaml" >"$WORK/old-uid.yaml"
rm "$D/web.yaml"
cp "$WORK/web.yaml" "$D/web.yaml"
check_not "the re-created web has a new uid (control)" test "$(yget "$WORK/old-uid.yaml" metadata.uid)" = "$(yget "$D/web.yaml" metadata.uid)"
expect_errno EBUSY "cp of a copy of the deleted-and-recreated object (old uid)" cp "$WORK/old-uid.yaml" "$D/web.yaml"

# cp --backup=numbered: cp renames web.yaml to web.yaml.~1~, then creates
# web.yaml with O_CREAT|O_EXCL and writes.

cp "$WORK/web.yaml" "$D/web.yaml"
sed 's/replicas: 3/replicas: 5/' "$WORK/web.yaml" >"$WORK/five.yaml"
check "cp --backup=numbered five.yaml web.yaml" cp --backup=numbered "$WORK/five.yaml" "$D/web.yaml"
check_eq "replicas is 5 after cp --backup" 5 "$(cat "$D/web/replicas")"
if [ -f "$D/web.yaml.~1~" ]; then
	check_eq "the backup web.yaml.~1~ holds the old object" 3 "$(yget "$D/web.yaml.~1~" spec.replicas)"
	check "rm the backup" rm "$D/web.yaml.~1~"
else
	fail "cp --backup=numbered left web.yaml.~1~" "ls -a: $(ls -a "$D" | tr '\n' ' ')"
fi
check_eq "only web and web.yaml remain" "" "$(leftovers)"
check "web.yaml still exists" test -f "$D/web.yaml"

# A temporary file in the folder, then mv over: applies at the rename.

echo 5 >"$D/web/replicas"
sed 's/replicas: 5/replicas: 6/' "$D/web.yaml" >"$D/.web.yaml.edit"
check_eq "writing the temporary file does not apply (still 5)" 5 "$(cat "$D/web/replicas")"
check "the temporary file is listed while it exists" test -f "$D/.web.yaml.edit"
check "mv .web.yaml.edit web.yaml" mv "$D/.web.yaml.edit" "$D/web.yaml"
check_eq "replicas is 6 after mv" 6 "$(cat "$D/web/replicas")"
check_not "the temporary file is gone" test -e "$D/.web.yaml.edit"
# From another filesystem: mv copies (EXDEV).
sed 's/replicas: 6/replicas: 7/' "$D/web.yaml" >"$WORK/tmp-edit.yaml"
check "mv from /tmp over web.yaml" mv "$WORK/tmp-edit.yaml" "$D/web.yaml"
check_eq "replicas is 7 after mv from /tmp" 7 "$(cat "$D/web/replicas")"
# A temporary file with a manifest's name pattern (web.yaml.tmp) is scratch too.
sed 's/replicas: 7/replicas: 1/' "$D/web.yaml" >"$D/web.yaml.tmp"
check_eq "web.yaml.tmp is not applied" 7 "$(cat "$D/web/replicas")"
check_not "web.yaml.tmp made no Deployment" test -e "$D/web.yaml.tmp.yaml"
check "mv web.yaml.tmp web.yaml" mv "$D/web.yaml.tmp" "$D/web.yaml"
check_eq "replicas is 1" 1 "$(cat "$D/web/replicas")"
# A bad temporary file renamed over is refused and changes nothing.
echo "not: [valid" >"$D/.bad.swp"
expect_errno EINVAL "rename(2) of a malformed temporary file over web.yaml" cfs_rename "$D/.bad.swp" "$D/web.yaml"
check_contains "the errors line names web.yaml" "$(tail -n 1 "$MNT/errors")" "$MNT/deployments/web.yaml: EINVAL"
check_eq "replicas is still 1" 1 "$(cat "$D/web/replicas")"
rm -f "$D/.bad.swp"
check_eq "nothing left over at the end" "" "$(leftovers)"

check "the server is still running" cfs_alive
check_stop
cfs_done
