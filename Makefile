# tracer-dkms top-level Makefile.
#
#   make                     build src/tracer.ko for the running kernel
#   make KVER=<release>      build it for another installed kernel (DKMS form)
#   make KVER=<release> KDIR=<headers> ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
#                            cross-build it (the kbuild convention, as DKMS and distribution
#                            build systems call it: make and kbuild pass ARCH and CROSS_COMPILE
#                            on); x86-64 and arm64 are supported
#   make debug               the debug build (fault injection, selftests at load)
#   make check               build and test on every supported kernel (QEMU)
#
# Works from anywhere: make -C /path/to/tracer-dkms KVER=...

TOP     := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VERSION := $(shell cat $(TOP)/VERSION)
KVER    ?= $(shell uname -r)
KDIR    ?= /lib/modules/$(KVER)/build

KBUILD_ARGS = -C $(KDIR) M=$(TOP)/src TRACER_VERSION=$(VERSION)

.PHONY: all module modules debug clean sparse checkpatch helper check install

all: module

module modules:
	@test -d $(KDIR) || { echo "tracer: no kernel headers for $(KVER) in $(KDIR);" \
		"install linux-headers-$(KVER)" >&2; exit 1; }
	$(MAKE) $(KBUILD_ARGS) modules

# The debug build: fault injection (fail_alloc) and selftests at load, for
# the test suite (src/debug.c); never what DKMS builds.
debug:
	@test -d $(KDIR) || { echo "tracer: no kernel headers for $(KVER) in $(KDIR);" \
		"install linux-headers-$(KVER)" >&2; exit 1; }
	$(MAKE) $(KBUILD_ARGS) TRACER_DEBUG=1 modules

# Test-only helper module (never shipped).
helper:
	$(MAKE) -C $(KDIR) M=$(TOP)/tests/helper modules

# Static checks of the kernel code.
sparse:
	$(MAKE) $(KBUILD_ARGS) C=2 W=1 modules

checkpatch:
	$(TOP)/scripts/checkpatch.sh

clean:
	-$(MAKE) $(KBUILD_ARGS) clean 2>/dev/null
	-$(MAKE) -C $(KDIR) M=$(TOP)/tests/helper clean 2>/dev/null
	rm -rf $(TOP)/build

install: module
	$(MAKE) $(KBUILD_ARGS) modules_install

# --- Test harness (scripts/check.sh; TRACER_KERNELS="6.1 7.x" selects kernels) ---
.PHONY: check-static vm-shell

check:
	@$(TOP)/scripts/check.sh

# make demo [K=7.x]: boot a Debian kernel in QEMU with the module and tracerctl, show a real table
# (K=6.1-arm64: an arm64 one)
.PHONY: demo
demo:
	@$(TOP)/scripts/demo.sh $(or $(K),6.1)

check-static:
	@$(TOP)/scripts/check.sh --static

# make vm-shell K=6.1: a shell in the test VM of kernel K (scripts/kernels.sh list)
vm-shell:
	@$(TOP)/scripts/check.sh --shell $(or $(K),6.1)

# --- Packaging: .deb, .rpm, DKMS from the checkout (debian/, rpm/, dkms.conf) ---
#   make deb              build/pkg/deb/: tracer-dkms_<ver>_all.deb, tracer-utils_<ver>_<arch>.deb
#   make deb DEB_HOST_ARCH=arm64
#                         the same with tracer-utils cross-built for arm64 (gcc-aarch64-linux-gnu,
#                         libc6-dev:arm64; dpkg --add-architecture arm64)
#   make rpm              build/pkg/rpm/: tracer-dkms-<ver>-1.noarch.rpm, tracer-utils, the SRPM
#   make repo             build/pkg/repo/: a signed apt repository of the .debs (scripts/repo.sh;
#                         REPO_URL, REPO_GNUPGHOME, REPO_KEY: see doc/packaging.md)
#   make dkms-install     add, build and install this checkout through DKMS (root; KVER=...)
#   make dkms-remove      remove it from DKMS again
#   make check-packages   build both, lintian, rpmlint, payload and version checks (no VM)
#   make e2e-dkms         the whole end-to-end test in a Debian VM (scripts/e2e-dkms.sh)
.PHONY: deb rpm repo dkms-source dkms-install dkms-remove check-packages e2e-dkms

