// not built: tests/nix/lib-test.nix reads the manifests only
