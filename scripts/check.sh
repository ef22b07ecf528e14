#!/bin/sh
# check.sh - static rules for a layered C code base, checked without building.
#
# Usage: sh scripts/check.sh [ROOT]      (ROOT defaults to the repository root)
#
# Prints one `file:line: message` line per finding, sorted by file and line,
# then a count on stderr, and exits 1 if it found anything (0 if not, 2 if it
# could not run: ROOT missing, no .clang-format, no clang-format).
#
# The code it checks ("production code") is main.c and every .c/.h file under
# engine/, fs/, http/ and runtime/.  It checks four things:
#
# 1. Layering.  Every project include names its path from ROOT
#    (#include "engine/api/api.h"); a quoted include that is not such a path,
#    or names a file that does not exist, is reported (and so is an include
#    in <> of engine/, fs/, http/, runtime/ or tests/, checked as if in quotes).  The layers are:
#      base         the files directly in engine/ (obj, hmap, mem, err, ...)
#      valid, store, api, client, controllers, sched
#                   the sub-folders of engine/ of those names
#      fs           everything under fs/
#      http         everything under http/ (the Kubernetes HTTP API)
#      runtime      everything under runtime/ (all of its sub-folders)
#    and a file of a layer may include headers of these layers only:
#      base         base
#      valid        base, valid
#      store        base, store
#      api          base, valid, store, api
#      client       base, valid, api, client
#      controllers  base, valid, api, client, controllers
#      sched        base, valid, api, client, sched
#      fs           base, valid, api, client, fs
#      http         base, valid, api, client, http
#      runtime      base, valid, api, client, runtime
#    main.c and tests/ may include anything (they are not checked).  So only
#    the API reaches the store, fs, http and runtime never use one another,
#    and nothing in the engine uses fs, http or runtime (only main.c
#    includes http/).  On top of that, a public
#    header of engine/api (any .h there not named *_int.h) may not include
#    engine/store/*: it forward-declares what it needs, so that including
#    the API does not pull the store in.  A file in a sub-folder of engine/
#    that is not listed above is reported: give a new folder its rule here.
#    Only direct includes are checked, one file at a time.
#
# 2. Function length.  A function definition in the production code may
#    span at most 100 lines, counted from the line of its opening `{` to the
#    line of its closing `}`, both included.  The parse counts braces outside
#    comments, string and character literals and preprocessor lines, so it
#    does not depend on the layout; a file whose braces do not balance is
#    reported, as the count would then be wrong.
#
# 3. File length.  A production source file may have at most 1,000 lines.
#
# 4. Format.  `clang-format --dry-run -Werror`, with ROOT/.clang-format, must
#    find nothing to change in the production code nor in the C files of
#    tests/unit and tests/bench.  The first difference of each file is
#    reported with the number of differences (CHECK_FORMAT_ALL=1 lists
#    every one); `clang-format -i FILE` fixes them.  CLANG_FORMAT names
#    the program (default clang-format, from Debian's clang-format package;
#    the layout it produces differs between its major versions).
#
# The selftest, tests/check/t_check.sh, plants a violation of each rule in a
# small synthetic tree and checks that it is reported.
set -u