PKG_OUT         ?= $(TOP)/build/pkg
DEB_BUILD_FLAGS ?= -b
DKMS_NAME       := tracer
# The project's home: the RPM's URL and Source0, the default REPO_URL. Set it to
# where the releases are published before publishing packages.
PROJECT_URL     ?= https://tracer-dkms.invalid
# Where tracer-utils installs the UAPI header under /usr/include (tools/Makefile says).
UAPI_HEADER      = $(shell $(MAKE) -s --no-print-directory -C $(TOP)/tools print-uapi-header)
RPM_PACKAGER    ?= tracer-dkms developers <dev@tracer-dkms.invalid>
# systemd-rpm-macros' directories, for rpm on a system without that package (Debian)
RPM_DEFINES     ?= $(if $(shell rpm --eval '%{?_udevrulesdir}' 2>/dev/null),, \
	--define '_udevrulesdir /usr/lib/udev/rules.d' --define '_unitdir /usr/lib/systemd/system' \
	--define '_presetdir /usr/lib/systemd/system-preset')
# What DKMS needs to build the module: the same files in the .deb and the .rpm.
DKMS_SOURCES     = Makefile VERSION src/Kbuild src/uapi/tracer.h \
	$(sort $(patsubst $(TOP)/%,%,$(filter-out %.mod.c,$(wildcard $(TOP)/src/*.c)) \
		$(wildcard $(TOP)/src/*.h)))
DKMS_TREE        = $(DESTDIR)/usr/src/$(DKMS_NAME)-$(VERSION)
# make repo: the packages (default: what make deb built, built first if nothing is
# there), the repository's directory, URL and suite, the signing key's GnuPG home
# (a throwaway key is made there if it holds none) and the key (default: its first)
REPO_DEBS       ?= $(foreach d,$(wildcard $(PKG_OUT)/deb/*.deb),$(if $(findstring -dbgsym_,$(d)),,$(d)))
REPO_OUT        ?= $(PKG_OUT)/repo
REPO_URL        ?= $(PROJECT_URL)/apt
REPO_SUITE      ?= stable
REPO_GNUPGHOME  ?= $(PKG_OUT)/repo-key
REPO_KEY        ?=

# pkg_tree DIR: copy the checkout's sources (tracked and new files, not ignored ones) to DIR
define pkg_tree
	rm -rf $(1) && mkdir -p $(1)
	cd $(TOP) && if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z -c -o --exclude-standard | \
			xargs -0 -r sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh | \
			tar --null -T - -cf -; \
	else \
		tar --exclude=./build --exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
			--exclude='*.mod.c' --exclude='.*.cmd' -cf - .; \
	fi | tar -xf - -C $(1)
endef

# dkms-source DESTDIR=...: install the DKMS source tree, dkms.conf with its version
dkms-source:
	rm -rf $(DKMS_TREE)
	cd $(TOP) && for f in $(DKMS_SOURCES); do install -D -m 0644 $$f $(DKMS_TREE)/$$f || exit 1; done
	sed 's/#MODULE_VERSION#/$(VERSION)/g' $(TOP)/dkms.conf >$(DKMS_TREE)/dkms.conf
	chmod 0644 $(DKMS_TREE)/dkms.conf

deb:
	$(call pkg_tree,$(PKG_OUT)/deb/tracer-dkms-$(VERSION))
	cd $(PKG_OUT)/deb/tracer-dkms-$(VERSION) && \
		DEB_BUILD_OPTIONS="parallel=2 $(DEB_BUILD_OPTIONS)" dpkg-buildpackage -us -uc $(DEB_BUILD_FLAGS) \
		$(if $(DEB_HOST_ARCH),--host-arch=$(DEB_HOST_ARCH))
	@ls -1 $(PKG_OUT)/deb/*.deb

# rpm/tracer.spec says @VERSION@ and @URL@: the spec in build/pkg/rpm/SPECS (and the
# SRPM) carries VERSION and PROJECT_URL.
rpm:
	rm -rf $(PKG_OUT)/rpm && mkdir -p $(PKG_OUT)/rpm/SOURCES $(PKG_OUT)/rpm/SPECS
	$(call pkg_tree,$(PKG_OUT)/rpm/tracer-dkms-$(VERSION))
	tar -C $(PKG_OUT)/rpm --owner=0 --group=0 -czf \
		$(PKG_OUT)/rpm/SOURCES/tracer-dkms-$(VERSION).tar.gz tracer-dkms-$(VERSION)
	rm -rf $(PKG_OUT)/rpm/tracer-dkms-$(VERSION)
	sed -e 's/@VERSION@/$(VERSION)/g' -e 's|@URL@|$(PROJECT_URL)|g' $(TOP)/rpm/tracer.spec \
		>$(PKG_OUT)/rpm/SPECS/tracer.spec
	rpmbuild --nodeps --define '_topdir $(PKG_OUT)/rpm' --define '_smp_mflags -j2' $(RPM_DEFINES) \
		--define 'packager $(RPM_PACKAGER)' --define 'uapi_header $(UAPI_HEADER)' \
		-ba $(PKG_OUT)/rpm/SPECS/tracer.spec
	@find $(PKG_OUT)/rpm/RPMS $(PKG_OUT)/rpm/SRPMS -name '*.rpm' | sort

repo:
	$(if $(strip $(REPO_DEBS)),,$(MAKE) -f $(TOP)/Makefile deb PKG_OUT=$(PKG_OUT) &&) \
	$(TOP)/scripts/repo.sh --out '$(REPO_OUT)' --url '$(REPO_URL)' --suite '$(REPO_SUITE)' \
		--gnupghome '$(REPO_GNUPGHOME)' $(if $(REPO_KEY),--key '$(REPO_KEY)') \
		$(or $(strip $(REPO_DEBS)),$(PKG_OUT)/deb/*.deb)

dkms-install:
	@command -v dkms >/dev/null || { echo "dkms-install: install dkms first (apt-get install dkms)" >&2; exit 1; }
	@! dpkg -S $(DKMS_TREE) >/dev/null 2>&1 && ! rpm -qf $(DKMS_TREE) >/dev/null 2>&1 || { \
		echo "dkms-install: $(DKMS_TREE) belongs to an installed package (tracer-dkms);" \
		"remove it first" >&2; exit 1; }
	-dkms remove -m $(DKMS_NAME) -v $(VERSION) --all >/dev/null 2>&1
	$(MAKE) -f $(TOP)/Makefile dkms-source DESTDIR=
	dkms add -m $(DKMS_NAME) -v $(VERSION)
	dkms build -m $(DKMS_NAME) -v $(VERSION) -k $(KVER)
	dkms install -m $(DKMS_NAME) -v $(VERSION) -k $(KVER)
	@echo "tracer $(VERSION) installed for $(KVER): modprobe tracer (root) loads it"

dkms-remove:
	@command -v dkms >/dev/null || { echo "dkms-remove: dkms is not installed" >&2; exit 1; }
	@! dpkg -S $(DKMS_TREE) >/dev/null 2>&1 && ! rpm -qf $(DKMS_TREE) >/dev/null 2>&1 || { \
		echo "dkms-remove: $(DKMS_TREE) belongs to an installed package:" \
		"apt purge tracer-dkms (or dnf/zypper remove)" >&2; exit 1; }
	if [ -n "$$(dkms status -m $(DKMS_NAME) -v $(VERSION))" ]; then \
		dkms remove -m $(DKMS_NAME) -v $(VERSION) --all; fi
	rm -rf $(DKMS_TREE)

check-packages:
	$(TOP)/scripts/e2e-dkms.sh --packages-only

e2e-dkms:
	$(TOP)/scripts/e2e-dkms.sh
# --- end of packaging ---

# --- Debug kernel (KASAN, lockdep, kmemleak, KFENCE; scripts/debug-kernel.sh, cached) ---
#   make debug-kernel     build the debug kernel (or find it in the cache)
#   make check-debug      the whole guest suite on it; fails on any kernel report
.PHONY: debug-kernel check-debug

debug-kernel:
	@$(TOP)/scripts/debug-kernel.sh build

check-debug:
	@$(TOP)/scripts/check-debug.sh

# --- Benchmark (bench/bench.sh; not part of make check) ---
#   make bench    tracer.ko's cost vs no module, bare probes and bpftrace, in one QEMU boot
#                 per kernel (BENCH_KERNELS, default 6.1); table, bench/out/results.json, bench.png
.PHONY: bench

bench:
	@$(TOP)/bench/bench.sh
