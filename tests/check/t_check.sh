#!/bin/sh
# t_check.sh - the selftest of scripts/check.sh (`make check-selftest`).
#
# Builds a small synthetic tree with the project's layout and .clang-format,
# checks that check.sh passes on it, then plants one violation at a time in
# a copy (a cross-folder include, the engine's inner rule, a public API
# header pulling the store in, an unknown engine folder, a long function, a
# long file, a badly formatted file) and checks that check.sh fails and
# prints exactly the expected `file:line: message` lines.  It does not
# depend on the state of the real tree.  Exits 1 if a case fails.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
check="$top/scripts/check.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/t_check.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
base="$tmp/base"
fails=0
cases=0

# put FILE: writes stdin to FILE under the tree being built ($t).
put() {
	mkdir -p "$(dirname "$t/$1")"
	cat >"$t/$1"
}

# header NAME INCLUDES...: a header with a guard, a declaration and includes.
header() {
	h=$1
	shift
	{
		echo "/* $h - a fixture header. */"
		echo "#ifndef FIXTURE_$(echo "$h" | tr 'a-z/.' 'A-Z__')"
		echo "#define FIXTURE_$(echo "$h" | tr 'a-z/.' 'A-Z__')"
		echo
		for i in "$@"; do
			echo "#include \"$i\""
		done
		[ $# -gt 0 ] && echo
		echo "int $(basename "$h" .h)_id(int x);"
		echo
		echo "#endif"
	} | put "$h"
}

# source NAME INCLUDES...: a source file with includes and one small function.
source_file() {
	c=$1
	shift
	{
		echo "/* $c - a fixture source file. */"
		for i in "$@"; do
			echo "#include \"$i\""
		done
		echo
		echo "int $(basename "$c" .c)_id(int x)"
		echo "{"
		echo "	return x + 1;"
		echo "}"
	} | put "$c"
}

# fn NAME LINES: a function spanning LINES lines, from "{" to "}".
fn() {
	echo "int $1(int x)"
	echo "{"
	i=3
	while [ "$i" -lt "$2" ]; do
		echo "	x++;"
		i=$((i + 1))
	done
	echo "	return x;"
	echo "}"
}

# A tree that keeps every rule, close to each limit.
t=$base
mkdir -p "$t"
cp "$top/.clang-format" "$t/"
header engine/obj.h
header engine/mem.h engine/obj.h
source_file engine/obj.c engine/obj.h engine/mem.h
header engine/valid/valid.h engine/obj.h
source_file engine/valid/valid.c engine/valid/valid.h engine/mem.h
header engine/store/store.h engine/obj.h
header engine/store/store_int.h engine/store/store.h
source_file engine/store/store.c engine/store/store_int.h engine/mem.h
header engine/api/api.h engine/obj.h engine/valid/valid.h
header engine/api/api_int.h engine/api/api.h engine/store/store.h
source_file engine/api/api.c engine/api/api_int.h engine/store/store.h engine/valid/valid.h
header engine/client/informer.h engine/api/api.h
source_file engine/client/informer.c engine/client/informer.h engine/mem.h
header engine/controllers/ctrl.h engine/client/informer.h
source_file engine/controllers/ctrl.c engine/controllers/ctrl.h engine/api/api.h \
	engine/valid/valid.h engine/obj.h
header engine/sched/sched.h engine/api/api.h
source_file engine/sched/sched.c engine/sched/sched.h engine/client/informer.h \
	engine/valid/valid.h
header fs/fs.h engine/api/api.h
source_file fs/fs.c fs/fs.h engine/client/informer.h engine/valid/valid.h engine/mem.h
header runtime/kubelet/kubelet.h engine/api/api.h
source_file runtime/kubelet/kubelet.c runtime/kubelet/kubelet.h engine/client/informer.h
source_file runtime/net/net.c runtime/kubelet/kubelet.h engine/valid/valid.h engine/obj.h
header runtime/spawn.h engine/mem.h
header http/http.h engine/api/api.h
source_file http/http.c http/http.h engine/client/informer.h engine/valid/valid.h engine/mem.h
source_file main.c engine/store/store.h engine/api/api.h engine/controllers/ctrl.h \
	engine/sched/sched.h fs/fs.h runtime/kubelet/kubelet.h http/http.h
header tests/unit/unit.h engine/store/store.h fs/fs.h runtime/kubelet/kubelet.h
# Tests may include anything and hold long functions.
{
	echo "/* test_all.c - a fixture test. */"
	echo "#include \"tests/unit/unit.h\""
	echo "#include \"engine/controllers/ctrl.h\""
	echo
	fn test_long 150
} | put tests/unit/test_all.c
# Exactly at the limits: a 100-line function, a 1,000-line file.
fn fs_hundred 100 | put fs/hundred.c
{
	echo "/* table.h - a header of exactly 1,000 lines. */"
	i=2
	while [ "$i" -le 1000 ]; do
		echo "int table_$i;"
		i=$((i + 1))
	done
} | put runtime/net/table.h
# A 150-line initializer is no function; braces in literals and comments
# are not braces.
{
	echo "/* strings.c - braces the parse must not count. */"
	echo "static const char *const rows[] = {"
	i=0
	while [ "$i" -lt 150 ]; do
		echo "    \"row $i of a table that is long enough that two rows do not fit in one line\","
		i=$((i + 1))
	done
	echo "};"
	echo
	echo "int braces(int x)"
	echo "{"
	printf '%s\n' '	const char *s = "{{{\"{"; /* { */'
	echo "	char c = '}';"
	printf '%s\n' "	char d = '\\'';"
	echo "	// }"
	echo "	if (x) {"
	echo "		x += s[0] + c + d + rows[0][0];"
	echo "	}"
	echo "	return x;"
	echo "}"
} | put engine/valid/strings.c

# run NAME: runs check.sh on $t and compares its findings with stdin (the
# exact lines expected; none for a tree that must pass).
run() {
	cases=$((cases + 1))
	out=$(sh "$check" "$t" 2>"$tmp/err")
	rc=$?
	want=$(cat)
	if [ -z "$want" ]; then
		want_rc=0
	else
		want_rc=1
	fi
	if [ "$rc" = "$want_rc" ] && [ "$out" = "$want" ]; then
		echo "ok - $1"
	else
		fails=$((fails + 1))
		echo "FAIL - $1: exit $rc (want $want_rc)"
		echo "  expected:"
		printf '%s\n' "$want" | sed 's/^/    /'
		echo "  got:"
		printf '%s\n' "$out" | sed 's/^/    /'
		sed 's/^/    stderr: /' "$tmp/err"
	fi
	rm -rf "$tmp/case"
}

# plant: starts a case from a copy of the clean tree.
plant() {
	rm -rf "$tmp/case"
	cp -R "$base" "$tmp/case"
	t=$tmp/case
}

t=$base
run "a clean tree passes" </dev/null

plant
source_file fs/plant.c fs/fs.h runtime/kubelet/kubelet.h
run "fs including runtime" <<EOF
fs/plant.c:3: fs/ may not include runtime/kubelet/kubelet.h
EOF

plant
source_file runtime/net/plant.c engine/obj.h runtime/kubelet/kubelet.h fs/fs.h
run "runtime including fs" <<EOF
runtime/net/plant.c:4: runtime/ may not include fs/fs.h
EOF

plant
source_file http/plant.c http/http.h engine/store/store.h fs/fs.h engine/controllers/ctrl.h
source_file fs/plant.c fs/fs.h http/http.h
run "http including the store, fs, controllers; fs including http" <<EOF
fs/plant.c:3: fs/ may not include http/http.h
http/plant.c:3: http/ may not include engine/store/store.h
http/plant.c:4: http/ may not include fs/fs.h
http/plant.c:5: http/ may not include engine/controllers/ctrl.h
EOF

plant
source_file fs/plant.c fs/fs.h engine/controllers/ctrl.h engine/sched/sched.h \
	engine/store/store.h
run "fs including controllers, sched and store" <<EOF
fs/plant.c:3: fs/ may not include engine/controllers/ctrl.h
fs/plant.c:4: fs/ may not include engine/sched/sched.h
fs/plant.c:5: fs/ may not include engine/store/store.h
EOF

plant
source_file runtime/hollow/plant.c runtime/spawn.h engine/controllers/ctrl.h \
	engine/store/store.h
run "runtime including controllers and store" <<EOF
runtime/hollow/plant.c:3: runtime/ may not include engine/controllers/ctrl.h
runtime/hollow/plant.c:4: runtime/ may not include engine/store/store.h
EOF

plant
source_file engine/controllers/plant.c engine/controllers/ctrl.h engine/store/store.h
run "a controller including the store" <<EOF
engine/controllers/plant.c:3: engine/controllers/ may not include engine/store/store.h
EOF

plant
source_file engine/store/plant.c engine/store/store.h engine/api/api.h
run "the store including the API" <<EOF
engine/store/plant.c:3: engine/store/ may not include engine/api/api.h
EOF

plant
header engine/sched/plant.h engine/store/store.h engine/controllers/ctrl.h
run "the scheduler including the store and a controller" <<EOF
engine/sched/plant.h:5: engine/sched/ may not include engine/store/store.h
engine/sched/plant.h:6: engine/sched/ may not include engine/controllers/ctrl.h
EOF

plant
source_file engine/client/plant.c engine/client/informer.h engine/controllers/ctrl.h
run "the client including a controller" <<EOF
engine/client/plant.c:3: engine/client/ may not include engine/controllers/ctrl.h
EOF

plant
source_file engine/valid/plant.c engine/valid/valid.h engine/api/api.h
run "validation including the API" <<EOF
engine/valid/plant.c:3: engine/valid/ may not include engine/api/api.h
EOF

plant
source_file engine/plant.c engine/obj.h engine/valid/valid.h fs/fs.h
run "the engine base including valid and fs" <<EOF
engine/plant.c:3: engine/ (base) may not include engine/valid/valid.h
engine/plant.c:4: engine/ (base) may not include fs/fs.h
EOF

plant
header engine/api/svc.h engine/api/api.h engine/store/store.h
run "a public API header including the store" <<EOF
engine/api/svc.h:6: public API header engine/api/svc.h may not include engine/store/store.h (forward-declare instead)
EOF

plant
source_file engine/http/http.c engine/api/api.h
run "an engine folder without a rule" <<EOF
engine/http/http.c:1: engine/http/ is not in the layering rules (give it its rule in scripts/check.sh)
EOF

plant
source_file fs/plant.c fs.h tests/unit/unit.h
run "includes that are not production paths from the root" <<EOF
fs/plant.c:2: "fs.h" is not a file (includes name their path from the repository root)
fs/plant.c:3: production code may not include tests/unit/unit.h
EOF

plant
printf '/* plant.c - an include in <>. */\n#include <engine/store/store.h>\n' | put fs/plant.c
run "an include in <> of a project header" <<EOF
fs/plant.c:2: fs/ may not include engine/store/store.h
EOF

plant
{
	echo "/* long.c - one function too long. */"
	echo
	fn fs_short 20
	echo
	fn fs_long 101
} | put fs/long.c
run "a 101-line function" <<EOF
fs/long.c:26: function fs_long is 101 lines (limit 100)
EOF

plant
{
	echo "/* long.c - a long function in main.c. */"
	fn main 130
} | put main.c
run "a long function in main.c" <<EOF
main.c:3: function main is 130 lines (limit 100)
EOF

plant
{
	echo "/* literals.c - braces in literals and comments are not braces. */"
	echo "int literals(int x)"
	echo "{"
	echo "	char c = '}';"
	printf '%s\n' "	char d = '\\'';"
	printf '%s\n' '	const char *s = "{\"}}"; /* } */'
	echo "	// }"
	fn body 97 | sed -n '3,97p'
	echo "}"
} | put engine/literals.c
run "braces in literals and comments" <<EOF
engine/literals.c:3: function literals is 101 lines (limit 100)
EOF

plant
echo "}" >>"$t/engine/obj.c"
run "a stray closing brace" <<EOF
engine/obj.c:9: a "}" closes nothing here (check.sh could not parse this file)
EOF

plant
echo "int table_1001;" >>"$t/runtime/net/table.h"
run "a 1,001-line file" <<EOF
runtime/net/table.h:1: 1001 lines (limit 1000)
EOF

plant
{
	echo "/* bad.c - badly formatted. */"
	echo
	echo "int  bad(int x)"
	echo "{"
	echo "	return x;"
	echo "}"
} | put engine/bad.c
run "a badly formatted production file" <<EOF
engine/bad.c:3: not clang-formatted: 1 difference, the first here (clang-format -i engine/bad.c fixes them)
EOF

plant
printf '/* bad.c - badly formatted. */\nint bad(int x)\n{\n\treturn  x;\n}\n' | put tests/bench/bad.c
printf '/* bad.h - badly formatted. */\nint  bad(int x);\n' | put tests/unit/bad.h
run "badly formatted test files" <<EOF
tests/bench/bad.c:4: not clang-formatted: 1 difference, the first here (clang-format -i tests/bench/bad.c fixes them)
tests/unit/bad.h:2: not clang-formatted: 1 difference, the first here (clang-format -i tests/unit/bad.h fixes them)
EOF

plant
{
	echo "/* unbalanced.c - a brace too many. */"
	echo "int f(int x)"
	echo "{"
	echo "#if 1"
	echo "	if (x) {"
	echo "#else"
	echo "	if (!x) {"
	echo "#endif"
	echo "		x++;"
	echo "	}"
	echo "	return x;"
	echo "}"
} | put engine/unbalanced.c
run "a file the parse cannot follow" <<EOF
engine/unbalanced.c:12: braces or comments do not balance here (check.sh could not parse this file)
EOF

# The real tree (its tracked files), whatever else it holds today, reports
# a violation planted in it.
cases=$((cases + 1))
mkdir -p "$tmp/real"
# (A tracked file deleted in the work tree is just not copied.)
(cd "$top" && git ls-files -z | xargs -0 cp --parents -t "$tmp/real" 2>/dev/null)
if [ -f "$tmp/real/.clang-format" ] && [ -d "$tmp/real/fs" ]; then
	t=$tmp/real
	source_file fs/plant.c fs/fs.h runtime/kubelet/agent.h engine/store/store.h
	out=$(sh "$check" "$t" 2>/dev/null)
	rc=$?
	if [ "$rc" = 1 ] &&
		printf '%s\n' "$out" | grep -qxF "fs/plant.c:3: fs/ may not include runtime/kubelet/agent.h" &&
		printf '%s\n' "$out" | grep -qxF "fs/plant.c:4: fs/ may not include engine/store/store.h"; then
		echo "ok - a copy of the real tree reports a planted violation"
	else
		fails=$((fails + 1))
		echo "FAIL - a copy of the real tree: exit $rc, the planted includes not both reported"
		printf '%s\n' "$out" | grep '^fs/plant' | sed 's/^/    /'
	fi
else
	fails=$((fails + 1))
	echo "FAIL - could not copy the real tree (git ls-files in $top)"
fi
rm -rf "$tmp/real"

# check.sh fails, rather than passing, when it cannot run.
cases=$((cases + 1))
sh "$check" "$tmp/none" >/dev/null 2>&1
rc1=$?
CLANG_FORMAT=$tmp/none/clang-format sh "$check" "$base" >/dev/null 2>&1
rc2=$?
if [ "$rc1" = 2 ] && [ "$rc2" = 2 ]; then
	echo "ok - no tree or no clang-format is an error"
else
	fails=$((fails + 1))
	echo "FAIL - no tree: exit $rc1, no clang-format: exit $rc2 (want 2 and 2)"
fi

echo "t_check: $((cases - fails))/$cases cases passed"
[ "$fails" = 0 ]
