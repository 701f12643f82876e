"""The backend registries: the schema offers exactly their names, every entry names a real class."""

import importlib

import pytest
import yaml

from fineclipper.backends import REGISTRIES, backend_of
from fineclipper.config import SCHEMA


@pytest.mark.parametrize("stage", sorted(REGISTRIES))
def test_the_schema_offers_the_registry(stage):
    key, registry = REGISTRIES[stage]
    schema = yaml.safe_load(SCHEMA.read_text())["properties"][stage]["properties"][key]
    assert set(schema["enum"]) == set(registry) and schema["default"] in registry


@pytest.mark.parametrize("stage, name", [(s, n) for s, (_, r) in REGISTRIES.items() for n in r])
def test_every_entry_names_a_class(stage, name):
    key, registry = REGISTRIES[stage]
    module, attr = registry[name].factory.split(":")
    assert isinstance(getattr(importlib.import_module(module), attr), type)
    assert registry[name].gpu == (name in ("sam", "vllm"))  # the model-based backends want a GPU


def test_an_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match=r"masks.parser: unknown parser 'sam2' \(available: landmarks, sam\)"):
        backend_of("masks", {"parser": "sam2"})
