"""Pure Python beside the Rust extension modules, using package data."""

from importlib.resources import files

from . import bar, foo


def greet(name: str, loud: bool = False) -> str:
    """The extension's greeting, in the template shipped as package data
    (shouted by the other extension module if `loud`)."""
    template = files(__package__).joinpath("greeting.txt").read_text().strip()
    text = template.format(hello=foo.hello(), name=name)
    return bar.shout(text) if loud else text
