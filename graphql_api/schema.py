"""The GraphQL schema: the original's QueryRoot and SubscriptionRoot, plus MutationRoot."""

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry_django.optimizer import DjangoOptimizerExtension

from graphql_api.errors import MaskInternalErrors, log_errors
from graphql_api.metrics import CountOperations
from graphql_api.mutations import MutationRoot
from graphql_api.queries import QueryRoot
from graphql_api.subscriptions import SubscriptionRoot

# The limiters make a new rule class per instance, and the validation cache is keyed by the rule classes:
# a limiter made per operation would miss the cache every time (it cost the web process 40% of its CPU).
# So their rules are made once, here, and added by one extension per operation.
LIMITS = [*QueryDepthLimiter(max_depth=8).validation_rules, *MaxAliasesLimiter(max_alias_count=20).validation_rules]


class BankSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        log_errors(errors)


schema = BankSchema(
    query=QueryRoot,
    mutation=MutationRoot,
    subscription=SubscriptionRoot,
    config=StrawberryConfig(auto_camel_case=False),  # the original's names are snake_case
    extensions=[
        # Without the two caches graphql-core parses and validates every operation again (~5 ms each).
        # Factories, as strawberry asks: an extension per request; the caches themselves are shared.
        lambda: ParserCache(maxsize=1000),
        lambda: ValidationCache(maxsize=1000),
        lambda: AddValidationRules(LIMITS),
        lambda: MaxTokensLimiter(max_token_count=2000),
        MaskInternalErrors,
        DjangoOptimizerExtension,  # reads only the columns an operation asks for
        CountOperations,
    ],
)
