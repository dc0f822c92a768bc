"""Model registry against real model files (the 5.6 MB pocketsphinx-zh model)."""
from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from ivr.errors import IvrError, ModelCorruptError, ModelMissingError
from ivr.registry import Registry, load_manifest, tree_sha256

ROOT = Path(__file__).resolve().parents[2]

PS = "pocketsphinx-zh"


@pytest.fixture
def reg(tmp_path: Path) -> Registry:
    return Registry(home=tmp_path / "home")


@pytest.fixture(scope="session")
def ps_src(shared_dir: Path) -> Path:
    d = shared_dir / "models" / PS
    if not d.is_dir():
        pytest.skip(f"needs {d}")
    return d


def test_manifests_are_complete_and_self_consistent():
    for p in sorted((ROOT / "models").glob("*.yaml")):
        m = load_manifest(p)
        assert m.name == p.stem and m.engine in {"whisper", "vosk", "sphinx"}
        assert m.licence and m.source and m.install and m.files
        if m.pinned:
            assert all(f.sha256 and f.size > 0 for f in m.files)
            assert tree_sha256({f.path: f.sha256 for f in m.files}) == m.sha256
            assert m.size == sum(f.size for f in m.files)


def test_missing_model_names_the_install_command(reg):
    with pytest.raises(ModelMissingError) as e:
        reg.path("vosk-model-cn-0.22")
    msg = str(e.value)
    assert "\n" not in msg
    assert "ivr models install vosk-model-cn-0.22 --from" in msg


def test_missing_model_through_load_engine(reg):
    from ivr.asr import load_engine

    with pytest.raises(ModelMissingError, match=r"ivr models install vosk-model-cn-0\.22"):
        load_engine("vosk", registry=reg)


def test_unknown_model_is_a_one_line_error(reg):
    with pytest.raises(IvrError, match="unknown model 'nope'") as e:
        reg.path("nope")
    assert "\n" not in str(e.value)


def test_install_from_folder_then_verify(reg, ps_src):
    dest = reg.install(PS, ps_src)
    assert dest == reg.install_dir(PS)
    assert reg.locate(PS) == dest
    assert reg.verify(PS, force=True) == reg.manifest(PS).sha256
    assert reg.status(PS).state == "ok"


def test_install_from_tar_archive(reg, ps_src, tmp_path):
    archive = tmp_path / "pocketsphinx-zh.tar.gz"
    with tarfile.open(archive, "w:gz") as t:
        # upstream archives hold one top-level folder
        t.add(ps_src / "hmm", arcname="cmusphinx-zh/hmm")
        t.add(ps_src / "lm" / "mandarin_notone.dic", arcname="cmusphinx-zh/lm/mandarin_notone.dic")
    seen = []
    dest = reg.install(PS, archive, progress=lambda done, total, what: seen.append((done, total)))
    assert (dest / "hmm" / "tdt_sc_8k" / "mdef").is_file()
    assert seen and seen[-1][0] == seen[-1][1]
    assert reg.verify(PS, force=True) == reg.manifest(PS).sha256


def test_archive_without_the_model_is_rejected(reg, tmp_path):
    archive = tmp_path / "empty.tar.gz"
    (tmp_path / "x.txt").write_text("hello")
    with tarfile.open(archive, "w:gz") as t:
        t.add(tmp_path / "x.txt", arcname="x.txt")
    with pytest.raises(ModelCorruptError, match="does not hold"):
        reg.install(PS, archive)
    assert not reg.install_dir(PS).exists()


def _installed(reg, ps_src) -> Path:
    dest = reg.install(PS, ps_src)
    for p in dest.rglob("*"):
        if p.is_file():
            os.chmod(p, 0o644)
    return dest


def test_truncated_file_is_corrupt(reg, ps_src):
    dest = _installed(reg, ps_src)
    mdef = dest / "hmm" / "tdt_sc_8k" / "mdef"
    mdef.write_bytes(mdef.read_bytes()[:1000])
    with pytest.raises(ModelCorruptError) as e:
        reg.path(PS)
    msg = str(e.value)
    assert "\n" not in msg and "truncated" in msg and "mdef" in msg and "ivr models install pocketsphinx-zh" in msg


def test_flipped_byte_fails_the_checksum(reg, ps_src):
    dest = _installed(reg, ps_src)
    reg.path(PS)  # verified and stamped
    means = dest / "hmm" / "tdt_sc_8k" / "means"
    data = bytearray(means.read_bytes())
    data[500] ^= 0xFF
    means.write_bytes(bytes(data))  # same size, new mtime: the stamp no longer matches
    with pytest.raises(ModelCorruptError, match="means fails its sha256 check"):
        reg.path(PS)


def test_corrupt_model_through_load_engine(reg, ps_src):
    from ivr.asr import load_engine

    dest = _installed(reg, ps_src)
    (dest / "lm" / "mandarin_notone.dic").unlink()
    with pytest.raises(ModelCorruptError, match=r"mandarin_notone\.dic is missing"):
        load_engine("sphinx", registry=reg)


def test_in_place_source_is_used_and_said(reg, ps_src):
    import logging

    if (ROOT.parent / "shared").resolve() != ps_src.parents[1].resolve():
        pytest.skip("IVR_SHARED points elsewhere; the manifest names ../shared")
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    logger = logging.getLogger("ivr.registry.registry")
    handler, level = Keep(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        assert reg.path(PS) == ps_src.resolve()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert any("not installed under" in m for m in seen)


def test_unpinned_model_is_held_to_its_install_hash(reg, ps_src, tmp_path):
    # a user-supplied manifest (sha256: null) over a real folder
    mdir = tmp_path / "manifests"
    mdir.mkdir()
    (mdir / "mine.yaml").write_text(
        "name: mine\nengine: sphinx\nlanguage: zh-TW\nsample_rate: 8000\nsha256: null\nlicence: BSD\n"
        "source: local\ninstall: ivr models install mine --from DIR\n"
        "files:\n  hmm/tdt_sc_8k/means: -1\n  hmm/tdt_sc_8k/mdef: -1\n", encoding="utf-8")
    r = Registry(home=tmp_path / "h2", manifest_dir=mdir)
    dest = r.install("mine", ps_src)
    first = r.verify("mine", force=True)
    p = dest / "hmm" / "tdt_sc_8k" / "means"
    os.chmod(p, 0o644)
    p.write_bytes(p.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(ModelCorruptError, match="differs"):
        r.verify("mine", force=True)
    assert first
