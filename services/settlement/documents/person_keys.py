"""Data keys of persons, fetched from the survey registry when a report needs a name; kept in memory only.

Settlement is entitled to personal data (附件3 prints names, ID numbers, phones and addresses), so the
registry releases persons' keys to settlement's bearer token, up to 500 in one request
(``PersonKeys.prefetch`` before a document; one by one on a miss). Keys never touch settlement's
database; they live in this cache for a few minutes at most, and a person's key is dropped as soon as
their ``survey.person_forgotten`` is seen. Without a token (or a registry that will not answer) names
read ``（不可用）``; a destroyed key reads ``（已删除）``. Money never depends on either.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from rehab_contracts.sealed import REDACTED, UNAVAILABLE, DataKey

from kernel.deployment import load_deployment
from kernel.settings import RehabSettings

log = logging.getLogger(__name__)

DEFAULT_SURVEY_URL = f"http://127.0.0.1:{load_deployment().spec('survey').port}"
KEEP_SECONDS = 300.0
BATCH_SIZE = 500
"""Persons per batch request: the registry's maximum (services/survey/key_release.py)."""
BATCH_PATH = "/persons/data-keys:batch"


class KeySource(Protocol):
    """Where keys come from; a source may also offer ``fetch_many(person_ids)`` (one answer per id)."""

    def fetch(self, person_id: str) -> DataKey | str:
        """The person's key, or the marker their fields read instead (REDACTED or UNAVAILABLE)."""
        ...


@dataclass(frozen=True)
class SurveyKeyClient:
    """Asks the registry (``POST /persons/data-keys:batch``, ``GET /persons/{id}/data-key``) with a token."""

    http: httpx.Client
    token: str

    @classmethod
    def to(cls, base_url: str, token: str, timeout: float = 5.0) -> SurveyKeyClient:
        return cls(httpx.Client(base_url=base_url, timeout=timeout), token)

    def fetch_many(self, person_ids: Sequence[str]) -> dict[str, DataKey | str]:
        found: dict[str, DataKey | str] = {}
        for start in range(0, len(person_ids), BATCH_SIZE):
            found |= self._fetch_batch(person_ids[start : start + BATCH_SIZE])
        return found

    def _fetch_batch(self, person_ids: Sequence[str]) -> dict[str, DataKey | str]:
        unavailable: dict[str, DataKey | str] = dict.fromkeys(person_ids, UNAVAILABLE)
        try:
            response = self.http.post(
                BATCH_PATH,
                json={"person_ids": list(person_ids)},
                headers={"Authorization": f"Bearer {self.token}"},
            )
        except httpx.HTTPError as error:
            log.warning("data keys of %d persons not fetched: %s", len(person_ids), type(error).__name__)
            return unavailable
        if response.status_code in (404, 405):  # a registry older than batch release: ask one by one
            return {person_id: self.fetch(person_id) for person_id in person_ids}
        if response.status_code != 200:
            log.warning("data keys of %d persons refused: HTTP %s", len(person_ids), response.status_code)
            return unavailable
        try:
            return unavailable | _released(response.json())
        except (ValueError, KeyError, TypeError):
            log.warning("data keys of %d persons: malformed answer", len(person_ids))
            return unavailable

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


def _released(body: Any) -> dict[str, DataKey | str]:
    """The keys and REDACTED markers of a batch answer; persons it does not name stay unavailable."""
    found: dict[str, DataKey | str] = {
        str(released["person_id"]): DataKey.from_text(str(released["key_id"]), str(released["key"]))
        for released in body["keys"]
    }
    return found | dict.fromkeys((str(person_id) for person_id in body["forgotten"]), REDACTED)


class PersonKeySettings(RehabSettings):
    """How settlement asks survey for persons' data keys."""

    data_key_token: str = ""
    """``REHAB_DATA_KEY_TOKEN``: settlement's token for survey's key release; none: no keys."""
    survey_url: str = DEFAULT_SURVEY_URL
    """``REHAB_SURVEY_URL``: survey's API; default its port on this machine."""


@dataclass
class PersonKeys:
    """In-memory cache of released keys; a miss asks the source (none configured: every key unavailable)."""

    source: KeySource | None = None
    keep_seconds: float = KEEP_SECONDS
    clock: Callable[[], float] = time.monotonic
    _cached: dict[str, tuple[DataKey, float]] = field(default_factory=dict, repr=False)
    _prefetched_markers: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_environment(cls) -> PersonKeys:
        """``REHAB_DATA_KEY_TOKEN`` (settlement's token) and ``REHAB_SURVEY_URL``; no token: no keys."""
        settings = PersonKeySettings()
        token = settings.data_key_token.strip()
        if not token:
            return cls()
        return cls(_survey_client(settings.survey_url, token))

    def prefetch(self, person_ids: Iterable[str]) -> None:
        """Fetch the keys of all these persons not cached, in batches, before a document asks one by one.

        A marker answered here (forgotten, unavailable) serves the next ``key_for`` of that person
        once, so a document asks nobody twice; only keys are cached for ``keep_seconds``.
        """
        self._prefetched_markers.clear()  # answers of an earlier document are not this one's
        missing = [person_id for person_id in dict.fromkeys(person_ids) if self._fresh(person_id) is None]
        if not missing or self.source is None:
            return
        fetch_many = getattr(self.source, "fetch_many", None)
        found = fetch_many(missing) if fetch_many is not None else {p: self.source.fetch(p) for p in missing}
        now = self.clock()
        for person_id, answer in found.items():
            if isinstance(answer, DataKey):
                self._cached[person_id] = (answer, now)
            else:
                self._prefetched_markers[person_id] = answer

    def key_for(self, person_id: str) -> DataKey | str:
        """The person's key, or the marker their personal fields read instead."""
        cached = self._fresh(person_id)
        if cached is not None:
            return cached
        self._cached.pop(person_id, None)
        if person_id in self._prefetched_markers:
            return self._prefetched_markers.pop(person_id)
        if self.source is None:
            return UNAVAILABLE
        found = self.source.fetch(person_id)
        if isinstance(found, DataKey):
            self._cached[person_id] = (found, self.clock())
        return found

    def _fresh(self, person_id: str) -> DataKey | None:
        cached = self._cached.get(person_id)
        if cached is not None and self.clock() - cached[1] < self.keep_seconds:
            return cached[0]
        return None

    def drop(self, person_id: str) -> None:
        """Forget a person's key (on ``survey.person_forgotten``)."""
        self._cached.pop(person_id, None)
        self._prefetched_markers.pop(person_id, None)

    def holds(self, person_id: str) -> bool:
        return person_id in self._cached


@functools.cache
def _survey_client(base_url: str, token: str) -> SurveyKeyClient:
    """One client (and its connection pool) per survey and token for the process, not one per document."""
    return SurveyKeyClient.to(base_url, token)
