"""Files uploaded through the browser: checked, then written inside the KB's upload folder only."""

import re
from pathlib import Path

from lab.kb.loaders import SUPPORTED_SUFFIXES


class UploadRejected(ValueError):
    pass


def save_upload(
    home: Path, kb_name: str, file_name: str, data: bytes, max_bytes: int, suffixes: tuple[str, ...] = SUPPORTED_SUFFIXES
) -> Path:
    """Write one upload under HOME/uploads/KB/, refusing unsupported types, oversize files and path tricks."""
    if "/" in file_name or "\\" in file_name or file_name in ("", ".", "..") or "\x00" in file_name:
        raise UploadRejected(f"{file_name!r}: a file name may not contain path separators; rename the file.")
    suffix = Path(file_name).suffix.lower()
    if suffix not in suffixes:
        raise UploadRejected(f"{file_name}: unsupported file type {suffix or '(none)'}; supported: {', '.join(suffixes)}.")
    if len(data) > max_bytes:
        raise UploadRejected(
            f"{file_name}: {len(data) / 2**20:.1f} MiB is over the {max_bytes / 2**20:.0f} MiB upload limit; "
            "raise RAGLAB_MAX_UPLOAD_MB or ingest it from the command line."
        )
    folder = home / "uploads" / re.sub(r"[^A-Za-z0-9_.-]", "_", kb_name)
    folder.mkdir(parents=True, exist_ok=True)
    target = (folder / file_name).resolve()
    if target.parent != folder.resolve():
        raise UploadRejected(f"{file_name!r} would be written outside the upload folder; rename the file.")
    target.write_bytes(data)
    return target
