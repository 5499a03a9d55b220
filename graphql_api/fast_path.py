"""The original clients' two subscriptions, `get_account` and `money_transfer`, answered without strawberry's
executor: the same operation is called and the same frame sent (a differential test holds the two roads to the
same bytes), at about half the web process's CPU per transfer.

A document is planned once: it must be valid, hold one subscription of one of the two fields, and ask only for
fields of its result. Its variables must then be of exactly the declared types; anything else (a float for an
Int, a missing variable, a second operation, a fragment) goes strawberry's road, which answers it as before.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    parse,
    print_ast,
    specified_rules,
    validate,
    value_from_ast_untyped,
)

from graphql_api import operations
from graphql_api.limits import MAX_TOKENS, RULES
from graphql_api.metrics import OPERATIONS

logger = logging.getLogger(__name__)

INT_RANGE = range(-(2**31), 2**31)  # GraphQL's Int


def _is(declared: str, value: object) -> bool:
    """Whether `value`, read from JSON, is a `declared` GraphQL type as strawberry would take it, unchanged."""
    if value is None:
        return not declared.endswith("!")
    if declared.rstrip("!") == "String":
        return isinstance(value, str)
    return declared.rstrip("!") == "Int" and type(value) is int and value in INT_RANGE


@dataclass(frozen=True)
class Field:
    """A root field the fast path answers: how to call its operation and what its result type is called."""

    call: Callable[..., Awaitable[Any]]
    type_name: str
    results: frozenset[str]
    renamed: tuple[tuple[str, str], ...] = ()  # GraphQL argument -> the operation's keyword


FIELDS = {
    "get_account": Field(operations.get_account, "AccountResult", frozenset({"iban", "token", "reason"})),
    "money_transfer": Field(
        operations.money_transfer,
        "MoneyTransferResult",
        frozenset({"uuid", "success", "reason"}),
        (("uuid", "uuid_"), ("from", "from_")),
    ),
}


@dataclass(frozen=True)
class Plan:
    key: str  # the root field's name in the answer (its alias, if it has one)
    field: str
    literals: tuple[tuple[str, Any], ...]  # argument -> value written in the document
    variables: tuple[tuple[str, str, str], ...]  # argument -> (variable, its declared type)
    selection: tuple[tuple[str, str], ...]  # (key in the answer, field of the result), in the document's order


@lru_cache(maxsize=256)
def plan(query: str, operation_name: str | None) -> Plan | None:
    """How to answer `query` without strawberry, or None when it is not one of the two plain subscriptions."""
    from graphql_api.schema import schema  # the schema imports the resolvers, which may import this

    try:
        document = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return None
    if len(document.definitions) != 1 or validate(schema._schema, document, [*specified_rules, *RULES]):
        return None
    [operation] = document.definitions
    if not isinstance(operation, OperationDefinitionNode) or operation.operation != OperationType.SUBSCRIPTION:
        return None
    if operation_name is not None and (operation.name is None or operation.name.value != operation_name):
        return None
    if operation.directives or len(operation.selection_set.selections) != 1:
        return None
    [root] = operation.selection_set.selections
    if not isinstance(root, FieldNode) or root.directives or root.name.value not in FIELDS:
        return None
    definitions = operation.variable_definitions or ()
    declared = {d.variable.name.value: print_ast(d.type) for d in definitions}
    if any(d.default_value is not None or d.directives for d in definitions):
        return None
    literals, variables = [], []
    for argument in root.arguments or ():
        if isinstance(argument.value, VariableNode):
            name = argument.value.name.value
            variables.append((argument.name.value, name, declared[name]))
        else:
            literals.append((argument.name.value, value_from_ast_untyped(argument.value)))
    selection = []
    for node in root.selection_set.selections if root.selection_set else ():
        if not isinstance(node, FieldNode) or node.directives or node.selection_set:
            return None
        selection.append(((node.alias or node.name).value, node.name.value))
    key = (root.alias or root.name).value
    return Plan(key, root.name.value, tuple(literals), tuple(variables), tuple(selection))


def answer_for(query: object, operation_name: object, variables: object) -> Callable[[], Awaitable[dict]] | None:
    """The fast road's answer to a `start` message (a coroutine function giving the frame's `data`), or None for
    strawberry's road."""
    if not (isinstance(query, str) and isinstance(operation_name, str | None)):
        return None
    if not any(name in query for name in FIELDS):  # most other documents are not parsed twice
        return None
    if variables is None:
        variables = {}
    if not isinstance(variables, dict):
        return None
    planned = plan(query, operation_name)
    if planned is None:
        return None
    arguments = dict(planned.literals)
    for argument, variable, declared in planned.variables:
        if variable not in variables and not declared.endswith("!"):
            continue  # not given: the argument's default, as if the document had left it out
        if variable not in variables or not _is(declared, variables[variable]):
            return None
        arguments[argument] = variables[variable]
    field = FIELDS[planned.field]
    renamed = dict(field.renamed)
    keywords = {renamed.get(name, name): value for name, value in arguments.items()}

    async def answer() -> dict:
        result = await field.call(**keywords)
        OPERATIONS.labels(planned.field, "ok").inc()
        return {planned.key: {key: _value(result, name, field) for key, name in planned.selection}}

    return answer


def _value(result: Any, name: str, field: Field) -> Any:
    return field.type_name if name == "__typename" else getattr(result, name)
