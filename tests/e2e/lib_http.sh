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
