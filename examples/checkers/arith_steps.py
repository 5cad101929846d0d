#!/usr/bin/env python3
"""Example checker for verity's `command` verifier (protocol verity-command/1).

Reads ONE JSON object on stdin: {"protocol", "task", "attempt", "reference"}.
Prints ONE JSON object on stdout: the verdict.

What it checks:
  * every step of the attempt (attempt.steps[i].text, or the lines of attempt.response) that
    contains an arithmetic equation such as `12 * 7 = 84` is labelled "good" when the equation
    holds and "bad" when it does not; steps without an equation are "neutral";
  * the attempt passes when its final answer (attempt.answer, else the last number of the
    response) equals reference.answer numerically.

Uses only the standard library, no network, no files: it runs inside verity's sandbox.
"""
import ast
import json
import operator
import re
import sys

OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
}
EQUATION = re.compile(r"([0-9][0-9+\-*/(). ]*[0-9)])\s*=\s*(-?[0-9]+(?:\.[0-9]+)?)")
NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def evaluate(node):
    """Evaluate a tiny arithmetic AST (numbers and + - * / ** only)."""
    if isinstance(node, ast.Expression):
        return evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        if isinstance(node.op, ast.Pow) and abs(evaluate(node.right)) > 64:
            raise ValueError("exponent too large")
        return OPERATORS[type(node.op)](evaluate(node.left), evaluate(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in OPERATORS:
        return OPERATORS[type(node.op)](evaluate(node.operand))
    raise ValueError("not arithmetic")


def label_step(text):
    equations = EQUATION.findall(text)
    if not equations:
        return "neutral"
    for left, right in equations:
        try:
            value = evaluate(ast.parse(left, mode="eval"))
        except (SyntaxError, ValueError, ZeroDivisionError, OverflowError):
            return "neutral"
        if abs(value - float(right)) > 1e-9 * max(1.0, abs(value)):
            return "bad"
    return "good"


def as_number(text):
    if text is None:
        return None
    found = NUMBER.findall(str(text).replace(",", ""))
    return float(found[-1]) if found else None


def main():
    request = json.load(sys.stdin)
    attempt = request.get("attempt") or {}
    reference = request.get("reference") or {}
    steps = [step.get("text", "") for step in attempt.get("steps") or []]
    if not steps:
        steps = [line for line in (attempt.get("response") or "").splitlines() if line.strip()]
    labels = [{"index": i, "label": label_step(text)} for i, text in enumerate(steps)]
    answer = as_number(attempt.get("answer")) if attempt.get("answer") else as_number(attempt.get("response"))
    gold = as_number(reference.get("answer"))
    if gold is None:
        print(json.dumps({"verdict": "label", "label": "no_reference",
                          "detail": {"why": "reference.answer is missing"}, "steps": labels}))
        return
    passed = answer is not None and abs(answer - gold) <= 1e-9 * max(1.0, abs(gold))
    bad = sum(1 for item in labels if item["label"] == "bad")
    print(json.dumps({
        "verdict": "pass" if passed else "fail",
        "detail": {"answer": answer, "gold": gold, "bad_steps": bad},
        "steps": labels,
    }))


if __name__ == "__main__":
    main()
