"""What manifest.json says of the package: its export steps (which data file each wrote, by which provider)
and its Files[], each resolved to its zip entry. A step or file naming an entry the zip lacks is refused."""

from __future__ import annotations

from emulator.kernel.jsonfile import get_ci

from .package import Package, PackageError

Steps = dict[str, tuple[str, str | None]]  # lower-cased step id -> (provider system name, data entry or None)


def manifest_steps(pkg: Package, manifest: dict, manifest_entry: str) -> Steps:
    """Export step id -> (provider system name, data entry), from manifest ExportedSteps [C3]."""
    steps: Steps = {}
    raw = get_ci(manifest, "ExportedSteps") or []
    if not isinstance(raw, list):
        raise PackageError("manifest.json ExportedSteps is not a list", manifest_entry)
    for i, step in enumerate(raw):
        if not isinstance(step, dict):
            continue
        storage = get_ci(step, "StorageFilename")
        entry = None
        if isinstance(storage, str) and storage:
            entry = pkg.find(storage) or pkg.find("data/" + storage)
            if entry is None:
                raise PackageError(
                    f"manifest.json ExportedSteps[{i}] names {storage!r}, which is not in the package",
                    storage,
                )
        provider = str(get_ci(step, "ExportProviderSystemName") or "")
        steps[str(get_ci(step, "Id") or f"#{i}").lower()] = (provider, entry)
    return steps


def manifest_files(pkg: Package, manifest: dict, manifest_entry: str) -> list[dict[str, str]]:
    """Manifest Files[], each resolved to its zip entry; a missing file is an error."""
    raw = get_ci(manifest, "Files") or []
    if not isinstance(raw, list):
        raise PackageError("manifest.json Files is not a list", manifest_entry)
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise PackageError(f"manifest.json Files[{i}] is not an object", manifest_entry)
        storage = get_ci(item, "StorageFilename")
        if not isinstance(storage, str) or not storage:
            raise PackageError(f"manifest.json Files[{i}] has no StorageFilename", manifest_entry)
        entry = pkg.find("files/" + storage) or pkg.find(storage)
        if entry is None:
            raise PackageError(f"manifest.json Files[{i}] names files/{storage}, which is not in the package", storage)
        out.append(
            {
                "entry": entry,
                "id": str(get_ci(item, "Id") or ""),
                "storage": storage,
                "original": str(get_ci(item, "OriginalFilename") or ""),
                "step": str(get_ci(item, "StepId") or "").lower(),
            }
        )
    return out
