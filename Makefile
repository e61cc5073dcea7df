# tracer-dkms top-level Makefile.
#
#   make                     build src/tracer.ko for the running kernel
#   make KVER=<release>      build it for another installed kernel (DKMS form)
#   make check               build and test on every supported kernel (QEMU)
#
# Works from anywhere: make -C /path/to/tracer-dkms KVER=...

TOP     := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VERSION := $(shell cat $(TOP)/VERSION)
KVER    ?= $(shell uname -r)
KDIR    ?= /lib/modules/$(KVER)/build

KBUILD_ARGS = -C $(KDIR) M=$(TOP)/src TRACER_VERSION=$(VERSION)

.PHONY: all module modules clean sparse checkpatch helper check install

all: module

module modules:
	@test -d $(KDIR) || { echo "tracer: no kernel headers for $(KVER) in $(KDIR);" \
		"install linux-headers-$(KVER)" >&2; exit 1; }
	$(MAKE) $(KBUILD_ARGS) modules

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
