# clusterfs - see README.md.  `make` builds bin/clusterfs; `make test` runs
# every test; `make run` sets up and runs; `make bench` prints figures.

PKGS     := fuse3 yaml-0.1 sqlite3 jansson uuid libarchive nettle libnftables libmicrohttpd gnutls zlib libcurl
BUILD    ?= build
BIN      ?= bin
SAN      ?=
OPT      ?= -O2
CFLAGS   = -std=gnu11 $(OPT) -g -Wall -Wextra -Werror -Wno-unused-parameter \
	   -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -pthread -I. $(SAN) \
	   $(shell pkg-config --cflags $(PKGS))
LDLIBS   = $(shell pkg-config --libs $(PKGS)) -pthread
LDFLAGS  = $(SAN)

LIB_SRC     := $(sort $(shell find engine fs http runtime -name '*.c'))
LIB_HDR     := $(sort $(shell find engine fs http runtime -name '*.h'))
LIB_OBJ     := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC    := $(wildcard tests/unit/test_*.c)
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC   := $(wildcard tests/bench/*.c)
BENCH_BIN   := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)

DATA_DIR ?= /var/lib/clusterfs
MOUNT    ?= /cluster

.PHONY: all deps check check-selftest test unit e2e asan bench run cluster cluster-down format clean

all: $(BIN)/clusterfs $(BIN)/clusterfs-logrelay

deps: $(BUILD)/.deps

$(BUILD)/.deps: scripts/deps.sh
	@mkdir -p $(BUILD)
	sh scripts/deps.sh
	@touch $@

$(BUILD)/%.o: %.c $(BUILD)/.deps $(LIB_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BIN)/clusterfs: $(BUILD)/main.o $(LIB_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A container's log relay and a pod's pause process, beside clusterfs: their
# loops and libc only.
$(BIN)/clusterfs-logrelay: $(BUILD)/main_logrelay.o $(BUILD)/runtime/kubelet/logrelay_run.o \
		$(BUILD)/runtime/kubelet/pause_run.o
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS)

$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

# etcd's put rate through the store's own client: links the project's objects.
$(BUILD)/bench/bench_etcd_put: tests/bench/bench_etcd_put.c $(LIB_OBJ) tests/bench/bench.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

$(BUILD)/images/busybox.tar: scripts/busybox-image.sh $(BUILD)/.deps
	sh scripts/busybox-image.sh $(BUILD)/images

# Debian's kubectl (1.20), driven by the HTTP tests beside the machine's.
$(BUILD)/tools/kubectl-debian: scripts/kubectl-debian.sh
	sh scripts/kubectl-debian.sh $@

# t_routes.sh runs $(BUILD)/tests/routes_tool (tests/unit/routes_tool.c)
# inside its node namespaces.
e2e: $(BIN)/clusterfs $(BIN)/clusterfs-logrelay $(BUILD)/images/busybox.tar \
		$(BUILD)/tools/kubectl-debian $(BUILD)/tests/routes_tool
	@CFS_BUSYBOX_TAR=$(CURDIR)/$(BUILD)/images/busybox.tar \
		CFS_KUBECTL_DEBIAN=$(CURDIR)/$(BUILD)/tools/kubectl-debian \
		CFS_ROUTES_TOOL=$(CURDIR)/$(BUILD)/tests/routes_tool \
		CFS_PROBE=$(CURDIR)/$(BUILD)/tests/probe \
		sh tests/e2e/run.sh $(BIN)/clusterfs

# t_confine.sh's in-container probes (tests/e2e/probe.c), static: they run
# in a busybox image with no libc.
$(BUILD)/tests/probe: tests/e2e/probe.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<
e2e: $(BUILD)/tests/probe

# Static rules (layering, function and file length, format): see scripts/check.sh.
check: $(BUILD)/.deps
	@sh scripts/check.sh

check-selftest: $(BUILD)/.deps
	@sh tests/check/t_check.sh

test: check check-selftest unit fuzz-regress e2e

# Fuzzing (tests/fuzz/, docs/security.md): libFuzzer harnesses built by clang
# with ASan and UBSan from objects of their own in $(FUZZ_BUILD)/.  `make fuzz`
# runs each for FUZZ_TIME seconds (FUZZ=NAME...: only those) from its seed
# corpus; `make fuzz-regress` (part of `make test`) replays the seeds and every
# crash kept in tests/fuzz/regress/ through the same harnesses, built by $(CC).
.PHONY: fuzz fuzz-build fuzz-regress
FUZZ_CC     ?= clang-14
FUZZ_BUILD  ?= build-fuzz
FUZZ_TIME   ?= 600
FUZZ_SRC    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES  := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ        ?= $(FUZZ_NAMES)
FUZZ_OBJ    := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_CFLAGS  = $(filter-out -Werror $(OPT),$(CFLAGS)) -O1 -fno-omit-frame-pointer \
	       -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_REG    := $(FUZZ_NAMES:%=$(BUILD)/fuzz/regress_%)

$(FUZZ_BUILD)/%.o: %.c $(BUILD)/.deps $(LIB_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/libcfs.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_BUILD)/libcfs.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/libcfs.a $(LDLIBS)

fuzz-build: $(FUZZ:%=$(FUZZ_BUILD)/fuzz_%)

fuzz: fuzz-build
	@sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_TIME) $(FUZZ)

$(BUILD)/fuzz/regress_%: tests/fuzz/fuzz_%.c tests/fuzz/driver.c tests/fuzz/fuzz.h $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ tests/fuzz/driver.c $< $(LIB_OBJ) $(LDLIBS)

fuzz-regress: $(FUZZ_REG)
	@set -e; for h in $(FUZZ_NAMES); do \
		$(BUILD)/fuzz/regress_$$h tests/fuzz/corpus/$$h tests/fuzz/regress/$$h; done

asan:
	$(MAKE) BUILD=build-asan BIN=build-asan/bin OPT=-O1 \
		SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" test

# About 50 minutes, 35 of them bench_soak.sh's 1,000 cycles (fewer with
# BENCH_SOAK_CYCLES=N).  Each script prints a verdict per target (PASS or
# MISS, with the figure); all of them are printed again at the end.
bench: export BENCH_VERDICTS := $(CURDIR)/$(BUILD)/bench/verdicts
bench: $(BIN)/clusterfs $(BIN)/clusterfs-logrelay $(BENCH_BIN) $(BUILD)/tests/test_sched $(BUILD)/images/busybox.tar
	@: >$(BENCH_VERDICTS)
	@sh tests/bench/run.sh $(BIN)/clusterfs $(BUILD)/bench
	@echo "== the scheduler alone, as kube-scheduler's scheduler_perf measures it (for"
	@echo "   information; the target is judged on hollow nodes by bench_cluster.sh):"
	@echo "   1,000 nodes, 30,000 pods, real store and API, no controllers or kubelets"
	@CFS_UNIT_BENCH=1 $(BUILD)/tests/test_sched 2>/dev/null | grep -E "pods/s|scheduler busy"
	@sh tests/bench/bench_cluster.sh $(BIN)/clusterfs $(BUILD)/bench
	@sh tests/bench/bench_hpa.sh $(BIN)/clusterfs
	@sh tests/bench/bench_memory.sh $(BIN)/clusterfs $(BUILD)/bench
	@sh scripts/deps-bench.sh; sh tests/bench/bench_runtime.sh $(BIN)/clusterfs $(BUILD)/images/busybox.tar
	@sh tests/bench/bench_pull.sh $(BIN)/clusterfs $(BUILD)/images/busybox.tar
	@sh tests/bench/bench_services.sh $(BIN)/clusterfs $(BUILD)/images/busybox.tar
	@sh tests/bench/bench_rollout.sh $(BIN)/clusterfs $(BUILD)/images/busybox.tar
	@sh tests/bench/bench_http.sh $(BIN)/clusterfs
	@sh tests/bench/bench_watch.sh $(BIN)/clusterfs
	@sh tests/bench/bench_nodes.sh $(BIN)/clusterfs $(BUILD)/images/busybox.tar
	@sh tests/bench/bench_soak.sh $(BIN)/clusterfs $(BUILD)/images/busybox.tar
	@bash tests/bench/bench_etcd.sh $(BIN)/clusterfs $(BUILD)/bench
	@echo; echo "== make bench: one verdict per target (docs/benchmarks.md)"; sed 's/^/  /' $(BENCH_VERDICTS)

HOLLOW   ?= 0

# Builds the busybox image from Debian's busybox-static, imports it as
# busybox:latest, then runs the server in the foreground (Ctrl-C unmounts).
run: $(BIN)/clusterfs $(BIN)/clusterfs-logrelay $(BUILD)/images/busybox.tar
	$(BIN)/clusterfs image import --data-dir $(DATA_DIR) $(BUILD)/images/busybox.tar busybox:latest
	$(BIN)/clusterfs server --mount $(MOUNT) --data-dir $(DATA_DIR) --hollow-nodes $(HOLLOW)

# A multi-node cluster on one machine (scripts/cluster.sh; docs/cluster.md):
# a server with no local pods and NODES agents, each in a network namespace
# of its own on a bridge; `make cluster-down` removes all of it.
NODES       ?= 3
CLUSTER_DIR ?= /var/lib/clusterfs-cluster

cluster: $(BIN)/clusterfs $(BIN)/clusterfs-logrelay $(BUILD)/images/busybox.tar
	@NODES=$(NODES) MOUNT=$(MOUNT) CLUSTER_DIR=$(CLUSTER_DIR) CLUSTERFS=$(CURDIR)/$(BIN)/clusterfs \
		CFS_BUSYBOX_TAR=$(CURDIR)/$(BUILD)/images/busybox.tar sh scripts/cluster.sh up

cluster-down:
	@CLUSTER_DIR=$(CLUSTER_DIR) CLUSTERFS=$(CURDIR)/$(BIN)/clusterfs sh scripts/cluster.sh down

format:
	clang-format -i main.c main_logrelay.c $(LIB_SRC) $(LIB_HDR) tests/unit/*.[ch] tests/bench/*.[ch]

clean:
	rm -rf build build-asan build-fuzz bin
