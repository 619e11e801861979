"""scripts/openssl-recipe's OpenSSL 1.0.2 branch, as far as it can run here.

No OpenSSL 1.0.2 source is reachable from this machine (crates.io's
openssl-src starts at 1.1.0), so CI builds the 1.1.1 branch for real (the
zip) and this test runs the 1.0.2 branch, with the pinned zig, over a small
tree shaped like 1.0.2's build: a Perl Configure, a Makefile whose `depend`
target calls util/domd as 1.0.2's does (`util/domd TOP -MD $(MAKEDEPPROG)`,
unquoted), a domd that, like 1.0.2's, takes the single word after -MD as the
compiler and uses `-M` only when that compiler says it is clang or gcc, and
`build_libs` compiling and archiving with $(CC), $(AR) and $(RANLIB).
What it proves: the recipe's command lines (Configure options, prefix,
openssldir, serial make, the variables it passes), its handling of the
multi-word zig compiler (the one-word dependency wrapper), and what it
installs. The negative control shows the old command line fails on this tree
exactly as on 1.0.2 ("unknown command: -D")."""

import os
import shutil
import subprocess
import textwrap

import pytest

from conftest import ROOT, run

ZIG_TARGET = "x86_64-linux-gnu.2.17"

CONFIGURE = r"""#!/usr/bin/perl
# Records its arguments and writes the Makefile, as 1.0.2's Configure does.
open(my $f, '>', 'configure.args') or die; print $f join("\n", @ARGV), "\n"; close $f;
system('cp', 'Makefile.org', 'Makefile') == 0 or die "cp";
"""

MAKEFILE = """\
CC= cc
AR= ar r
RANLIB= ranlib
MAKEDEPPROG= cc
TOP= .
MAKEDEPEND= $(TOP)/util/domd $(TOP) -MD $(MAKEDEPPROG)

depend:
\t$(MAKEDEPEND) -- -Iinclude crypto/cversion.c ssl/s3_lib.c

build_libs:
\t$(CC) -Iinclude -c -o crypto/cversion.o crypto/cversion.c
\t$(CC) -Iinclude -c -o ssl/s3_lib.o ssl/s3_lib.c
\t$(AR) libcrypto.a crypto/cversion.o
\t$(RANLIB) libcrypto.a
\t$(AR) libssl.a ssl/s3_lib.o
\t$(RANLIB) libssl.a
\techo "$(CC)" > compiler.txt

# DO NOT DELETE THIS LINE -- make depend depends on it.
"""

# The behaviour of 1.0.2's util/domd that matters here, in our own words: the
# one word after -MD is the compiler; -M dependency lists only for a compiler
# that calls itself clang or gcc, otherwise makedepend-style flags.
DOMD = r"""#!/bin/sh
TOP=$1
shift
if [ "$1" = "-MD" ]; then
  shift
  MAKEDEPEND=$1
  shift
fi
args=""
for a in "$@"; do [ "$a" != "--" ] && args="$args $a"; done
if ${MAKEDEPEND} --version 2>&1 | grep clang >/dev/null || echo "$MAKEDEPEND" | grep gcc >/dev/null; then
  ${MAKEDEPEND} -Werror -D OPENSSL_DOING_MAKEDEPEND -M $args >> Makefile || exit 1
else
  ${MAKEDEPEND} -D OPENSSL_DOING_MAKEDEPEND $args || exit 1
fi
"""


def fake_openssl_102(tree):
    (tree / "crypto").mkdir(parents=True)
    (tree / "ssl").mkdir()
    (tree / "util").mkdir()
    (tree / "include" / "openssl").mkdir(parents=True)
    (tree / "crypto" / "opensslv.h").write_text(
        '#ifdef OPENSSL_FIPS\n# define OPENSSL_VERSION_TEXT    "OpenSSL 1.0.2u-fips  20 Dec 2019"\n'
        '#else\n# define OPENSSL_VERSION_TEXT    "OpenSSL 1.0.2u  20 Dec 2019"\n#endif\n'
    )
    # 1.0.2's include/openssl holds links to the headers beside the sources.
    os.symlink("../../crypto/opensslv.h", tree / "include" / "openssl" / "opensslv.h")
    (tree / "crypto" / "cversion.c").write_text(
        '#include <openssl/opensslv.h>\nconst char *SSLeay_version_text(void) { return OPENSSL_VERSION_TEXT; }\n'
    )
    (tree / "ssl" / "s3_lib.c").write_text('#include <openssl/opensslv.h>\nint ssl3_version(void) { return 3; }\n')
    (tree / "Configure").write_text(CONFIGURE)
    (tree / "Makefile.org").write_text(MAKEFILE)
    (tree / "util" / "domd").write_text(DOMD)
    for script in ("Configure", "util/domd"):
        os.chmod(tree / script, 0o755)


