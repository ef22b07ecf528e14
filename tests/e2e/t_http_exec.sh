#!/bin/bash
# t_http_exec.sh - kubectl exec (pipes, stdin, exit codes, a terminal) and
# kubectl port-forward against real runc containers, with kubectl 1.32
# (WebSocket; port-forward as SPDY tunneled in WebSocket) and 1.27 (SPDY):
# output, stderr, stdin, exit codes, a terminal with its size and a
# resize, errors, two connections through one port-forward, and a server
# that stops while a session runs.
#
# One session is idle for 65 s by design (past the server's 60 s connection
# timeout), and the rest runs for three kubectl versions: past the default
# 120 s on a slow machine (a CI run timed out at the idle step).
# e2e-time-limit: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctl.sh"
. "$(dirname "$0")/lib_http.sh"

cfs_import_busybox || cfs_abort "importing the busybox image failed"
CFS_AGENT=1
cfs_start --node-name t-http-exec || cfs_abort "server did not start"

KUBECTL=$(kubectl_newest)
export KUBECONFIG=$DATA/kubeconfig

cat >"$WORK/sh.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: sh
spec:
  containers:
  - name: main
    image: busybox:latest
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-pod >/www/index.html && head -c 3000000 /dev/zero >/www/big && httpd -f -p 8080 -h /www"]
EOF
cp "$WORK/sh.yaml" "$MNT/pods/" || cfs_abort "pod written"
check "pod sh runs" wait_until 60 grep -qx Running "$MNT/pods/sh/phase"

# A terminal of 33x111 under python's pty, resized to 44x122 (SIGWINCH);
# prints what the session showed and its exit code.
cat >"$WORK/term.py" <<'EOF'
import os, pty, sys, fcntl, termios, struct, select, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "exec", "-it", "sh", "--", "sh"])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))
out = b""
def rd(t):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                return
rd(1.5)
os.write(fd, b"stty size\n")
rd(1.5)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 44, 122, 0, 0))
os.kill(pid, 28)
rd(1)
os.write(fd, b"stty size; exit 7\n")
rd(3)
_, st = os.waitpid(pid, 0)
print(out.decode(errors="replace"))
print("exit", os.waitstatus_to_exitcode(st))
EOF

for kc in $(for v in $(kubectl_versions); do kubectl_bin "$v"; done); do
	v=${kc##*kubectl}
	out=$(timeout 30 "$kc" exec sh -- echo hi 2>&1)
	check_eq "kubectl$v exec sh -- echo hi" "hi" "$out"
	timeout 30 "$kc" exec sh -- sh -c 'exit 3' >"$WORK/out" 2>&1
	check_eq "kubectl$v exec: exit code 3" "3" "$?"
	out=$(echo abc | timeout 30 "$kc" exec -i sh -- cat 2>&1)
	check_eq "kubectl$v exec -i: stdin" "abc" "$out"
	out=$(head -c 2000000 /dev/zero | timeout 60 "$kc" exec -i sh -- cat | wc -c)
	check_eq "kubectl$v exec -i: 2 MB through cat, both ways at once" 2000000 "$out"
	out=$(timeout 30 "$kc" exec sh -- sh -c 'echo err >&2' 2>&1 >/dev/null)
	check_eq "kubectl$v exec: stderr" "err" "$out"
	out=$(timeout 30 script -qc "$kc exec -it sh -- sh -c 'tty; stty size; exit'" /dev/null </dev/null 2>&1)
	check_contains "kubectl$v exec -it: a terminal" "$out" "/dev/pts/"
	out=$(timeout 30 python3 "$WORK/term.py" "$kc" 2>&1)
	check_contains "kubectl$v exec -it: the terminal's size" "$out" "33 111"
	check_contains "kubectl$v exec -it: resized" "$out" "44 122"
	check_contains "kubectl$v exec -it: exit 7" "$out" "exit 7"
	out=$(timeout 30 "$kc" exec sh -c nosuch -- true 2>&1)
	check_contains "kubectl$v exec -c nosuch: not valid" "$out" "container nosuch is not valid for pod sh"
	out=$(timeout 30 "$kc" exec sh -- nosuchcmd 2>&1)
	rc=$?
	check_contains "kubectl$v exec of no such command: runc's error" "$out" \
		'exec: "nosuchcmd": executable file not found'
	check_eq "... is an error, not an exit code (exit 1)" 1 "$rc"
	out=$(timeout 30 "$kc" exec nosuch -- true 2>&1)
	check_contains "kubectl$v exec nosuch: not found" "$out" 'pods "nosuch" not found'

	port=$((18080 + RANDOM % 1000))
	timeout 60 "$kc" port-forward pod/sh $port:8080 >"$WORK/pf.out" 2>&1 &
	pf=$!
	check "kubectl$v port-forward listens" wait_until 15 grep -q Forwarding "$WORK/pf.out"
	out=$(curl -s --max-time 10 http://127.0.0.1:$port/index.html)
	check_eq "kubectl$v port-forward: the page" "hello-from-pod" "$out"
	out=$(curl -s --max-time 10 http://127.0.0.1:$port/index.html)
	check_eq "kubectl$v port-forward: a second connection" "hello-from-pod" "$out"
	out=$(curl -s --max-time 20 http://127.0.0.1:$port/big | wc -c)
	check_eq "kubectl$v port-forward: a 3 MB file" 3000000 "$out"
	kill "$pf" 2>/dev/null
	wait "$pf" 2>/dev/null
done

# A session idle longer than the server's connection timeout (60 s).
out=$(timeout 100 "$KUBECTL" exec sh -- sh -c 'sleep 65; echo after65' 2>&1)
check_eq "an exec idle for 65 s ends normally" "after65" "$out"

# The server stops while a session runs: both end.
timeout 60 "$KUBECTL" exec sh -- sleep 1000 >/dev/null 2>&1 &
ex=$!
sleep 2
check_stop "the server stops with an exec running"
check "... and kubectl exec ends" wait_until 10 sh -c "! kill -0 $ex 2>/dev/null"
wait "$ex" 2>/dev/null



cfs_done
