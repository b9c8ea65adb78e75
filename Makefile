# cxrun — set-up, build, test and benchmark. Every target installs what is missing first.
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
PREFIX ?= /usr/local
# postgresql: the team-store tests start a throwaway cluster of their own (not the system's).
APT_PACKAGES := pkg-config binutils liblua5.4-dev lua5.4 lua-check libedit2 libsqlite3-dev postgresql
BIN := .build/debug/cxrun
# Release builds (bench, install): the Swift runtime and Foundation linked in, not loaded at start
# (ld.so resolving their symbols was a third of `cxrun run hello.lua`), in an executable that is
# not position-independent (no relocations to apply at start either) and exports no symbols
# (45,000 of them made every dladdr and symbol lookup at start a long walk). See README, Benchmarks.
# libstdc++ (the Swift runtime's C++ library) is linked in too: as a shared library, ld.so resolved
# its 5,000 relocations and the runtime's first calls into it at every start, 1.3-2 ms of a 9.5 ms
# `cxrun run hello.lua`. The Swift driver asks for -lstdc++ itself, so a folder searched before the
# compiler's offers the static archive under the shared library's name (a one-line linker script).
STATIC_LIBS := .build/static-libs
RELEASE_FLAGS := -c release --static-swift-stdlib -Xswiftc -Xclang-linker -Xswiftc -no-pie -Xlinker --no-export-dynamic \
  -Xlinker -L$(CURDIR)/$(STATIC_LIBS)
# Python tools the tests use (schemathesis), in a virtual environment of their own.
VENV := .build/venv

.PHONY: all deps build run test test-swift test-lua test-imports test-runbooks test-api check-api test-fuzz-corpus bench fuzz install clean

all: build

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT) build

run: build
	$(BIN) run scripts/rebalance.lua -- channel=voice strategy=priority limit=5

test: build test-imports test-lua test-runbooks test-fuzz-corpus test-api test-swift

$(VENV)/bin/schemathesis: $(VENV)/bin/python
	$(VENV)/bin/pip install -q schemathesis

# The sandbox tenant against its own OpenAPI document (schemathesis): no 5xx, every response and
# status code as documented. make test runs a short pass; check-api a longer one.
test-api: build $(VENV)/bin/schemathesis
	python3 tools/check_api.py $(BIN) $(VENV)/bin/schemathesis --examples 5

check-api: build $(VENV)/bin/schemathesis
	python3 tools/check_api.py $(BIN) $(VENV)/bin/schemathesis --examples 100

# Every target imports only what Package.swift declares (SwiftPM alone lets any built module in).
test-imports:
	python3 tools/check_imports.py

# Every runbook checked (syntax, undefined globals), then its tests (scripts/*_test.lua), each against a fresh sandbox tenant.
test-runbooks: build
	$(BIN) check scripts
	$(BIN) test --junit .build/runbook-tests.xml

# A hung test fails the target (exit 124) long before CI's own limit would stop everything. The
# PostgreSQL clusters the tests start stop when the test process exits; one it could not stop
# (killed) is stopped here.
test-swift: deps
	@rc=0; timeout --kill-after=30 2400 $(SWIFT) test || rc=$$?; \
	pkill -f '[p]ostgres -D .*/cxrun-pgtest-' 2>/dev/null; \
	[ $$rc = 124 ] && echo "make test-swift: swift test did not finish in 40 minutes (a test hangs)"; exit $$rc

test-lua: deps
	luacheck --quiet stdlib scripts Sources/LuaHost/Lua Sources/Runbook/Lua
	lua5.4 stdlib/tests/run.lua stdlib/tests/*_test.lua

$(VENV)/bin/python:
	@python3 -m venv $(VENV) 2>/dev/null || { \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq python3-venv >/dev/null && python3 -m venv $(VENV); }

# Without the archive (no libstdc++ development files) the folder stays empty and the shared library is used.
$(STATIC_LIBS):
	@mkdir -p $@; archive=$$("$$(dirname "$$(readlink -f $(SWIFT))")/clang" -print-file-name=libstdc++.a); \
	if [ -f "$$archive" ]; then echo "INPUT($$archive)" > $@/libstdc++.so; else echo "libstdc++.a not found: the release build links libstdc++.so"; fi

bench: deps $(VENV)/bin/python $(STATIC_LIBS)
	$(VENV)/bin/pip install -q requests
	$(SWIFT) build $(RELEASE_FLAGS) --product cxrun-bench
	$(SWIFT) build $(RELEASE_FLAGS) --product cxrun
	.build/release/cxrun-bench

# libFuzzer targets (fuzz/NAME: the JSON codec, the Lua <-> Swift value bridge, the config reader,
# runbook snippets through the bindings), each for FUZZ_SECONDS (default 60) from its committed
# seed corpus; see tools/fuzz.sh. test-fuzz-corpus replays every committed corpus in make test.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= json bridge config lua
fuzz: deps
	SWIFT=$(SWIFT) tools/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

test-fuzz-corpus: build
	@for t in json bridge config lua; do .build/debug/fuzz-$$t fuzz/$$t/corpus || exit 1; done

# The installed binary carries no DWARF debug information (the symbols stay, for backtraces): a
# third of the file that nothing at run time reads.
install: deps $(STATIC_LIBS)
	$(SWIFT) build $(RELEASE_FLAGS) --product cxrun
	install -d $(PREFIX)/bin $(PREFIX)/share/cxrun
	install -m 0755 .build/release/cxrun $(PREFIX)/bin/cxrun
	strip --strip-debug $(PREFIX)/bin/cxrun
	rm -rf $(PREFIX)/share/cxrun/stdlib && cp -R stdlib $(PREFIX)/share/cxrun/stdlib

clean:
	rm -rf .build
