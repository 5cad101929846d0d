"""Derive function-call test cases from the rllm LeetCode `check(candidate)` tests.

Input:  rllm_leetcode_test.json.gz (agentica-project/rllm, rllm/data/test/code/leetcode.json).
Output: rllm_leetcode_function_call.jsonl.gz, one row per problem:
        {"index", "entry_point", "cases": [{"input": {kwarg: value}, "output": value}], "solution"}
Each `assert candidate(k1=v1, ...) == expected` with literal arguments becomes one case; rows with
any other statement are skipped. Run: python3 make_leetcode_function_call.py
"""
import ast
import gzip
import json

rows = json.load(gzip.open("rllm_leetcode_test.json.gz"))
out = []
for index, row in enumerate(rows):
    code = row["tests"]["functional"]
    tree = ast.parse(code)
    check = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"]
    call_line = tree.body[-1]
    entry = call_line.value.args[0].attr
    cases = []
    ok = bool(check)
    for statement in check[0].body if check else []:
        test = getattr(statement, "test", None)
        if not (isinstance(statement, ast.Assert) and isinstance(test, ast.Compare)
                and isinstance(test.left, ast.Call) and not test.left.args
                and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
            ok = False
            break
        try:
            kwargs = {k.arg: ast.literal_eval(k.value) for k in test.left.keywords}
            expected = ast.literal_eval(test.comparators[0])
            json.dumps([kwargs, expected])
        except Exception:
            ok = False
            break
        cases.append({"input": kwargs, "output": expected})
    if ok and cases:
        out.append({"index": index, "entry_point": entry, "cases": cases, "solution": row["solutions"]})
with gzip.open("rllm_leetcode_function_call.jsonl.gz", "wt") as handle:
    for item in out:
        handle.write(json.dumps(item) + "\n")
print(len(out), "of", len(rows))
