# STAND-IN for OpenWrt's include/package.mk in test/packaging/feed-make.test.ts: the install
# commands of rules.mk, and a BuildPackage that runs the package's steps in one rule, expanded as
# package.mk's Build/DefaultTargets expands them ($(eval $(call ...)): a define's $$$$ reaches
# the shell as $). IPKG_DIR is where Package/<name>/install puts the files (ipkg-<arch>/<name>).
CP:=cp -fpR
INSTALL_DIR:=install -d -m0755
INSTALL_BIN:=install -m0755
INSTALL_DATA:=install -m0644
INSTALL_CONF:=install -m0600
define BuildPackage
all:
	$(Build/Prepare)
	$(Build/Configure)
	$(Build/Compile)
	$(call Package/$(1)/install,$(IPKG_DIR))
endef
