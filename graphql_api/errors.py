"""What a GraphQL client may read of an error: its own mistakes, yes; our internals, never."""

from __future__ import annotations

import logging
import uuid

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

logger = logging.getLogger(__name__)


class ClientError(ValueError):
    """A mistake in the request that the client should read about, e.g. a malformed uuid."""


def is_internal(error: GraphQLError) -> bool:
    """Errors raised by our code or a dependency (a database, the registry) while resolving a field are
    internal; syntax, validation (a literal no Int can hold, say) and `ClientError`s are the client's. Only
    an error of a field has the field's path: one without is the request's own."""
    return (
        error.path is not None
        and error.original_error is not None
        and not isinstance(error.original_error, ClientError | GraphQLError)
    )


def could_not_run(response: dict) -> bool:
    """A formatted response with no data and only errors of the request itself (none has a field's path)."""
    errors = response.get("errors") or []
    return response.get("data") is None and bool(errors) and not any(error.get("path") for error in errors)


class MaskInternalErrors(MaskErrors):
    """Tell the client only a reference; log the error under the same reference for whoever operates us."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_internal)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        reference = uuid.uuid4().hex[:12]
        logger.error("GraphQL error, reference %s: %s", reference, error.message, exc_info=error.original_error)
        self.error_message = f"internal error (reference {reference})"
        return super().anonymise_error(error)


def log_errors(errors: list[GraphQLError]) -> None:
    """One line per error a client made; our own errors are logged in full when they are masked."""
    for error in errors:
        if not is_internal(error):
            logger.info("GraphQL request refused: %s", error.message[:300])
