"""The subset of CEL (Common Expression Language) that Workload Identity providers are written in.

Attribute mappings (`assertion.sub`, `assertion.repository + "@" + assertion.ref`) and attribute
conditions (`assertion.repository == "owner/repo" && attribute.ref.startsWith("refs/heads/")`) use
field paths, string literals, `+`, `==`, `!=`, `in [...]`, `&&`, `||`, `!`, parentheses, `true`,
`false` and `.startsWith(...)`. Anything else is refused when the provider is created (Google would
accept more of CEL; the emulator says so instead of guessing).

    compile_expression("assertion.sub")({"assertion": {"sub": "repo:o/r"}}) == "repo:o/r"
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Evaluator = Callable[[dict[str, Any]], Any]

_TOKEN = re.compile(
    r"\s*(?:(?P<string>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')|(?P<op>==|!=|&&|\|\||[()\[\],.+!])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*))"
)


class CelError(ValueError):
    """The expression is not in the supported subset, or is malformed."""


def _tokens(text: str, pattern: re.Pattern[str] = _TOKEN) -> list[str]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = pattern.match(text, pos)
        if match is None or match.end() == pos:
            raise CelError(f"unsupported syntax at {text[pos : pos + 20]!r}")
        tokens.append(match.group(match.lastgroup or 0))
        pos = match.end()
    return tokens


class _Parser:
    """Recursive descent: or > and > equality/in > sum > unary > primary (with .field and .startsWith)."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise CelError(f"expected {expected or 'more'} but found {token or 'the end'}")
        self.pos += 1
        return token

    def parse(self) -> Evaluator:
        evaluator = self.disjunction()
        if self.peek() is not None:
            raise CelError(f"unexpected {self.peek()!r}")
        return evaluator

    def disjunction(self) -> Evaluator:
        left = self.conjunction()
        while self.peek() == "||":
            self.take()
            left = _or(left, self.conjunction())
        return left

    def conjunction(self) -> Evaluator:
        left = self.comparison()
        while self.peek() == "&&":
            self.take()
            left = _and(left, self.comparison())
        return left

    def comparison(self) -> Evaluator:
        left = self.sum()
        op = self.peek()
        if op in ("==", "!="):
            self.take()
            right = self.sum()
            equal = op == "=="
            return lambda env: (left(env) == right(env)) is equal
        if op == "in":
            self.take()
            right = self.sum()
            return lambda env: left(env) in (right(env) or ())
        return left

    def sum(self) -> Evaluator:
        left = self.unary()
        while self.peek() == "+":
            self.take()
            left = _concat(left, self.unary())
        return left

    def unary(self) -> Evaluator:
        if self.peek() == "!":
            self.take()
            operand = self.unary()
            return lambda env: not operand(env)
        return self.postfix(self.primary())

    def primary(self) -> Evaluator:
        token = self.take()
        if token == "(":
            inner = self.disjunction()
            self.take(")")
            return inner
        if token == "[":
            items = [] if self.peek() == "]" else self.items()
            self.take("]")
            return lambda env: [item(env) for item in items]
        if token[0] in "\"'":
            value = re.sub(r"\\(.)", r"\1", token[1:-1])
            return lambda env: value
        if token in ("true", "false"):
            return lambda env: token == "true"
        if token[0].isalpha() or token[0] == "_":
            return lambda env: env.get(token)
        raise CelError(f"unexpected {token!r}")

    def items(self) -> list[Evaluator]:
        items = [self.disjunction()]
        while self.peek() == ",":
            self.take()
            items.append(self.disjunction())
        return items

    def postfix(self, target: Evaluator) -> Evaluator:
        while self.peek() == ".":
            self.take()
            name = self.take()
            if self.peek() == "(":
                if name != "startsWith":
                    raise CelError(f"function {name}() is not supported by the emulator")
                self.take("(")
                prefix = self.disjunction()
                self.take(")")
                target = _starts_with(target, prefix)
            else:
                target = _field(target, name)
        return target


def _field(target: Evaluator, name: str) -> Evaluator:
    def get(env: dict[str, Any]) -> Any:
        value = target(env)
        return value.get(name) if isinstance(value, dict) else None

    return get


def _starts_with(target: Evaluator, prefix: Evaluator) -> Evaluator:
    return lambda env: isinstance(target(env), str) and target(env).startswith(str(prefix(env)))


