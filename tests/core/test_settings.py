"""Settings: defaults, environment, TOML file, and validation that names the field."""

import pytest
from pydantic import ValidationError

from lab.core.settings import EMBEDDED_GENERATOR, LabSettings


def test_defaults_are_the_embedded_models_on_the_automatic_device(monkeypatch, tmp_path):
    monkeypatch.setenv("RAGLAB_HOME", str(tmp_path))
    settings = LabSettings()
    assert settings.generator == EMBEDDED_GENERATOR and settings.device == "auto" and settings.top_k == 5


def test_the_environment_overrides_the_toml_file(monkeypatch, tmp_path):
    (tmp_path / "settings.toml").write_text('top_k = 7\nchunker = "semantic"\n')
    monkeypatch.delenv("RAGLAB_SETTINGS_FILE")
    monkeypatch.setenv("RAGLAB_HOME", str(tmp_path))
    monkeypatch.setenv("RAGLAB_TOP_K", "3")
    settings = LabSettings()
    assert settings.top_k == 3 and settings.chunker == "semantic"


def test_an_out_of_range_value_names_the_field(monkeypatch, tmp_path):
    monkeypatch.setenv("RAGLAB_HOME", str(tmp_path))
    with pytest.raises(ValidationError, match="top_k"):
        LabSettings(top_k=0)


def test_a_prompt_template_without_its_placeholder_is_refused_naming_it(monkeypatch, tmp_path):
    monkeypatch.setenv("RAGLAB_HOME", str(tmp_path))
    with pytest.raises(ValidationError, match=r"answer template lacks \{passages\}"):
        LabSettings(answer_template="Question: {question}\nAnswer:")


def test_a_saved_prompt_template_reads_back_unchanged(monkeypatch, tmp_path):
    from lab.core.settings import save_settings

    monkeypatch.setenv("RAGLAB_SETTINGS_FILE", str(tmp_path / "settings.toml"))
    template = 'Notes {"json": true}\n{passages}\n\nQ: {question}\nA:'
    save_settings(LabSettings(), {"answer_template": template})
    assert LabSettings().answer_template == template
