"""The peer: the same job as `verity generate` with openai.AsyncOpenAI + asyncio.

One chat completion per task, at most CONCURRENCY in flight (an asyncio.Semaphore), every
result written as a JSON line (task id, text, finish reason, usage), like verity's output.
Usage: peer_openai.py TASKS.jsonl OUT.jsonl --base-url URL --model M --concurrency C
"""

import argparse
import asyncio
import json

import openai

try:  # openai >= 3 ships on httpx2
    import httpx2 as httpx
except ImportError:
    import httpx


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("tasks")
    p.add_argument("out")
    p.add_argument("--base-url", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--concurrency", type=int, default=64)
    a = p.parse_args()
    with open(a.tasks) as f:
        tasks = [json.loads(line) for line in f]
    client = openai.AsyncOpenAI(
        base_url=a.base_url,
        api_key="none",
        max_retries=6,
        http_client=openai.DefaultAsyncHttpxClient(
            limits=httpx.Limits(
                max_connections=a.concurrency, max_keepalive_connections=a.concurrency
            )
        ),
    )
    gate = asyncio.Semaphore(a.concurrency)

    async def one(i: int, task: dict) -> dict:
        async with gate:
            r = await client.chat.completions.create(
                model=a.model,
                messages=[{"role": "user", "content": task["question"]}],
                temperature=0.7,
                max_tokens=64,
                seed=i,
            )
        c = r.choices[0]
        return {
            "id": i,
            "text": c.message.content,
            "finish_reason": c.finish_reason,
            "usage": r.usage.model_dump() if r.usage else None,
        }

    results = await asyncio.gather(*(one(i, t) for i, t in enumerate(tasks)))
    with open(a.out, "w") as f:
        for r in results:
            f.write(json.dumps(r) + "\n")


asyncio.run(main())
