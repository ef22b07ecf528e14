#!/bin/bash
# t_etcd_cluster.sh - the etcd test cluster of lib_etcd.sh, which the
# tests of clusterfs on etcd use: three members on ports of the test's own,
# kill -9 of the leader (writes go on through the others, and the leader
# changes), the member started again on its data (it catches up), two of
# three down (writes fail), back (writes work), and nothing left running
# after etcd_down.  No clusterfs server: etcdctl only.  (The client,
# engine/store/etcd.c, is tested by tests/unit/test_etcd.c.)

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_etcd.sh"

etcd_up 3 || cfs_abort "a 3-member etcd cluster starts"
check_eq "three endpoints" 3 "$(echo "$ETCD_ENDPOINTS" | tr ',' '\n' | grep -c '^http://127.0.0.1:')"
check "a put through the cluster" etcd_ctl put /t/a 1
check_eq "and a get" 1 "$(etcd_ctl get /t/a --print-value-only)"

leader=$(etcd_leader)
check "a member leads" test -n "$leader"
pids_before=$(pgrep -d ' ' -f "^$ETCD_BIN --name m[0-9] --data-dir $ETCD_BASE/")
etcd_kill_member "$leader"
check_not "the killed member is gone" etcd_healthy "$leader"
check "a put with the leader dead" wait_up 10 etcd_ctl put /t/b 2
new=$(etcd_leader)
check "another member leads" test -n "$new" -a "$new" != "$leader"

etcd_start_member "$leader"
check "the member is back on its data" etcd_wait_member "$leader"
check_eq "and has caught up" 2 "$(etcdctl --endpoints "$(etcd_endpoint "$leader")" \
	get /t/b --print-value-only --consistency=s)"

a=$new
b=$((6 - new - leader))
etcd_kill_member "$a"
etcd_kill_member "$b"
check_not "two of three down: a put fails" \
	etcdctl --endpoints "$ETCD_ENDPOINTS" --command-timeout 2s put /t/c 3
etcd_start_member "$a"
etcd_start_member "$b"
check "member $a healthy again" etcd_wait_member "$a"
check "member $b healthy again" etcd_wait_member "$b"
check "a put works again" wait_up 10 etcd_ctl put /t/c 3
check_eq "every write is there" "1 2 3" "$(etcd_ctl get /t/ --prefix --print-value-only | xargs)"

etcd_down
check_eq "etcd_down leaves no member running" "" \
	"$(pgrep -f "^$ETCD_BIN --name m[0-9] --data-dir $ETCD_BASE/")"
check_not "nor its data" test -e "$ETCD_BASE"
check "the members were killed by PID" test -n "$pids_before"

cfs_done
