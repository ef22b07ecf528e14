# lib_registry.sh - a local registry for the e2e tests: Debian's
# docker-registry on 127.0.0.1, its storage and log in $WORK/NAME, killed
# by PID at the end (CFS_BG_PIDS).  Sourced after lib.sh.

# free_port is in lib.sh.

# start_registry NAME PORT [EXTRA-YAML]: docker-registry with its storage
# in $WORK/NAME (its log, with every request, in $WORK/NAME/log); waits
# for /v2/.
start_registry() {
	local dir=$WORK/$1
	mkdir -p "$dir/data"
	cat >"$dir/config.yml" <<EOC
version: 0.1
log:
  level: ${REGISTRY_LOG_LEVEL:-warn}
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$2
${3:-}
EOC
	docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
	local rpid=$!
	CFS_BG_PIDS="$CFS_BG_PIDS $rpid"
	# Up to 30 s: its first start on a busy machine (the CI's) loads a
	# large binary from a cold cache.  If it exits meanwhile (its port
	# taken between free_port and here), its log says why.
	local n=300
	while [ $n -gt 0 ]; do
		curl -sk -o /dev/null "https://127.0.0.1:$2/v2/" ||
			curl -s -o /dev/null "http://127.0.0.1:$2/v2/" && return 0
		if ! kill -0 "$rpid" 2>/dev/null; then
			sed 's/^/  registry log: /' "$dir/log" >&2
			cfs_abort "registry $1 answers on 127.0.0.1:$2 (it exited)"
		fi
		sleep 0.1
		n=$((n - 1))
	done
	sed 's/^/  registry log: /' "$dir/log" | tail -5 >&2
	cfs_abort "registry $1 answers on 127.0.0.1:$2 (no answer in 30 s)"
}

# digest_of URL-OF-MANIFEST [CURL-ARGS]: the registry's digest for it.
MT_ALL='application/vnd.oci.image.manifest.v1+json,application/vnd.oci.image.index.v1+json,application/vnd.docker.distribution.manifest.v2+json,application/vnd.docker.distribution.manifest.list.v2+json'
digest_of() {
	local url=$1
	shift
	curl -sI "$@" -H "Accept: $MT_ALL" "$url" | tr -d '\r' |
		awk -F': ' 'tolower($1) == "docker-content-digest" { print $2 }'
}

# start_tls_registry NAME PORT CERTS_DIR USER PASSWORD: docker-registry
# with TLS (a CA made in $WORK/NAME-pki, its ca.crt put in
# CERTS_DIR/127.0.0.1:PORT/, Docker's layout) and htpasswd authentication.
start_tls_registry() {
	local c=$WORK/$1-pki
	mkdir -p "$c" "$3/127.0.0.1:$2"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$c/ca.key" -out "$c/ca.crt" -days 2 \
		-subj "/CN=cfs-test-ca" >/dev/null 2>&1
	openssl req -newkey rsa:2048 -nodes -keyout "$c/srv.key" -out "$c/srv.csr" \
		-subj "/CN=127.0.0.1" >/dev/null 2>&1
	printf 'subjectAltName=IP:127.0.0.1\n' >"$c/ext"
	openssl x509 -req -in "$c/srv.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" -CAcreateserial \
		-out "$c/srv.crt" -days 2 -extfile "$c/ext" >/dev/null 2>&1
	cp "$c/ca.crt" "$3/127.0.0.1:$2/ca.crt"
	htpasswd -Bbc "$c/htpasswd" "$4" "$5" >/dev/null 2>&1
	start_registry "$1" "$2" "  tls:
    certificate: $c/srv.crt
    key: $c/srv.key
auth:
  htpasswd:
    realm: cfs-test
    path: $c/htpasswd"
}