@pytest.fixture(scope="module")
def zig_path():
    tools = run(["bash", ROOT / "scripts/bootstrap-tools"]).stdout.strip()
    return f"{tools}:{os.environ['PATH']}"


def recipe(tree, dest, path, *extra):
    env = {**os.environ, "PATH": path, "ZIG_GLOBAL_CACHE_DIR": str(tree.parent / "zig-cache"),
           "ZIG_LOCAL_CACHE_DIR": str(tree.parent / "zig-local-cache")}
    return subprocess.run(
        ["bash", ROOT / "scripts/openssl-recipe", tree, dest, ZIG_TARGET, "/etc/pki/tls", "no-shared", "-fPIC", *extra],
        env=env, capture_output=True, text=True,
    )


def test_the_102_branch_builds_with_the_multi_word_zig_compiler(tmp_path, zig_path):
    tree, dest = tmp_path / "openssl-1.0.2u", tmp_path / "sysroot"
    fake_openssl_102(tree)
    result = recipe(tree, dest, zig_path)
    assert result.returncode == 0, result.stderr + (tree / "build.log").read_text()

    # Configure: the target, the project's options, a fixed prefix, Amazon Linux's openssldir.
    assert (tree / "configure.args").read_text().split("\n")[:-1] == [
        "linux-x86_64", "no-shared", "-fPIC", "--prefix=/opt/lambda-openssl", "--openssldir=/etc/pki/tls"]
    # make depend ran with zig through the one-word wrapper, and wrote dependency lists.
    makefile = (tree / "Makefile").read_text()
    assert "cversion.o: crypto/cversion.c" in makefile and "include/openssl/opensslv.h" in makefile
    # build_libs: the compiler string OpenSSL records is the zig command line, no wrapper path.
    assert (tree / "compiler.txt").read_text().strip() == f"zig cc -target {ZIG_TARGET}"
    # Installed: both static libraries, x86-64 objects; headers as files, not links.
    for lib in ("libcrypto.a", "libssl.a"):
        members = run(["readelf", "-h", dest / "lib" / lib]).stdout
        assert "Advanced Micro Devices X86-64" in members and "REL (Relocatable file)" in members
    header = dest / "include" / "openssl" / "opensslv.h"
    assert header.is_file() and not header.is_symlink()
    assert "1.0.2u" in header.read_text()


def test_the_old_command_line_fails_on_the_same_tree(tmp_path, zig_path):
    """Negative control: MAKEDEPPROG as the multi-word command line (the flake's
    recipe before) reaches domd as the single word `zig`."""
    tree = tmp_path / "openssl-1.0.2u"
    fake_openssl_102(tree)
    shutil.copy(tree / "Makefile.org", tree / "Makefile")
    zig_cc = f"zig cc -target {ZIG_TARGET}"
    result = subprocess.run(
        ["make", f"CC={zig_cc}", f"MAKEDEPPROG={zig_cc}", "depend"], cwd=tree,
        env={**os.environ, "PATH": zig_path}, capture_output=True, text=True)
    assert result.returncode != 0
    assert "unknown command: -D" in result.stderr + result.stdout


def test_unknown_versions_and_a_zero_epoch_are_refused(tmp_path, zig_path):
    tree = tmp_path / "openssl-3.0.0"
    fake_openssl_102(tree)
    (tree / "crypto" / "opensslv.h").write_text('# define OPENSSL_VERSION_TEXT "OpenSSL 3.0.0  7 sep 2021"\n')
    result = recipe(tree, tmp_path / "out", zig_path)
    assert result.returncode == 2 and "OpenSSL 3.0.0 is not supported" in result.stderr
    assert not (tmp_path / "out").exists()

    fake_openssl_102(tmp_path / "zero")
    env = {**os.environ, "PATH": zig_path, "SOURCE_DATE_EPOCH": "0"}
    result = subprocess.run(["bash", ROOT / "scripts/openssl-recipe", tmp_path / "zero", tmp_path / "out",
                             ZIG_TARGET, "/etc/pki/tls"], env=env, capture_output=True, text=True)
    assert result.returncode == 2 and "SOURCE_DATE_EPOCH=0" in result.stderr
    assert textwrap.dedent(result.stderr).count("\n") == 1
