#!/usr/bin/env python3
"""Build verity's builtin benchmark sets from the shared data snapshot.

Usage: python3 build.py [DATA_DIR]   (default: ../../../../shared/data, i.e. /work/shared/data)

Writes one `<name>.jsonl.zst` per benchmark next to this script: one JSON object per item,
`{"id", "problem"[, "answer"][, "extra"]}`, in the source's order. `problem` is the text a
training record would copy; `extra` is more benchmark text matched by n-grams only (MBPP test
asserts); `answer` is the gold answer when the source has one. Nothing else is kept.
Standard library only; compression through the `zstd` command line tool (level 19).
The sources, commits and licenses are listed in README.md (same order as SOURCES below).
"""
import ast
import gzip
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../../../../shared/data")


def load(path):
    path = os.path.join(DATA, path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        text = f.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = [json.loads(line) for line in text.splitlines() if line.strip()]
    if isinstance(data, dict):
        data = data["examples"]
    return data


def last_boxed(text):
    i = text.rfind("\\boxed")
    if i < 0:
        return None
    j = text.find("{", i)
    if j < 0:
        return None
    depth = 0
    for k in range(j, len(text)):
        if text[k] == "{":
            depth += 1
        elif text[k] == "}":
            depth -= 1
            if depth == 0:
                return text[j + 1 : k]
    return None


def gsm8k():
    for i, row in enumerate(load("gsm8k/test.jsonl")):
        yield {"id": str(i), "problem": row["question"], "answer": row["answer"].split("####")[-1].strip()}


def math500():
    for row in load("math500/test.jsonl"):
        yield {"id": row["unique_id"], "problem": row["problem"], "answer": row["answer"]}


def qwen(name):
    def gen():
        for row in load(f"qwen25-math-eval/{name}/test.jsonl"):
            item = {"id": str(row.get("id", row.get("idx"))), "problem": row.get("problem") or row.get("question")}
            answer = row.get("answer")
            if answer is None and row.get("solution"):
                answer = last_boxed(row["solution"])
            if answer is not None:
                item["answer"] = str(answer)
            yield item
    return gen


def olympiadbench():
    for row in load("qwen25-math-eval/olympiadbench/test.jsonl"):
        problem = row["question"]
        context = row.get("context")
        if context and context != "None":
            problem = context + "\n" + problem
        answer = row.get("final_answer")
        if isinstance(answer, str) and answer.startswith("["):
            try:
                answer = ", ".join(ast.literal_eval(answer))
            except (ValueError, SyntaxError):
                pass
        yield {"id": str(row["id"]), "problem": problem, "answer": str(answer)}


def aime25():
    for row in load("light-r1-aime25/aime25.json"):
        yield {"id": str(row["id"]), "problem": row["problem"], "answer": str(row["answer"])}


def amc22():
    for row in load("deepscaler/test/amc.json"):
        if "/2022_AMC" not in row["url"]:
            continue
        ident = row["url"].rsplit("/", 2)[-2] + "/" + row["url"].rsplit("/", 1)[-1]
        yield {"id": ident, "problem": row["problem"], "answer": str(row["answer"])}


def humaneval():
    for row in load("humaneval/HumanEval.jsonl.gz"):
        yield {"id": row["task_id"], "problem": row["prompt"]}


def mbpp():
    for row in load("mbpp/mbpp.jsonl"):
        tests = row["test_list"]
        if isinstance(tests, str):
            tests = ast.literal_eval(tests)
        yield {"id": str(row["task_id"]), "problem": row["text"], "extra": "\n".join(tests)}


def bbh():
    folder = os.path.join(DATA, "bbh")
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".json"):
            continue
        task = name[: -len(".json")]
        for i, row in enumerate(load(f"bbh/{name}")):
            yield {"id": f"{task}/{i}", "problem": row["input"], "answer": row["target"]}


def rllm(name):
    def gen():
        for i, row in enumerate(load(f"rllm-code/test/{name}")):
            yield {"id": str(i), "problem": row["problem"].strip()}
    return gen


SOURCES = [
    ("gsm8k", gsm8k),
    ("math500", math500),
    ("aime24", qwen("aime24")),
    ("aime25", aime25),
    ("amc22", amc22),
    ("amc23", qwen("amc23")),
    ("minerva", qwen("minerva_math")),
    ("olympiadbench", olympiadbench),
    ("humaneval", humaneval),
    ("mbpp", mbpp),
    ("bbh", bbh),
    ("leetcode", rllm("leetcode.json")),
    ("codeforces", rllm("codeforces.json")),
    ("code_contests", rllm("code_contests.json.gz")),
]


def main():
    for name, gen in SOURCES:
        lines = []
        for item in gen():
            assert item["problem"], (name, item["id"])
            lines.append(json.dumps(item, ensure_ascii=False, separators=(",", ":")))
        raw = ("\n".join(lines) + "\n").encode("utf-8")
        out = os.path.join(HERE, f"{name}.jsonl.zst")
        packed = subprocess.run(["zstd", "-19", "-q", "-c"], input=raw, stdout=subprocess.PIPE, check=True).stdout
        with open(out, "wb") as f:
            f.write(packed)
        print(f"{name}: {len(lines)} items, {len(raw)} bytes -> {len(packed)} bytes")


if __name__ == "__main__":
    main()
