"""The backend registries: the schema offers exactly their names, every entry names a real class."""

import inspect

import pytest
import yaml

from fineclipper.backends import (
    INTERFACES,
    REGISTRIES,
    backend_class,
    backend_of,
    build_backend,
    check_interface,
    interface_members,
)
from fineclipper.config import SCHEMA


@pytest.mark.parametrize("stage", sorted(REGISTRIES))
def test_the_schema_offers_the_registry(stage):
    key, registry = REGISTRIES[stage]
    schema = yaml.safe_load(SCHEMA.read_text())["properties"][stage]["properties"][key]
    assert set(schema["enum"]) == set(registry) and schema["default"] in registry


@pytest.mark.parametrize("stage, name", [(s, n) for s, (_, r) in REGISTRIES.items() for n in r])
def test_every_entry_names_a_class(stage, name):
    key, registry = REGISTRIES[stage]
    assert isinstance(backend_class(registry[name]), type)
    assert registry[name].gpu == (name in ("sam", "vllm"))  # the model-based backends want a GPU


def test_an_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match=r"masks.parser: unknown parser 'sam2' \(available: landmarks, sam\)"):
        backend_of("masks", {"parser": "sam2"})


def declared(cls: type, name: str) -> bool:
    """Whether a class declares an attribute: a class attribute, a property or an annotation, here or inherited."""
    return any(name in vars(base) or name in vars(base).get("__annotations__", {}) for base in cls.__mro__)


@pytest.mark.parametrize("stage, name", [(s, n) for s, (_, r) in REGISTRIES.items() for n in r])
def test_every_backend_offers_its_stages_interface(stage, name):
    """Each member of the stage's Protocol is on the class; each method takes the Protocol's parameters by the
    same names (a missing or misnamed one fails here, not on the first chunk of a run)."""
    cls, interface = backend_class(REGISTRIES[stage][1][name]), INTERFACES[stage]
    for member in interface_members(interface):
        assert declared(cls, member), f"{cls.__name__} lacks {interface.__name__}.{member}"
        wanted = getattr(interface, member, None)
        if callable(wanted):
            got = getattr(cls, member)
            assert callable(got), f"{cls.__name__}.{member} is not a method"
            assert list(inspect.signature(got).parameters) == list(inspect.signature(wanted).parameters), member
    assert list(inspect.signature(cls.__init__).parameters)[1:2] == ["cfg"]  # built from the stage's section


def test_a_backend_without_its_interface_is_refused():
    """A backend object that lacks a member of its stage's interface is an error naming the member."""
    from fineclipper.describe.landmarks import LandmarkDescriber

    class Unsaid(LandmarkDescriber):  # a describer that cannot say what made its texts
        @property
        def provenance(self):
            raise AttributeError("provenance")

    assert isinstance(build_backend("describe", {"backend": "landmarks"}), LandmarkDescriber)
    with pytest.raises(TypeError, match=r"describe: Unsaid is not a Describer \(it lacks \['provenance'\]\)"):
        check_interface("describe", Unsaid())
