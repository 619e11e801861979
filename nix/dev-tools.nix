# What the dev shell and the CI image offer beyond the build's own tools
# (lambda-zip.buildTools): the test runner checks.nextest uses, binutils, and
# the formatter checks.nixfmt uses. One list, so the image is the shell.
{ pkgs, ... }:
[
  pkgs.cargo-nextest
  pkgs.binutils
  pkgs.nixfmt
]
