"""Annotations every service's HTTP API shares: the service runtime and page parameters."""

from typing import Annotated

from fastapi import Depends, Query

from services.eventing.runtime import ServiceRuntime, runtime_of

Runtime = Annotated[ServiceRuntime, Depends(runtime_of)]
"""The runtime (store, relay, consumer) of the service answering the request."""

Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Offset = Annotated[int, Query(ge=0, description="Rows to skip.")]
