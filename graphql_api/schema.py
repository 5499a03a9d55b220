"""The GraphQL schema: the original's QueryRoot and SubscriptionRoot, plus MutationRoot."""

import strawberry
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry_django.optimizer import DjangoOptimizerExtension

from graphql_api.errors import MaskInternalErrors, log_errors
from graphql_api.limits import MAX_TOKENS, RULES, GuardEachField
from graphql_api.metrics import CountOperations
from graphql_api.mutations import MutationRoot
from graphql_api.queries import QueryRoot
from graphql_api.subscriptions import SubscriptionRoot
from graphql_api.types import LONG, Long


class BankSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        log_errors(errors)


schema = BankSchema(
    query=QueryRoot,
    mutation=MutationRoot,
    subscription=SubscriptionRoot,
    config=StrawberryConfig(auto_camel_case=False, scalar_map={Long: LONG}),  # the original's names are snake_case
    extensions=[
        # Without the two caches graphql-core parses and validates every operation again (~5 ms each).
        # Factories, as strawberry asks: an extension per request; the caches themselves are shared.
        lambda: ParserCache(maxsize=1000),
        lambda: ValidationCache(maxsize=1000),
        lambda: AddValidationRules(RULES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        GuardEachField,
        MaskInternalErrors,
        DjangoOptimizerExtension,  # reads only the columns an operation asks for
        CountOperations,
    ],
)
