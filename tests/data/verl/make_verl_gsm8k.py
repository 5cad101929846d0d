"""Build verl-style RL parquet rows from the GSM8K sample in this repository.

Reproduces the row shape of verl's `examples/data_preprocess/gsm8k.py` (data_source
"openai/gsm8k", one user message = question + instruction, ability "math",
reward_model {style: "rule", ground_truth: answer after "####" without commas},
extra_info {split, index, answer, question}). Written for verity (no verl code copied).

Input:  ../gsm8k/test.head50.jsonl (first 20 rows)
Output: gsm8k_test.head20.parquet
Run:    /work/venv/bin/python make_verl_gsm8k.py   (needs pyarrow)
"""
import json
import re

import pyarrow as pa
import pyarrow.parquet as pq

INSTRUCTION = 'Let\'s think step by step and output the final answer after "####".'


def extract_solution(text):
    match = re.search(r"#### (\-?[0-9\.\,]+)", text)
    assert match is not None
    return match.group(0).split("#### ")[1].replace(",", "")


rows = []
with open("../gsm8k/test.head50.jsonl", encoding="utf-8") as handle:
    for idx, line in enumerate(handle):
        if idx == 20:
            break
        example = json.loads(line)
        rows.append(
            {
                "data_source": "openai/gsm8k",
                "prompt": [{"role": "user", "content": example["question"] + " " + INSTRUCTION}],
                "ability": "math",
                "reward_model": {"style": "rule", "ground_truth": extract_solution(example["answer"])},
                "extra_info": {
                    "split": "test",
                    "index": idx,
                    "answer": example["answer"],
                    "question": example["question"],
                },
            }
        )
pq.write_table(pa.Table.from_pylist(rows), "gsm8k_test.head20.parquet")
print(len(rows), "rows")
