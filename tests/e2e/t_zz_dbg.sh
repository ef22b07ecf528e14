. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctl.sh"
cfs_import_busybox || cfs_abort "importing the busybox image failed"
CFS_AGENT=1
cfs_start --node-name t-http-exec || cfs_abort "server did not start"
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
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-pod >/www/index.html && httpd -f -p 8080 -h /www"]
EOF
cp "$WORK/sh.yaml" "$MNT/pods/" || cfs_abort "pod written"
check "pod sh runs" wait_until 60 grep -qx Running "$MNT/pods/sh/phase"
kc=/usr/lib/google-cloud-sdk/bin/kubectl.1.32
timeout 20 $kc port-forward -v=8 pod/sh 18555:8080 >/tmp/pf.out 2>&1 &
pf=$!
sleep 2
curl -s http://127.0.0.1:18555/ >/tmp/pf.page
kill $pf
$kc exec -v=8 sh -- echo hi > /tmp/ex.out 2>&1
python3 - "$kc" >/tmp/pty.out 2>&1 <<'EOF'
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
            try: out += os.read(fd, 4096)
            except OSError: return
time.sleep(1.5)
os.write(fd, b"stty size\n"); rd(1.5)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 44, 122, 0, 0))
os.kill(pid, 28)
rd(1)
os.write(fd, b"stty size; exit 7\n"); rd(3)
_, st = os.waitpid(pid, 0)
print(out.decode(errors="replace"))
print("exit", os.waitstatus_to_exitcode(st))
EOF
time (timeout 100 $kc exec sh -- sh -c 'sleep 70; echo after70' >/tmp/long.out 2>&1)
echo "rc=$?" >>/tmp/long.out
cfs_done
