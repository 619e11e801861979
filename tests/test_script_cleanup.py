"""What the build scripts leave behind when a step fails or the script is
stopped: nothing of their own (issue 28, defect 5). Small fixtures: a
one-file crate whose "built" program is a file written here and an auditor
that refuses; no Lambda build."""

import os
from conftest import ROOT, run


def test_a_program_that_fails_its_audit_leaves_no_staged_copy(tmp_path):
    """scripts/pipeline package stages a program not named bootstrap in a
    directory of its own (mktemp -d); an audit that fails ended the script
    through errexit, and the copy stayed in TMPDIR."""
    crate = tmp_path / "crate"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text('[package]\nname = "answers"\nversion = "0.1.0"\nedition = "2021"\n')
    (crate / "src" / "main.rs").write_text("fn main() {}\n")
    target = tmp_path / "target"
    program = target / "x86_64-unknown-linux-gnu" / "release" / "answers"
    program.parent.mkdir(parents=True)
    program.write_bytes(b"the program as cargo would have built it\n")
    audit = tmp_path / "refusing-audit"
    audit.write_text("#!/bin/sh\necho 'bootstrap: WILL NOT LOAD' >&2\nexit 1\n")
    audit.chmod(0o755)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "LAMBDA_RUNTIME": "provided.al2023", "LAMBDA_MANIFEST_PATH": str(crate / "Cargo.toml"),
           "CARGO_TARGET_DIR": str(target), "LAMBDA_AUDIT": str(audit), "TMPDIR": str(tmp)}
    env.pop("LAMBDA_ARCH", None)
    result = run(["bash", ROOT / "scripts/pipeline", "package", tmp_path / "out"], env=env)
    assert result.returncode == 1, result.stderr
    assert "WILL NOT LOAD" in result.stderr
    assert sorted(tmp.iterdir()) == [], "left in TMPDIR"
