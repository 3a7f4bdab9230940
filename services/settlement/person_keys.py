"""Data keys of persons, fetched from the survey registry when a report needs a name; kept in memory only.

Settlement is entitled to personal data (附件3 prints names, ID numbers, phones and addresses), so the
registry releases each person's key to settlement's bearer token. Keys never touch settlement's
database; they live in this cache for a few minutes at most, and a person's key is dropped as soon as
their ``survey.person_forgotten`` is seen. Without a token (or a registry that will not answer) names
read ``（不可用）``; a destroyed key reads ``（已删除）``. Money never depends on either.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import httpx
from rehab_contracts.sealed import REDACTED, UNAVAILABLE, DataKey

from services.eventing.runtime import SERVICE_PORTS

log = logging.getLogger(__name__)

DEFAULT_SURVEY_URL = f"http://127.0.0.1:{SERVICE_PORTS['survey']}"
KEEP_SECONDS = 300.0


class KeySource(Protocol):
    def fetch(self, person_id: str) -> DataKey | str:
        """The person's key, or the marker their fields read instead (REDACTED or UNAVAILABLE)."""
        ...


@dataclass(frozen=True)
class SurveyKeyClient:
    """Asks the registry (``GET /persons/{id}/data-key``) with settlement's bearer token."""

    http: httpx.Client
    token: str

    @classmethod
    def to(cls, base_url: str, token: str, timeout: float = 5.0) -> SurveyKeyClient:
        return cls(httpx.Client(base_url=base_url, timeout=timeout), token)

    def fetch(self, person_id: str) -> DataKey | str:
        try:
            response = self.http.get(
                f"/persons/{person_id}/data-key", headers={"Authorization": f"Bearer {self.token}"}
            )
        except httpx.HTTPError as error:
            log.warning("data key of person %s not fetched: %s", person_id, type(error).__name__)
            return UNAVAILABLE
        if response.status_code == 410:
            return REDACTED
        if response.status_code != 200:
            log.warning("data key of person %s refused: HTTP %s", person_id, response.status_code)
            return UNAVAILABLE
        try:
            body = response.json()
            return DataKey.from_text(str(body["key_id"]), str(body["key"]))
        except (ValueError, KeyError, TypeError):
            log.warning("data key of person %s: malformed answer", person_id)
            return UNAVAILABLE


@dataclass
class PersonKeys:
    """In-memory cache of released keys; a miss asks the source (none configured: every key unavailable)."""

    source: KeySource | None = None
    keep_seconds: float = KEEP_SECONDS
    clock: Callable[[], float] = time.monotonic
    _cached: dict[str, tuple[DataKey, float]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_environment(cls) -> PersonKeys:
        """``REHAB_DATA_KEY_TOKEN`` (settlement's token) and ``REHAB_SURVEY_URL``; no token: no keys."""
        token = os.environ.get("REHAB_DATA_KEY_TOKEN", "").strip()
        if not token:
            return cls()
        return cls(SurveyKeyClient.to(os.environ.get("REHAB_SURVEY_URL", DEFAULT_SURVEY_URL), token))

    def key_for(self, person_id: str) -> DataKey | str:
        """The person's key, or the marker their personal fields read instead."""
        cached = self._cached.get(person_id)
        if cached is not None and self.clock() - cached[1] < self.keep_seconds:
            return cached[0]
        self._cached.pop(person_id, None)
        if self.source is None:
            return UNAVAILABLE
        found = self.source.fetch(person_id)
        if isinstance(found, DataKey):
            self._cached[person_id] = (found, self.clock())
        return found

    def drop(self, person_id: str) -> None:
        """Forget a person's key (on ``survey.person_forgotten``)."""
        self._cached.pop(person_id, None)

    def holds(self, person_id: str) -> bool:
        return person_id in self._cached
