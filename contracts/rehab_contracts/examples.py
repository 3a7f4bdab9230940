"""Example payloads built from the first example of every field, for tests and documentation."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

Model = TypeVar("Model", bound=BaseModel)


def example_payload(model: type[Model]) -> Model:
    """An instance of ``model`` whose fields hold their first documented example.

    Fields without examples keep their defaults; raises ValidationError when the examples of a
    model contradict its own rules (a test keeps them honest).
    """
    values = {name: field.examples[0] for name, field in model.model_fields.items() if field.examples}
    return model.model_validate(values)
