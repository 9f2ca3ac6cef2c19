"""Browser uploads: only supported, reasonably sized files, written only inside the upload folder."""

import pytest

from lab.kb.uploads import UploadRejected, save_upload


def test_a_supported_upload_is_written_under_the_kb_upload_folder(tmp_path):
    path = save_upload(tmp_path, "notes", "a.md", b"# A\n\ntext", max_bytes=1000)
    assert path == (tmp_path / "uploads" / "notes" / "a.md").resolve() and path.read_bytes().startswith(b"# A")


@pytest.mark.parametrize("name", ["../evil.md", "sub/evil.md", "..\\evil.md", ".."])
def test_a_file_name_with_path_separators_cannot_write_outside(tmp_path, name):
    with pytest.raises(UploadRejected, match="path separators|rename"):
        save_upload(tmp_path, "notes", name, b"x", max_bytes=1000)
    assert not (tmp_path / "evil.md").exists()


def test_an_unsupported_type_is_refused_with_the_supported_list(tmp_path):
    with pytest.raises(UploadRejected, match=r"unsupported file type \.exe; supported: \.txt"):
        save_upload(tmp_path, "notes", "setup.exe", b"MZ", max_bytes=1000)


def test_an_oversize_upload_is_refused_with_the_limit(tmp_path):
    with pytest.raises(UploadRejected, match="over the 1 MiB upload limit"):
        save_upload(tmp_path, "notes", "big.txt", b"x" * (2 * 2**20), max_bytes=2**20)
