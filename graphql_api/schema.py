"""The GraphQL schema: the original's QueryRoot and SubscriptionRoot, plus MutationRoot."""

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, ParserCache, QueryDepthLimiter, ValidationCache
from strawberry.schema.config import StrawberryConfig

from graphql_api.mutations import MutationRoot
from graphql_api.queries import QueryRoot
from graphql_api.subscriptions import SubscriptionRoot

schema = strawberry.Schema(
    query=QueryRoot,
    mutation=MutationRoot,
    subscription=SubscriptionRoot,
    config=StrawberryConfig(auto_camel_case=False),  # the original's names are snake_case
    extensions=[
        # Without the two caches graphql-core parses and validates every operation again (~5 ms each).
        # Factories, as strawberry asks: an extension per request; the caches themselves are shared.
        lambda: ParserCache(maxsize=1000),
        lambda: ValidationCache(maxsize=1000),
        lambda: QueryDepthLimiter(max_depth=8),
        lambda: MaxTokensLimiter(max_token_count=2000),
        lambda: MaxAliasesLimiter(max_alias_count=20),
    ],
)