def _concat(left: Evaluator, right: Evaluator) -> Evaluator:
    def concat(env: dict[str, Any]) -> Any:
        a, b = left(env), right(env)
        return None if a is None or b is None else f"{a}{b}"  # CEL: no such key is an error

    return concat


def _and(left: Evaluator, right: Evaluator) -> Evaluator:
    return lambda env: bool(left(env)) and bool(right(env))


def _or(left: Evaluator, right: Evaluator) -> Evaluator:
    return lambda env: bool(left(env)) or bool(right(env))


def compile_expression(text: str) -> Evaluator:
    """The expression as a function of its variables (`assertion`, `attribute`, `google`)."""
    return _Parser(text).parse()


def map_attributes(mapping: dict[str, str], claims: dict[str, Any]) -> dict[str, str]:
    """Attribute name (google.subject, attribute.repository) -> value, for the claims of a subject token.
    A mapping whose claim is missing yields no attribute, as Google's does."""
    out = {}
    for name, expression in mapping.items():
        value = compile_expression(expression)({"assertion": claims})
        if value is not None:
            out[name] = str(value)
    return out


def condition_holds(condition: str, claims: dict[str, Any], attributes: dict[str, str]) -> bool:
    if not condition:
        return True
    env: dict[str, Any] = {"assertion": claims, "attribute": {}, "google": {}}
    for name, value in attributes.items():
        scope, _, key = name.partition(".")
        env[scope][key] = value
    return compile_expression(condition)(env) is True


# -- syntax of full CEL (IAM conditions) -----------------------------------------------------------------
_FULL_TOKEN = re.compile(
    r"\s*(?:(?P<string>[bB]?[rR]?(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'))"
    r"|(?P<number>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?[uU]?)"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[<>()\[\]{},.+\-*/%!?:])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*))"
)
_RELATIONS = ("==", "!=", "<", "<=", ">", ">=", "in")


def check_syntax(text: str) -> None:
    """Raise CelError unless `text` is a syntactically valid CEL expression (IAM conditions may use all of
    CEL: `request.time < timestamp("2027-01-01T00:00:00Z")`, `resource.name.startsWith(...)`, ...). Only the
    syntax is checked: the emulator evaluates no IAM condition."""
    if not text.strip():
        raise CelError("the expression is empty")
    checker = _Syntax(_tokens(text, _FULL_TOKEN))
    checker.expression()
    if checker.peek() is not None:
        raise CelError(f"unexpected {checker.peek()!r}")


class _Syntax(_Parser):
    """CEL's grammar (conditional > or > and > relation > sum > product > unary > member), checked only."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def expression(self) -> None:
        self.binary(("||",), self.conjunctions)
        if self.peek() == "?":
            self.take()
            self.expression()
            self.take(":")
            self.expression()

    def conjunctions(self) -> None:
        self.binary(("&&",), self.relations)

    def relations(self) -> None:
        self.binary(_RELATIONS, self.sums)

    def sums(self) -> None:
        self.binary(("+", "-"), self.products)

    def products(self) -> None:
        self.binary(("*", "/", "%"), self.operand)

    def binary(self, operators: tuple[str, ...], operand: Callable[[], None]) -> None:
        operand()
        while self.peek() in operators:
            self.take()
            operand()

    def operand(self) -> None:
        while self.peek() in ("!", "-"):
            self.take()
        self.atom()
        while self.peek() in (".", "["):
            if self.take() == "[":
                self.expression()
                self.take("]")
                continue
            self.name()
            if self.peek() == "(":
                self.arguments("(", ")")

    def atom(self) -> None:
        token = self.take()
        if token == "(":
            self.expression()
            self.take(")")
        elif token in ("[", "{"):
            self.pos -= 1
            self.arguments(token, "]" if token == "[" else "}")
        elif token[0].isalpha() or token[0] == "_":
            if token not in ("true", "false", "null") and self.peek() == "(":
                self.arguments("(", ")")
        elif not (token[0].isdigit() or token[0] in "\"'bBrR"):
            raise CelError(f"unexpected {token!r}")

    def arguments(self, opening: str, closing: str) -> None:
        self.take(opening)
        while self.peek() != closing:
            self.expression()
            if opening == "{":
                self.take(":")
                self.expression()
            if self.peek() != closing:
                self.take(",")
        self.take(closing)

    def name(self) -> None:
        token = self.take()
        if not (token[0].isalpha() or token[0] == "_"):
            raise CelError(f"expected a field name but found {token!r}")