if [ $# -gt 1 ]; then
	echo "usage: $0 [ROOT]" >&2
	exit 2
fi
root=${1:-$(dirname "$0")/..}
cd "$root" 2>/dev/null || {
	echo "check.sh: cannot enter $root" >&2
	exit 2
}
if [ ! -f .clang-format ]; then
	echo "check.sh: $root has no .clang-format" >&2
	exit 2
fi
cf=${CLANG_FORMAT:-clang-format}
if ! command -v "$cf" >/dev/null 2>&1; then
	echo "check.sh: $cf not found (Debian package clang-format; sh scripts/deps.sh installs it)" >&2
	exit 2
fi

# The files, as paths from ROOT (no spaces in them, as in the rest of the build).
prod=$({
	[ -f main.c ] && echo main.c
	for d in engine fs http runtime; do
		[ -d "$d" ] && find "$d" -type f \( -name '*.c' -o -name '*.h' \)
	done
} | LC_ALL=C sort)
tests=$(for d in tests/unit tests/bench; do
	[ -d "$d" ] && find "$d" -type f \( -name '*.c' -o -name '*.h' \)
done | LC_ALL=C sort)

# Rules 1-3, in one pass over the production files.
# shellcheck disable=SC2016 # an awk program
rules_awk='
BEGIN {
	FLIMIT = 100; LLIMIT = 1000
	nk = split("valid store api client controllers sched", k, " ")
	for (i = 1; i <= nk; i++)
		known[k[i]] = 1
	allow("base", "base")
	allow("valid", "base valid")
	allow("store", "base store")
	allow("api", "base valid store api")
	allow("client", "base valid api client")
	allow("controllers", "base valid api client controllers")
	allow("sched", "base valid api client sched")
	allow("fs", "base valid api client fs")
	allow("http", "base valid api client http")
	allow("runtime", "base valid api client runtime")
}
function allow(from, list,   a, n, i) {
	n = split(list, a, " ")
	for (i = 1; i <= n; i++)
		ok[from, a[i]] = 1
}
function say(line, msg) {
	print FILENAME ":" line ": " msg
}
# The layer of a path from ROOT: "" for a path outside the layered code,
# "?" for an engine sub-folder without a rule.
function layer(p,   d) {
	if (p == "main.c" || p ~ /^tests\//)
		return "any"
	if (p ~ /^fs\//)
		return "fs"
	if (p ~ /^http\//)
		return "http"
	if (p ~ /^runtime\//)
		return "runtime"
	if (p ~ /^engine\/[^\/]+$/)
		return "base"
	if (p ~ /^engine\//) {
		d = p
		sub(/^engine\//, "", d)
		sub(/\/.*/, "", d)
		return (d in known) ? d : "?"
	}
	return ""
}
function folder(l) {
	if (l == "base")
		return "engine/ (base)"
	if (l == "fs" || l == "http" || l == "runtime")
		return l "/"
	return "engine/" l "/"
}
function exists(p,   r, line) {
	r = (getline line < p)
	if (r >= 0)
		close(p)
	return r >= 0
}
function check_include(s,   p, to) {
	p = s
	sub(/^[ \t]*#[ \t]*include[ \t]*["<]/, "", p)
	sub(/[">].*/, "", p)
	to = layer(p)
	if (!exists(p)) {
		say(FNR, "\"" p "\" is not a file (includes name their path from the repository root)")
		return
	}
	if (to == "" || to == "any") {
		say(FNR, "production code may not include " p)
		return
	}
	if (from != "?" && !((from, to) in ok))
		say(FNR, folder(from) " may not include " p)
	if (pubapi && p ~ /^engine\/store\//)
		say(FNR, "public API header " FILENAME " may not include " p " (forward-declare instead)")
}
# The name of a function whose declarator text (at file scope, comments
# and literals removed) is s: the identifier before the "(" that matches
# the last ")".
function fn_name(s,   i, d, c) {
	i = length(s)
	d = 0
	for (; i > 0; i--) {
		c = substr(s, i, 1)
		if (c == ")")
			d++
		else if (c == "(" && --d == 0)
			break
	}
	s = substr(s, 1, i - 1)
	sub(/[ \t]+$/, "", s)
	if (match(s, /[A-Za-z_][A-Za-z0-9_]*$/))
		return substr(s, RSTART)
	return "?"
}
function end_file() {
	if (cur == "")
		return
	if (stray)
		print cur ":" stray ": a \"}\" closes nothing here (check.sh could not parse this file)"
	else if (depth != 0 || incomment)
		print cur ":" lastline ": braces or comments do not balance here (check.sh could not parse this file)"
	if (lastline > LLIMIT)
		print cur ":1: " lastline " lines (limit " LLIMIT ")"
}
FNR == 1 {
	end_file()
	cur = FILENAME
	from = layer(FILENAME)
	pubapi = (FILENAME ~ /^engine\/api\/[^\/]+\.h$/ && FILENAME !~ /_int\.h$/)
	depth = 0; incomment = 0; ppcont = 0; infn = 0; sig = ""; stray = 0
	if (from == "?") {
		d = FILENAME
		sub(/\/[^\/]+$/, "/", d)
		say(1, d " is not in the layering rules (give it its rule in scripts/check.sh)")
	}
}
{
	lastline = FNR
	line = $0
	if (ppcont) {
		ppcont = (line ~ /\\$/)
		next
	}
	if (!incomment && line ~ /^[ \t]*#/) {
		ppcont = (line ~ /\\$/)
		if (from != "any" && (line ~ /^[ \t]*#[ \t]*include[ \t]*"/ ||
				      line ~ /^[ \t]*#[ \t]*include[ \t]*<(engine|fs|http|runtime|tests)\//))
			check_include(line)
		next
	}
	n = length(line)
	for (i = 1; i <= n; i++) {
		c = substr(line, i, 1)
		if (incomment) {
			if (c == "*" && substr(line, i + 1, 1) == "/") {
				incomment = 0
				i++
			}
			continue
		}
		if (c == "/" && substr(line, i + 1, 1) == "*") {
			incomment = 1
			i++
			continue
		}
		if (c == "/" && substr(line, i + 1, 1) == "/")
			break
		if (c == "\"" || c == "'\''") {
			for (j = i + 1; j <= n; j++) {
				q = substr(line, j, 1)
				if (q == "\\")
					j++
				else if (q == c)
					break
			}
			i = j
			if (depth == 0)
				sig = sig c c
			continue
		}
		if (c == "{") {
			if (depth == 0) {
				s = sig
				sub(/[ \t]+$/, "", s)
				infn = (s ~ /\)$/ && s !~ /=/)
				if (infn) {
					fname = fn_name(s)
					fstart = FNR
				}
			}
			depth++
			continue
		}
		if (c == "}") {
			if (depth == 0) {
				if (!stray)
					stray = FNR
				continue
			}
			if (--depth == 0) {
				if (infn && FNR - fstart + 1 > FLIMIT)
					print FILENAME ":" fstart ": function " fname " is " \
						FNR - fstart + 1 " lines (limit " FLIMIT ")"
				infn = 0
				sig = ""
			}
			continue
		}
		if (depth == 0)
			sig = (c == ";") ? "" : sig c
	}
	if (depth == 0)
		sig = sig " "
}
END {
	end_file()
}
'

# Rule 4: clang-format's "FILE:LINE:COL: error: code should be
# clang-formatted [-Wclang-format-violations]" lines, one finding per file
# (or per difference with CHECK_FORMAT_ALL=1).  Anything else it says, when
# it fails, is reported as is.
# shellcheck disable=SC2016 # an awk program
format_awk='
/^[^ :]+:[0-9]+:[0-9]+: (error|warning): .*clang-format-violations/ {
	split($0, a, ":")
	if (all) {
		print a[1] ":" a[2] ": not clang-formatted (column " a[3] "; clang-format -i " a[1] " fixes it)"
		next
	}
	if (!(a[1] in count)) {
		order[++nf] = a[1]
		first[a[1]] = a[2]
	}
	count[a[1]]++
	found = 1
	next
}
/^[^ :]+:[0-9]+:[0-9]+: / {
	next
}
/^ *\^ *$/ || /^$/ {
	next
}
{
	other = other (other == "" ? "" : "; ") $0
}
END {
	for (i = 1; i <= nf; i++) {
		f = order[i]
		print f ":" first[f] ": not clang-formatted: " count[f] " difference" \
			(count[f] > 1 ? "s" : "") ", the first here (clang-format -i " f " fixes them)"
	}
	if (status != 0 && !found && other != "")
		print ".clang-format:1: clang-format failed: " other
}
'

findings=$({
	# shellcheck disable=SC2086 # the lists are split on purpose
	[ -n "$prod" ] && awk "$rules_awk" $prod
	if [ -n "$prod$tests" ]; then
		# clang-format prints the line of source after each finding, which
		# the awk program skips unless it looks like a finding itself: so
		# it is told apart by the "-Wclang-format-violations" tag.
		# shellcheck disable=SC2086
		cfout=$("$cf" --dry-run -Werror $prod $tests 2>&1)
		st=$?
		printf '%s\n' "$cfout" | grep -v '^[^:]*:[0-9]*:[0-9]*: note:' |
			awk -v status="$st" -v all="${CHECK_FORMAT_ALL:-0}" "$format_awk"
	fi
} | LC_ALL=C sort -t: -k1,1 -k2,2n)

if [ -z "$findings" ]; then
	# shellcheck disable=SC2086
	n=$(printf '%s\n' $prod $tests | grep -c .)
	echo "check.sh: $n files, no findings" >&2
	exit 0
fi
printf '%s\n' "$findings"
echo "check.sh: $(printf '%s\n' "$findings" | grep -c .) findings" >&2
exit 1
