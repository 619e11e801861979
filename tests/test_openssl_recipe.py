"""scripts/openssl-recipe's OpenSSL 1.0.2 branch, as far as it can run here.

No OpenSSL 1.0.2 source is reachable from CI (crates.io's openssl-src starts
at 1.1.0), so CI builds the 1.1.1 branch for real (the zip) and this test
runs the 1.0.2 branch, with the pinned zig, over a small tree shaped like
1.0.2u's build: a Perl Configure, a Makefile whose `depend` target calls
util/domd as 1.0.2u's does (`util/domd TOP -MD $(MAKEDEPPROG) -- FLAGS --
FILES`), a domd that behaves as 1.0.2u's (read in the OpenSSL_1_0_2u tag's
util/domd: the words up to `--` are the generator, a generator whose name
matches `.*makedepend` gets makedepend's arguments, any other ONE `-M`
command for all of a directory's files), and `build_libs` compiling and
archiving with $(CC), $(AR) and $(RANLIB).
What it proves: the recipe's command lines (Configure options, prefix,
openssldir, serial make, the variables it passes), its dependency generator
(one `zig cc -M` per file, under a name domd does not take for makedepend),
the pinned "built on:" epoch, and what it installs. The negative controls
show the two generators the flake's real build failed with failing on this
tree the same way: a name ending in makedepend ("--" reaches clang), and one
zig -M command for several files (zig's glibc headers not used)."""

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
MAKEDEPPROG= makedepend
TOP= .
MAKEDEPEND= $(TOP)/util/domd $(TOP) -MD $(MAKEDEPPROG)

depend:
\t$(MAKEDEPEND) -- -Iinclude -D OPENSSL_NO_KRB5 -- crypto/cversion.c crypto/mem.c ssl/s3_lib.c

build_libs:
\t$(CC) -Iinclude -c -o crypto/cversion.o crypto/cversion.c
\t$(CC) -Iinclude -c -o crypto/mem.o crypto/mem.c
\t$(CC) -Iinclude -c -o ssl/s3_lib.o ssl/s3_lib.c
\t$(AR) libcrypto.a crypto/cversion.o crypto/mem.o
\t$(RANLIB) libcrypto.a
\t$(AR) libssl.a ssl/s3_lib.o
\t$(RANLIB) libssl.a
\techo "$(CC)" > compiler.txt
\techo "$$SOURCE_DATE_EPOCH" > built-on.txt

# DO NOT DELETE THIS LINE -- make depend depends on it.
"""

# The behaviour of 1.0.2u's util/domd that matters here, in our own words.
DOMD = r"""#!/bin/sh
TOP=$1
shift
if [ "$1" = "-MD" ]; then
  shift
  MAKEDEPEND=""
  while [ "$1" != "--" ]; do MAKEDEPEND="$MAKEDEPEND $1"; shift; done
fi
[ -n "$MAKEDEPEND" ] || MAKEDEPEND=makedepend
if expr "$MAKEDEPEND" : ".*makedepend" >/dev/null; then
  # makedepend's convention: its arguments as given, the -- markers included.
  ${MAKEDEPEND} -D OPENSSL_DOING_MAKEDEPEND "$@" || exit 1
