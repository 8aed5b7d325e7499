# STAND-IN for OpenWrt's rules.mk in test/packaging/feed-make.test.ts: only what the feed
# Makefile reads from it. The test passes TARGET_CC and ARCH as the buildroot would set them.
INCLUDE_DIR:=$(TOPDIR)/include
