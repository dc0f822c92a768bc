"""Model registry: manifests in ``models/*.yaml``, install and verify into
``$IVR_HOME/models``. Engines get their model folder from ``model_path``."""
from ivr.errors import ModelCorruptError, ModelMissingError
from ivr.registry.hashing import file_sha256, tree_sha256
from ivr.registry.manifest import FileEntry, Manifest, load_manifest
from ivr.registry.registry import ModelStatus, Registry, ivr_home, model_path

__all__ = [
    "Registry", "ModelStatus", "Manifest", "FileEntry", "load_manifest", "model_path", "ivr_home",
    "file_sha256", "tree_sha256", "ModelMissingError", "ModelCorruptError",
]