else
  # The compiler convention: one -M command for every file, appended to the Makefile.
  args=""
  while [ $# -gt 0 ]; do
    if [ "$1" != "--" ]; then args="$args $1"; fi
    shift
  done
  sed -e '/^# DO NOT DELETE.*/,$d' < Makefile > Makefile.tmp
  echo '# DO NOT DELETE THIS LINE -- make depend depends on it.' >> Makefile.tmp
  ${MAKEDEPEND} -Werror -D OPENSSL_DOING_MAKEDEPEND -M $args >> Makefile.tmp || exit 1
  mv Makefile.tmp Makefile
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
    # Sources that include the C library's headers, as OpenSSL's do: zig's glibc headers must be found.
    (tree / "crypto" / "mem.c").write_text(
        '#include <stdlib.h>\n#include <string.h>\nvoid *CRYPTO_malloc(size_t n) { return malloc(n); }\n')
    (tree / "ssl" / "s3_lib.c").write_text(
        '#include <stddef.h>\n#include <openssl/opensslv.h>\nint ssl3_version(void) { return 3; }\n')
    (tree / "Configure").write_text(CONFIGURE)
    (tree / "Makefile.org").write_text(MAKEFILE)
    (tree / "util" / "domd").write_text(DOMD)
    for script in ("Configure", "util/domd"):
        os.chmod(tree / script, 0o755)


@pytest.fixture(scope="module")
def zig_path():
    tools = run(["bash", ROOT / "scripts/bootstrap-tools"]).stdout.strip()
    return f"{tools}:{os.environ['PATH']}"


def recipe(tree, dest, path, *extra, env=None):
    env = {**os.environ, **(env or {}), "PATH": path, "ZIG_GLOBAL_CACHE_DIR": str(tree.parent / "zig-cache"),
           "ZIG_LOCAL_CACHE_DIR": str(tree.parent / "zig-local-cache")}
    return subprocess.run(
        ["bash", ROOT / "scripts/openssl-recipe", tree, dest, ZIG_TARGET, "/etc/pki/tls", "no-shared", "-fPIC", *extra],
        env=env, capture_output=True, text=True,
    )


def test_the_102_branch_builds_with_the_multi_word_zig_compiler(tmp_path, zig_path):
    tree, dest = tmp_path / "openssl-1.0.2u", tmp_path / "sysroot"
    fake_openssl_102(tree)
    # The caller's SOURCE_DATE_EPOCH (Nix's stdenv exports one) is not the one OpenSSL records.
    result = recipe(tree, dest, zig_path, env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert result.returncode == 0, result.stderr + (tree / "build.log").read_text()
    assert (tree / "built-on.txt").read_text().strip() == "315532800"

    # Configure: the target, the project's options, a fixed prefix, Amazon Linux's openssldir.
    assert (tree / "configure.args").read_text().split("\n")[:-1] == [
        "linux-x86_64", "no-shared", "-fPIC", "--prefix=/opt/lambda-openssl", "--openssldir=/etc/pki/tls"]
    # make depend ran with zig through the one-word wrapper, and wrote dependency lists.
    makefile = (tree / "Makefile").read_text()
    assert "cversion.o: crypto/cversion.c" in makefile and "include/openssl/opensslv.h" in makefile
    assert "mem.o: crypto/mem.c" in makefile and "s3_lib.o: ssl/s3_lib.c" in makefile
    # build_libs: the compiler string OpenSSL records is the zig command line, no wrapper path.
    assert (tree / "compiler.txt").read_text().strip() == f"zig cc -target {ZIG_TARGET}"
    # Installed: both static libraries, x86-64 objects; headers as files, not links.
    for lib in ("libcrypto.a", "libssl.a"):
        members = run(["readelf", "-h", dest / "lib" / lib]).stdout
        assert "Advanced Micro Devices X86-64" in members and "REL (Relocatable file)" in members
    header = dest / "include" / "openssl" / "opensslv.h"
    assert header.is_file() and not header.is_symlink()
    assert "1.0.2u" in header.read_text()


def generator(tmp_path, name, body):
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


@pytest.mark.parametrize("name,body,says", [
    # The flake's first generator: named like makedepend, so domd hands it the "--" markers.
    (".lambda-makedepend", 'exec zig cc -target x86_64-linux-gnu "$@"', "--"),
    # The compiler convention with one zig -M command for several files.
    (".one-command", 'exec zig cc -target x86_64-linux-gnu "$@"', ".h' file not found"),
])
def test_the_generators_the_real_build_failed_with_fail_on_the_same_tree(tmp_path, zig_path, name, body, says):
    """Negative controls: what `make depend` of the real 1.0.2u did with the
    generators the flake had before."""
    tree = tmp_path / "openssl-1.0.2u"
    fake_openssl_102(tree)
    shutil.copy(tree / "Makefile.org", tree / "Makefile")
    depend = generator(tmp_path, name, body)
    result = subprocess.run(
        ["make", f"MAKEDEPPROG={depend}", "depend"], cwd=tree,
        env={**os.environ, "PATH": zig_path, "ZIG_GLOBAL_CACHE_DIR": str(tmp_path / "zig-cache"),
             "ZIG_LOCAL_CACHE_DIR": str(tmp_path / "zig-local-cache")}, capture_output=True, text=True)
    assert result.returncode != 0, result.stdout
    assert says in result.stderr + result.stdout, result.stderr


@pytest.mark.parametrize("version_file, text, version", [
    # A 1.1.0 header (a series the recipe does not build), and a 4.0 tree
    # named by VERSION.dat as 3.x trees are (a major the recipe does not know).
    ("crypto/opensslv.h", '# define OPENSSL_VERSION_TEXT "OpenSSL 1.1.0l  10 Sep 2019"\n', "1.1.0l"),
    ("VERSION.dat", "MAJOR=4\nMINOR=0\nPATCH=0\n", "4.0.0"),
])
def test_unknown_versions_are_refused(tmp_path, zig_path, version_file, text, version):
    tree = tmp_path / f"openssl-{version}"
    fake_openssl_102(tree)
    (tree / version_file).write_text(text)
    result = recipe(tree, tmp_path / "out", zig_path)
    assert result.returncode == 2 and f"OpenSSL {version} is not supported" in result.stderr
    assert textwrap.dedent(result.stderr).count("\n") == 1
    assert not (tmp_path / "out").exists()
