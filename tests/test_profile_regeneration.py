"""The built-in profiles regenerate byte for byte (issue 29).

Everything in lambda-audit/profiles/ that is not a fact written by hand is
derived from pinned real builds (docs/runtime-facts.md §4, §5): the arm64 OS
profiles from the x86_64 ones and Debian's aarch64 glibc, every library's
exports from zig's glibc stubs and Debian's packages, the interpreters' and
node's exports from their pinned builds. Here a copy of the checkout loses all
of that (every export list emptied, every arm64 profile deleted), the three
regeneration steps of scripts/profile-runtime-data's usage run on it, and
every profile must come back with the committed bytes."""

import json
import os
import shutil

from conftest import ROOT, run

# The inputs of the derivation: the pins, never rewritten by it.
PINS = {"distribution-packages.json", "node-packages.json"}


def strip_derived(profiles):
    """Empties every export list (libraries' and hosts') and deletes the arm64
    profiles, keeping each key where it was: what is left is the hand-written facts."""
    for path in sorted(profiles.glob("*.json")):
        if path.name in PINS:
            continue
        if path.name.endswith("-arm64.json"):
            path.unlink()
            continue
        profile = json.loads(path.read_text())
        for library in profile.get("libraries", []):
            if "exports" in library:
                library["exports"] = []
        if isinstance(profile.get("host"), dict) and "exports" in profile["host"]:
            profile["host"]["exports"] = []
        path.write_text(json.dumps(profile, indent=2, ensure_ascii=False) + "\n")


def test_the_builtin_profiles_regenerate_byte_for_byte(audit_bin, tmp_path):
    checkout = tmp_path / "checkout"
    for part in ("scripts", "toolchain", "lambda-audit/profiles"):
        shutil.copytree(ROOT / part, checkout / part, symlinks=True)
    # zig (scripts/profile-glibc-exports) as scripts/bootstrap-tools installed it for this checkout.
    (checkout / ".tools").symlink_to(ROOT / ".tools")
    profiles = checkout / "lambda-audit/profiles"
    committed = {path.name: path.read_bytes() for path in (ROOT / "lambda-audit/profiles").glob("*.json")}
    strip_derived(profiles)
    assert {path.name for path in profiles.glob("*.json")} != set(committed)

    env = {**os.environ, "LAMBDA_AUDIT": str(audit_bin)}
    for step in (["scripts/profile-runtime-data", "arm64-base"], ["scripts/profile-glibc-exports"],
                 ["scripts/profile-runtime-data"]):
        done = run(step, cwd=checkout, env=env)
        assert done.returncode == 0, f"{' '.join(step)}:\n{done.stderr[-3000:]}"

    regenerated = {path.name: path.read_bytes() for path in profiles.glob("*.json")}
    assert sorted(regenerated) == sorted(committed)
    assert [name for name in sorted(committed) if regenerated[name] != committed[name]] == []
