# tests/e2e/lib_http.sh - what the tests of the HTTPS API share; sourced
# after lib.sh, used after cfs_start:
#
#     . "$(dirname "$0")/lib_http.sh"
#     cfs_start ... && http_env
#     body=$(a /api/v1/namespaces/default/pods)   # with the admin token
#     check_eq "200" 200 "$(code)"
#     printf %s "$body" | jv 'd["kind"]'
#
# http_env sets TOKEN and URL from the server's pki/ and kubeconfig, and
# exports KUBECONFIG, so kubectl talks to this test's server.

http_env() {
	TOKEN=$(cat "$DATA/pki/token")
	URL=$(sed -n 's/^ *server: //p' "$DATA/kubeconfig")
	export KUBECONFIG=$DATA/kubeconfig
}

# c PATH [CURL ARGS...]: the body, without a token; $WORK/code gets the
# HTTP status, $WORK/headers the response's headers.
c() {
	local p=$1
	shift
	curl -sS --cacert "$DATA/pki/ca.crt" -D "$WORK/headers" -o "$WORK/body" \
		-w '%{http_code}' "$@" "$URL$p" >"$WORK/code" 2>"$WORK/curl.err"
	cat "$WORK/body"
}

# a PATH [CURL ARGS...]: as c, with the admin token.
a() {
	local p=$1
	shift
	c "$p" -H "Authorization: Bearer $TOKEN" "$@"
}

# code: the HTTP status of the last c or a.
code() { cat "$WORK/code"; }

# jv EXPR: reads JSON on stdin and prints the Python expression EXPR of it
# (d is the document).
jv() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# The kubectls the tests drive: gcloud's kubectl.1.32 and kubectl.1.27 where
# installed (/usr/bin/kubectl there picks one by the server's version), and
# Debian's own kubectl 1.20 (package kubernetes-client): the one on PATH if
# it is Debian's, else $CFS_KUBECTL_DEBIAN (make e2e extracts it into
# build/tools; scripts/kubectl-debian.sh).
KUBECTL_GCB=${KUBECTL_GCB:-/usr/lib/google-cloud-sdk/bin}

# kubectl_bin V: the path of kubectl V (1.32, 1.27 or 1.20), or nothing.
kubectl_bin() {
	local k
	case $1 in
	1.20)
		for k in "$(command -v kubectl)" "$CFS_KUBECTL_DEBIAN"; do
			[ -n "$k" ] && [ -x "$k" ] || continue
			"$k" version --client 2>/dev/null | grep -q 'GitVersion:"v1\.20\.' && {
				echo "$k"
				return
			}
		done ;;
	*) [ -x "$KUBECTL_GCB/kubectl.$1" ] && echo "$KUBECTL_GCB/kubectl.$1" ;;
	esac
}

# kubectl_versions: those of 1.32, 1.27 and 1.20 that are here, newest first
# (says which are missing on stderr).
kubectl_versions() {
	local v
	for v in 1.32 1.27 1.20; do
		if [ -n "$(kubectl_bin "$v")" ]; then echo "$v"; else echo "# no kubectl $v here" >&2; fi
	done
}

# kubectl_newest: the newest kubectl here (aborts the test if none).
kubectl_newest() {
	local v
	for v in $(kubectl_versions 2>/dev/null); do
		kubectl_bin "$v"
		return
	done
	cfs_abort "no kubectl: scripts/deps.sh installs Debian's kubernetes-client"
}
