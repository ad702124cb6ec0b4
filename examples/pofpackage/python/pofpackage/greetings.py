"""Pure Python beside the Rust extension module, using package data."""

from importlib.resources import files

from . import foo


def greet(name: str) -> str:
    """The extension's greeting, in the template shipped as package data."""
    template = files(__package__).joinpath("greeting.txt").read_text().strip()
    return template.format(hello=foo.hello(), name=name)
